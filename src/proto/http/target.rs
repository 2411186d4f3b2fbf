//! Where an HTTP request goes: the URL split into what the client needs (host, port,
//! request target, credentials), with LuaSocket 1.3b's optional "http://" prefix and a
//! clear refusal of schemes sockit does not speak.

use super::head::check_target;
use crate::error::Result;
use crate::proto::{server_url, ServerUrl};
use crate::url::unescape;

/// The default HTTP port.
pub const HTTP_PORT: u16 = 80;

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given (with "http://" added when it had no scheme).
    pub url: String,
    /// The host, without brackets for IPv6 literals.
    pub host: String,
    pub port: u16,
    /// The origin-form request target: path (at least "/"), ";params", "?query".
    pub path: String,
    /// User and password from the URL's userinfo, percent-decoded.
    pub user: Option<String>,
    pub password: Option<String>,
}

fn lossy(s: &str) -> String {
    String::from_utf8_lossy(&unescape(s.as_bytes())).into_owned()
}

impl Target {
    /// Parses an HTTP URL. A URL without "://" is taken as "http://" + URL (LuaSocket
    /// 1.3b's `[http://]host[:port][/path]`). `https` and every other scheme are
    /// `Unsupported` ("unsupported scheme 'https'"); a URL without host is `Invalid`.
    pub fn parse(url: &str) -> Result<Target> {
        let ServerUrl {
            url,
            parts: u,
            host,
            port,
        } = server_url(url, "http", HTTP_PORT)?;
        let mut path = u.path.clone().unwrap_or_default();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if let Some(p) = &u.params {
            path.push(';');
            path.push_str(p);
        }
        if let Some(q) = &u.query {
            path.push('?');
            path.push_str(q);
        }
        check_target(&path)?;
        Ok(Target {
            url,
            host,
            port,
            path,
            user: u.user.as_deref().map(lossy),
            password: u.password.as_deref().map(lossy),
        })
    }

    /// "host[:port]" as the Host header has it (port omitted when 80, IPv6 bracketed).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == HTTP_PORT {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The origin: lower-cased host and port, the key for connection reuse and for
    /// deciding whether credentials may follow a redirect.
    pub fn origin(&self) -> String {
        format!("{}:{}", self.host.to_ascii_lowercase(), self.port)
    }

    /// The absolute-form request target sent to a proxy: "http://host[:port]/path".
    pub fn absolute_form(&self) -> String {
        format!("http://{}{}", self.host_header(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn parses_http_urls() {
        let t = Target::parse("http://diego:ne%40hab@Example.org:8080/a/b;p?q=1#frag").unwrap();
        assert_eq!(t.host, "Example.org");
        assert_eq!(t.port, 8080);
        assert_eq!(t.path, "/a/b;p?q=1");
        assert_eq!(t.user.as_deref(), Some("diego"));
        assert_eq!(t.password.as_deref(), Some("ne@hab"));
        assert_eq!(t.host_header(), "Example.org:8080");
        assert_eq!(t.origin(), "example.org:8080");
        assert_eq!(t.absolute_form(), "http://Example.org:8080/a/b;p?q=1");

        let t = Target::parse("www.example.org").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        assert_eq!(t.url, "http://www.example.org");
        assert_eq!(t.host_header(), "www.example.org");

        let t = Target::parse("localhost:8080/x").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("localhost", 8080));

        let t = Target::parse("HTTP://[::1]:81?x").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.path, "/?x");
        assert_eq!(t.host_header(), "[::1]:81");
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let e = Target::parse("https://example.org/").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.msg.starts_with("unsupported scheme 'https'"), "{}", e.msg);
        assert_eq!(
            Target::parse("ftp://example.org/").unwrap_err().kind,
            ErrorKind::Unsupported
        );
        for bad in [
            "http://",
            "http:///path",
            "http://h:0/",
            "http://h:99999/",
            "",
            "http://h/a b",
        ] {
            assert_eq!(
                Target::parse(bad).unwrap_err().kind,
                ErrorKind::Invalid,
                "{bad:?}"
            );
        }
        assert!(Target::parse("http://h/a\r\nX: y").is_err());
    }
}

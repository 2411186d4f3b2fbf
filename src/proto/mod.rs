//! Protocol clients: the command/reply helper FTP and SMTP share (`tp`), the HTTP/1.1
//! message codec and client (`http`), FTP and SMTP. They run over any [`conn::Transport`]
//! and move bodies through LTN12 sources and sinks.

pub mod conn;
pub mod ftp;
pub mod headers;
pub mod http;
pub mod mail;
pub mod smtp;
pub mod tp;

use crate::error::{Error, ErrorKind, Result};
use crate::url::Url;

/// A server URL split as far as every protocol client needs it.
#[derive(Debug)]
pub(crate) struct ServerUrl {
    /// The URL as given, with "<scheme>://" added when it had no scheme.
    pub url: String,
    /// Its parts.
    pub parts: Url,
    /// The host, not empty (without brackets for IPv6 literals).
    pub host: String,
    /// The port, the default one when the URL names none.
    pub port: u16,
}

/// Parses the URL of a client of `scheme` (lower case) whose default port is
/// `default_port`. A URL without "://" is taken as "<scheme>://" + URL (LuaSocket 1.3b);
/// another scheme is `Unsupported` ("unsupported scheme 'https' in ..."); a URL without
/// host, or with port 0, is `Invalid`.
pub(crate) fn server_url(url: &str, scheme: &str, default_port: u16) -> Result<ServerUrl> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("{scheme}://{url}")
    };
    let parts = Url::parse(&url)?;
    let found = parts.scheme.as_deref().unwrap_or("");
    if !found.eq_ignore_ascii_case(scheme) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("unsupported scheme '{found}' in {url}"),
        ));
    }
    let host = match parts.host.as_deref() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => return Err(Error::invalid(format!("url {url} has no host"))),
    };
    let port = match parts.port.as_deref() {
        None | Some("") => default_port,
        Some(_) => parts
            .port_number()
            .filter(|&p| p != 0)
            .ok_or_else(|| Error::invalid(format!("url {url} has port 0")))?,
    };
    Ok(ServerUrl {
        url,
        parts,
        host,
        port,
    })
}

/// Base64 of `data` (for Basic and SASL PLAIN/LOGIN credentials).
pub(crate) fn base64(data: &[u8]) -> String {
    let mut enc = crate::mime::base64::Base64Encoder::new();
    let mut out = Vec::with_capacity(data.len() / 3 * 4 + 4);
    enc.feed(data, &mut out);
    enc.finish(&mut out);
    String::from_utf8(out).expect("base64 is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        let s = server_url("ftp://u@[::1]:2121/a", "ftp", 21).unwrap();
        assert_eq!(
            (s.url.as_str(), s.host.as_str(), s.port),
            ("ftp://u@[::1]:2121/a", "::1", 2121)
        );
        assert_eq!(s.parts.user.as_deref(), Some("u"));
        let s = server_url("Example.org/x", "http", 80).unwrap();
        assert_eq!(
            (s.url.as_str(), s.host.as_str(), s.port),
            ("http://Example.org/x", "Example.org", 80)
        );
        let s = server_url("HTTP://h:/", "http", 80).unwrap();
        assert_eq!(s.port, 80);
        let e = server_url("https://h/", "http", 80).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert_eq!(e.msg, "unsupported scheme 'https' in https://h/");
        for bad in ["ftp://", "ftp:///x", "ftp://h:0/", "ftp://h:65536/", ""] {
            assert_eq!(
                server_url(bad, "ftp", 21).unwrap_err().kind,
                ErrorKind::Invalid,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base64() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"diego:nehab"), "ZGllZ286bmVoYWI=");
        assert_eq!(super::base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    }
}

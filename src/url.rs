//! URLs: parse, build, resolve relative references, escape, and path segments.
//!
//! This is the strict side, for the C API: `crate::url_luasocket` reads and resolves URLs
//! exactly as LuaSocket 3 does (what the Lua module `socket.url` uses).
//!
//! [`Url::parse`] splits a URL into LuaSocket's fields (`socket.url.parse`), using the
//! grammar `scheme://userinfo@host:port/path;params?query#fragment` with
//! `userinfo = user:password`; the leading `/` belongs to the path, a bracketed IPv6
//! literal host loses its brackets. It gives the same fields as LuaSocket 3 for every
//! well-formed URL, with these differences, all on input LuaSocket mis-handles:
//! - the authority ends at the first `/`, `?` or `#` (RFC 3986), not only at `/`, so
//!   `http://host?q` has host `host` and query `q`;
//! - malformed input is an error instead of a table of odd fields: an empty URL, control
//!   characters, a port that is not decimal or is above 65535, an unbalanced or invalid
//!   bracketed host, a `:`, `[` or `]` in a host that is not bracketed.
//!
//! [`Url::build`] is `socket.url.build`. [`absolute`] follows RFC 3986 section 5.2
//! exactly (LuaSocket 3 differs from the RFC on some of section 5.4's examples).
//! [`escape`], [`unescape`], [`parse_path`] and [`build_path`] are LuaSocket's.

use crate::error::{Error, Result};

/// A URL split into LuaSocket's fields. Absent fields are `None`; a field can be present
/// and empty (`"http://h/?"` has an empty query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Url {
    pub scheme: Option<String>,
    pub authority: Option<String>,
    pub userinfo: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub path: Option<String>,
    pub params: Option<String>,
    pub query: Option<String>,
    pub fragment: Option<String>,
}

/// The names of the fields, in the order of [`Url::field`].
pub const FIELDS: [&str; 11] = [
    "scheme",
    "authority",
    "userinfo",
    "user",
    "password",
    "host",
    "port",
    "path",
    "params",
    "query",
    "fragment",
];

fn bad(url: &str, why: &str) -> Error {
    let shown: String = url.chars().take(80).collect();
    Error::invalid(format!("invalid url {shown:?}: {why}"))
}

/// Splits off a scheme: an ASCII letter or digit, then letters, digits, `+`, `-`, `.`,
/// then `:` (LuaSocket's `^[%w][%w%+%-%.]*:`).
fn split_scheme(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    if b.first().is_some_and(|c| c.is_ascii_alphanumeric()) {
        let end = b
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.'))
            .unwrap_or(b.len());
        if b.get(end) == Some(&b':') {
            return (Some(&s[..end]), &s[end + 1..]);
        }
    }
    (None, s)
}

/// Checks a port: empty or decimal digits with a value up to 65535.
fn check_port(url: &str, port: &str) -> Result<()> {
    if port.is_empty() {
        return Ok(());
    }
    if !port.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad(url, "port is not a number"));
    }
    let digits = port.trim_start_matches('0');
    if digits.len() > 5 || digits.parse::<u32>().unwrap_or(0) > 65535 {
        return Err(bad(url, "port is above 65535"));
    }
    Ok(())
}

/// Checks what was inside the brackets of an IP literal: an IPv6 address (with an
/// optional zone) or an IPvFuture.
fn check_ip_literal(url: &str, inner: &str) -> Result<()> {
    let ok_chars = inner
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b":.%-_~".contains(&c));
    let future = inner.starts_with(['v', 'V']) && inner.contains('.');
    if inner.is_empty() || !ok_chars || !(inner.contains(':') || future) {
        return Err(bad(url, "invalid IP literal in brackets"));
    }
    Ok(())
}

impl Url {
    /// Parses `url`. Errors (kind `Invalid`) on malformed input; never panics.
    pub fn parse(url: &str) -> Result<Url> {
        if url.is_empty() {
            return Err(Error::invalid("invalid url"));
        }
        if url.bytes().any(|c| c < 0x20 || c == 0x7f) {
            return Err(bad(url, "control character"));
        }
        let mut u = Url::default();
        let (scheme, mut rest) = split_scheme(url);
        u.scheme = scheme.map(str::to_string);
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            u.authority = Some(after[..end].to_string());
            rest = &after[end..];
        }
        if let Some(i) = rest.find('#') {
            u.fragment = Some(rest[i + 1..].to_string());
            rest = &rest[..i];
        }
        if let Some(i) = rest.find('?') {
            u.query = Some(rest[i + 1..].to_string());
            rest = &rest[..i];
        }
        if let Some(i) = rest.find(';') {
            u.params = Some(rest[i + 1..].to_string());
            rest = &rest[..i];
        }
        if !rest.is_empty() {
            u.path = Some(rest.to_string());
        }
        let Some(authority) = u.authority.clone() else {
            return Ok(u);
        };
        let mut hostport = authority.as_str();
        if let Some(i) = hostport.find('@') {
            u.userinfo = Some(hostport[..i].to_string());
            hostport = &hostport[i + 1..];
        }
        if let Some(i) = hostport.rfind(':') {
            let port = &hostport[i + 1..];
            if !port.contains(']') {
                check_port(url, port)?;
                u.port = Some(port.to_string());
                hostport = &hostport[..i];
            }
        }
        if !hostport.is_empty() {
            let host = match hostport.strip_prefix('[') {
                Some(inner) => {
                    let inner = inner
                        .strip_suffix(']')
                        .ok_or_else(|| bad(url, "unbalanced brackets in host"))?;
                    check_ip_literal(url, inner)?;
                    inner
                }
                None => {
                    if hostport.contains([':', '[', ']']) {
                        return Err(bad(url, "invalid character in host"));
                    }
                    hostport
                }
            };
            u.host = Some(host.to_string());
        }
        if let Some(userinfo) = u.userinfo.clone() {
            match userinfo.rfind(':') {
                Some(i) => {
                    u.password = Some(userinfo[i + 1..].to_string());
                    u.user = Some(userinfo[..i].to_string());
                }
                None => u.user = Some(userinfo),
            }
        }
        Ok(u)
    }

    /// Rebuilds a URL string from the fields, as `socket.url.build` does: `host`, `port`,
    /// `user` and `password` take precedence over `authority` and `userinfo` (a password
    /// is used only with a user); a host containing `:` is bracketed.
    pub fn build(&self) -> String {
        let mut url = self.path.clone().unwrap_or_default();
        if let Some(p) = &self.params {
            url.push(';');
            url.push_str(p);
        }
        if let Some(q) = &self.query {
            url.push('?');
            url.push_str(q);
        }
        let mut authority = self.authority.clone();
        if let Some(host) = &self.host {
            let mut a = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            if let Some(port) = &self.port {
                a.push(':');
                a.push_str(port);
            }
            let mut userinfo = self.userinfo.clone();
            if let Some(user) = &self.user {
                let mut ui = user.clone();
                if let Some(pw) = &self.password {
                    ui.push(':');
                    ui.push_str(pw);
                }
                userinfo = Some(ui);
            }
            if let Some(ui) = userinfo {
                a = format!("{ui}@{a}");
            }
            authority = Some(a);
        }
        if let Some(a) = authority {
            url = format!("//{a}{url}");
        }
        if let Some(s) = &self.scheme {
            url = format!("{s}:{url}");
        }
        if let Some(f) = &self.fragment {
            url.push('#');
            url.push_str(f);
        }
        url
    }

    /// The field with index `i` in [`FIELDS`] order.
    pub fn field(&self, i: usize) -> Option<&Option<String>> {
        Some(match i {
            0 => &self.scheme,
            1 => &self.authority,
            2 => &self.userinfo,
            3 => &self.user,
            4 => &self.password,
            5 => &self.host,
            6 => &self.port,
            7 => &self.path,
            8 => &self.params,
            9 => &self.query,
            10 => &self.fragment,
            _ => return None,
        })
    }

    /// The field with index `i` in [`FIELDS`] order, for changing it.
    pub fn field_mut(&mut self, i: usize) -> Option<&mut Option<String>> {
        Some(match i {
            0 => &mut self.scheme,
            1 => &mut self.authority,
            2 => &mut self.userinfo,
            3 => &mut self.user,
            4 => &mut self.password,
            5 => &mut self.host,
            6 => &mut self.port,
            7 => &mut self.path,
            8 => &mut self.params,
            9 => &mut self.query,
            10 => &mut self.fragment,
            _ => return None,
        })
    }

    /// The port as a number, when there is one and it is not empty.
    pub fn port_number(&self) -> Option<u16> {
        self.port.as_deref().and_then(|p| p.parse().ok())
    }

    /// The path with its parameters, as RFC 3986 sees it (`/a;p` for path `/a`, params `p`).
    fn full_path(&self) -> String {
        let mut p = self.path.clone().unwrap_or_default();
        if let Some(params) = &self.params {
            p.push(';');
            p.push_str(params);
        }
        p
    }
}

/// RFC 3986 section 5.2.4: removes `.` and `..` segments.
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(r) = input.strip_prefix("../") {
            input = r;
        } else if let Some(r) = input.strip_prefix("./") {
            input = r;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input.len() == 3 { "/" } else { &input[3..] };
            match out.rfind('/') {
                Some(i) => out.truncate(i),
                None => out.clear(),
            }
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

/// Resolves `relative` against `base` (RFC 3986 section 5.2). An empty `base` gives
/// `relative` unchanged, as LuaSocket does. Malformed URLs are errors.
pub fn absolute(base: &str, relative: &str) -> Result<String> {
    if base.is_empty() {
        return Ok(relative.to_string());
    }
    let b = Url::parse(base)?;
    let r = if relative.is_empty() {
        Url::default()
    } else {
        Url::parse(relative)?
    };
    let (scheme, authority, path, query);
    let r_path = r.full_path();
    if r.scheme.is_some() {
        scheme = r.scheme.clone();
        authority = r.authority.clone();
        path = remove_dot_segments(&r_path);
        query = r.query.clone();
    } else {
        if r.authority.is_some() {
            authority = r.authority.clone();
            path = remove_dot_segments(&r_path);
            query = r.query.clone();
        } else {
            let b_path = b.full_path();
            if r_path.is_empty() {
                path = b_path;
                query = r.query.clone().or_else(|| b.query.clone());
            } else {
                path = if r_path.starts_with('/') {
                    remove_dot_segments(&r_path)
                } else {
                    let merged = if b.authority.is_some() && b_path.is_empty() {
                        format!("/{r_path}")
                    } else {
                        match b_path.rfind('/') {
                            Some(i) => format!("{}{}", &b_path[..=i], r_path),
                            None => r_path.clone(),
                        }
                    };
                    remove_dot_segments(&merged)
                };
                query = r.query.clone();
            }
            authority = b.authority.clone();
        }
        scheme = b.scheme.clone();
    }
    let mut out = String::new();
    if let Some(s) = scheme {
        out.push_str(&s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(&a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(&q);
    }
    if let Some(f) = r.fragment {
        out.push('#');
        out.push_str(&f);
    }
    Ok(out)
}

/// `socket.url.escape`: every byte except ASCII letters, digits and `_` becomes `%xx`
/// (lower-case hex, as LuaSocket writes it).
pub fn escape(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 3);
    for &c in data {
        if c.is_ascii_alphanumeric() || c == b'_' {
            out.push(c as char);
        } else {
            out.push('%');
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 15) as usize] as char);
        }
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `socket.url.unescape`: every `%XX` (either case) becomes its byte; everything else,
/// a `%` without two hex digits included, stays.
pub fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// A path split into unescaped segments (`socket.url.parse_path`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path {
    pub segments: Vec<Vec<u8>>,
    /// The path started with `/`.
    pub is_absolute: bool,
    /// The path ended with `/`.
    pub is_directory: bool,
}

/// `socket.url.parse_path`: the non-empty segments between `/`s, each unescaped.
pub fn parse_path(path: &str) -> Path {
    Path {
        segments: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| unescape(s.as_bytes()))
            .collect(),
        is_absolute: path.starts_with('/'),
        is_directory: path.ends_with('/'),
    }
}

/// Escapes a path segment as `socket.url.build_path` does: letters, digits and
/// `_-.!~*'():@&=+$,` stay, every other byte becomes `%XX` (upper-case hex).
pub fn protect_segment(seg: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in seg {
        if c.is_ascii_alphanumeric() || b"_-.!~*'():@&=+$,".contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'%', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
}

/// `socket.url.build_path`: joins the segments with `/`, escaping each one unless
/// `unsafe_raw`; a leading `/` when absolute, a trailing `/` when a directory with at least
/// one segment.
pub fn build_path(path: &Path, unsafe_raw: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if path.is_absolute {
        out.push(b'/');
    }
    for (i, seg) in path.segments.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        if unsafe_raw {
            out.extend_from_slice(seg);
        } else {
            protect_segment(seg, &mut out);
        }
    }
    if path.is_directory && !path.segments.is_empty() {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn parse_all_fields() {
        let u = Url::parse("http://us:er:pw@[::1]:8080/a/b;p=1?q=2&r#frag").unwrap();
        assert_eq!(u.scheme, s("http"));
        assert_eq!(u.authority, s("us:er:pw@[::1]:8080"));
        assert_eq!(u.userinfo, s("us:er:pw"));
        assert_eq!(u.user, s("us:er"));
        assert_eq!(u.password, s("pw"));
        assert_eq!(u.host, s("::1"));
        assert_eq!(u.port, s("8080"));
        assert_eq!(u.port_number(), Some(8080));
        assert_eq!(u.path, s("/a/b"));
        assert_eq!(u.params, s("p=1"));
        assert_eq!(u.query, s("q=2&r"));
        assert_eq!(u.fragment, s("frag"));
        assert_eq!(u.build(), "http://us:er:pw@[::1]:8080/a/b;p=1?q=2&r#frag");
    }

    #[test]
    fn parse_like_luasocket() {
        let u = Url::parse("ftp://user@host").unwrap();
        assert_eq!(
            (u.user, u.password, u.host, u.path),
            (s("user"), None, s("host"), None)
        );
        let u = Url::parse("host:").unwrap();
        assert_eq!((u.scheme, u.path), (s("host"), None));
        let u = Url::parse("//h:/x").unwrap();
        assert_eq!((u.host, u.port, u.path), (s("h"), s(""), s("/x")));
        let u = Url::parse("mailto:a@b.c").unwrap();
        assert_eq!(
            (u.scheme, u.path, u.authority),
            (s("mailto"), s("a@b.c"), None)
        );
        let u = Url::parse("?#").unwrap();
        assert_eq!((u.query, u.fragment, u.path), (s(""), s(""), None));
        let u = Url::parse("//@").unwrap();
        assert_eq!(
            (u.authority, u.userinfo, u.user, u.host),
            (s("@"), s(""), s(""), None)
        );
        let u = Url::parse("a;b;c?d?e#f#g").unwrap();
        assert_eq!(
            (u.path, u.params, u.query, u.fragment),
            (s("a"), s("b;c"), s("d?e"), s("f#g"))
        );
        let u = Url::parse("http://a?b").unwrap();
        assert_eq!(
            (u.host, u.query),
            (s("a"), s("b")),
            "authority ends at '?' (RFC 3986)"
        );
        let u = Url::parse("http://[fe80::1%25eth0]/").unwrap();
        assert_eq!(u.host, s("fe80::1%25eth0"));
    }

    #[test]
    fn malformed_urls_are_errors() {
        for bad in [
            "",
            "http://h:80x/",
            "http://h:65536/",
            "http://[::1/",
            "http://[]/",
            "http://[xyz]/",
            "http://::1/",
            "http://a]b/",
            "http://a\r\nb/",
            "a\0b",
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::Invalid, "{bad:?}");
        }
        assert_eq!(Url::parse("").unwrap_err().msg, "invalid url");
        assert!(Url::parse("http://h:00065535/").is_ok());
    }

    #[test]
    fn build_like_luasocket() {
        let u = Url {
            host: s("::1"),
            port: s("80"),
            user: s("u"),
            password: s("p"),
            userinfo: s("ignored"),
            authority: s("ignored too"),
            path: s("/x"),
            ..Default::default()
        };
        assert_eq!(u.build(), "//u:p@[::1]:80/x");
        let u = Url {
            authority: s("auth"),
            password: s("p"),
            scheme: s("s"),
            ..Default::default()
        };
        assert_eq!(u.build(), "s://auth");
        let u = Url {
            host: s("h"),
            password: s("p"),
            userinfo: s("ui"),
            ..Default::default()
        };
        assert_eq!(u.build(), "//ui@h", "a password needs a user");
        assert_eq!(Url::default().build(), "");
    }

    /// RFC 3986 section 5.4: every example, normal and abnormal.
    #[test]
    fn rfc3986_reference_resolution_examples() {
        let base = "http://a/b/c/d;p?q";
        let cases = [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("g?y#s", "http://a/b/c/g?y#s"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
            // 5.4.2 abnormal examples
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
            ("g#s/./x", "http://a/b/c/g#s/./x"),
            ("g#s/../x", "http://a/b/c/g#s/../x"),
            ("http:g", "http:g"),
        ];
        for (rel, want) in cases {
            assert_eq!(absolute(base, rel).unwrap(), want, "reference {rel:?}");
        }
    }

    #[test]
    fn absolute_edge_cases() {
        assert_eq!(absolute("", "../x").unwrap(), "../x");
        assert_eq!(absolute("http://h", "x").unwrap(), "http://h/x");
        assert_eq!(absolute("http://h/a#f", "").unwrap(), "http://h/a");
        assert!(absolute("http://h:x/", "a").is_err());
        assert!(absolute("http://h/", "//[::1").is_err());
    }

    #[test]
    fn remove_dot_segments_rfc_examples() {
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("mid/content=5/../6"), "mid/6");
        assert_eq!(remove_dot_segments("/.."), "/");
        assert_eq!(remove_dot_segments(".."), "");
    }

    #[test]
    fn escape_and_unescape() {
        assert_eq!(escape(b"a b/c_d\xff"), "a%20b%2fc_d%ff");
        assert_eq!(unescape(b"a%20b%2Fc%zz%4"), b"a b/c%zz%4");
        assert_eq!(unescape(b"%%41%"), b"%A%");
    }

    #[test]
    fn paths() {
        let p = parse_path("/a%20b//c/");
        assert_eq!(p.segments, vec![b"a b".to_vec(), b"c".to_vec()]);
        assert!(p.is_absolute && p.is_directory);
        assert_eq!(build_path(&p, false), b"/a%20b/c/");
        assert_eq!(build_path(&p, true), b"/a b/c/");
        let p = parse_path("x");
        assert!(!p.is_absolute && !p.is_directory);
        let root = parse_path("/");
        assert_eq!(build_path(&root, false), b"/");
        let seg = Path {
            segments: vec![b"a/b?c;d:e@f".to_vec()],
            ..Default::default()
        };
        assert_eq!(build_path(&seg, false), b"a%2Fb%3Fc%3Bd:e@f");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Url::parse(&s);
            let _ = absolute("http://a/b/c", &s);
            let _ = absolute(&s, "../x");
        }

        #[test]
        fn escape_round_trips(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(unescape(escape(&data).as_bytes()), data);
        }

        #[test]
        fn parse_build_round_trips(
            scheme in proptest::option::of("[a-z][a-z0-9+.-]{0,5}"),
            host in proptest::option::of("[a-z0-9.-]{1,8}"),
            port in proptest::option::of("[0-9]{1,4}"),
            path in "(/[a-z0-9.%]{0,5}){0,3}",
            query in proptest::option::of("[a-z=&/?]{0,6}"),
            fragment in proptest::option::of("[a-z#?/]{0,6}"),
        ) {
            let mut url = String::new();
            if let Some(s) = &scheme { url.push_str(s); url.push(':'); }
            if let Some(h) = &host {
                url.push_str("//"); url.push_str(h);
                if let Some(p) = &port { url.push(':'); url.push_str(p); }
            }
            url.push_str(&path);
            if let Some(q) = &query { url.push('?'); url.push_str(q); }
            if let Some(f) = &fragment { url.push('#'); url.push_str(f); }
            if !url.is_empty() {
                let u = Url::parse(&url).unwrap();
                prop_assert_eq!(u.build(), url);
            }
        }
    }
}

//! Header fields shared by HTTP and mail messages: an ordered list that keeps repeats, and
//! the canonical capitalisation LuaSocket applies to names before sending them
//! (`socket.headers.canonic`: "content-type" goes out as "Content-Type", "www-authenticate"
//! as "WWW-Authenticate"). Names outside the table go out as the caller wrote them.

use super::conn::check_wire_text;
use crate::error::{Error, Result};
use std::borrow::Cow;

/// The canonical spellings, sorted by their lower-case form (the table LuaSocket 3 ships as
/// `socket.headers.canonic`, whose keys are exactly these names lower-cased).
pub const CANONIC: &[&str] = &[
    "Accept",
    "Accept-Charset",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Ranges",
    "Action",
    "Age",
    "Allow",
    "Alternate-Recipient",
    "Arrival-Date",
    "Authorization",
    "Bcc",
    "Cache-Control",
    "Cc",
    "Comments",
    "Connection",
    "Content-Description",
    "Content-Disposition",
    "Content-Encoding",
    "Content-ID",
    "Content-Language",
    "Content-Length",
    "Content-Location",
    "Content-MD5",
    "Content-Range",
    "Content-Transfer-Encoding",
    "Content-Type",
    "Cookie",
    "Date",
    "Diagnostic-Code",
    "DSN-Gateway",
    "ETag",
    "Expect",
    "Expires",
    "Final-Log-ID",
    "Final-Recipient",
    "From",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "In-Reply-To",
    "Keywords",
    "Last-Attempt-Date",
    "Last-Modified",
    "Location",
    "Max-Forwards",
    "Message-ID",
    "MIME-Version",
    "Original-Envelope-ID",
    "Original-Recipient",
    "Pragma",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Range",
    "Received",
    "Received-From-MTA",
    "References",
    "Referer",
    "Remote-MTA",
    "Reply-To",
    "Reporting-MTA",
    "Resent-Bcc",
    "Resent-Cc",
    "Resent-Date",
    "Resent-From",
    "Resent-Message-ID",
    "Resent-Reply-To",
    "Resent-Sender",
    "Resent-To",
    "Retry-After",
    "Return-Path",
    "Sender",
    "Server",
    "SMTP-Remote-Recipient",
    "Status",
    "Subject",
    "TE",
    "To",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "User-Agent",
    "Vary",
    "Via",
    "Warning",
    "Will-Retry-Until",
    "WWW-Authenticate",
    "X-Mailer",
];

/// Compares `a` lower-cased with `b` lower-cased, byte by byte (ASCII only).
fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    let a = a.bytes().map(|c| c.to_ascii_lowercase());
    let b = b.bytes().map(|c| c.to_ascii_lowercase());
    a.cmp(b)
}

/// The canonical spelling of a header name in the table, whatever its case.
pub fn canonic_lookup(name: &str) -> Option<&'static str> {
    CANONIC
        .binary_search_by(|probe| cmp_ignore_case(probe, name))
        .ok()
        .map(|i| CANONIC[i])
}

/// The name as it goes on the wire: its canonical spelling when the table has it, the name
/// unchanged otherwise (LuaSocket's `canonic[name] or name`, made case-insensitive).
pub fn canonic(name: &str) -> Cow<'_, str> {
    match canonic_lookup(name) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Borrowed(name),
    }
}

/// `s` without leading and trailing spaces and tabs.
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Whether `b` may appear in a header name (an RFC 9110 token character).
pub fn is_token_byte(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
        | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Checks a header name a caller wants to send: a non-empty token (which rules out CR,
/// LF, NUL, spaces and colons).
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("header name is empty"));
    }
    check_wire_text("header name", name.as_bytes())?;
    if let Some(b) = name.bytes().find(|&b| !is_token_byte(b)) {
        return Err(Error::invalid(format!(
            "header name '{name}' contains '{}', which is not allowed in a field name",
            (b as char).escape_default()
        )));
    }
    Ok(())
}

/// Checks a header value a caller wants to send: no CR, LF or NUL.
pub fn check_value(name: &str, value: &[u8]) -> Result<()> {
    check_wire_text(&format!("value of header '{name}'"), value)
}

/// An ordered list of header fields; repeats are kept in order. Names are stored as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn clear(&mut self) {
        self.fields.clear();
    }

    /// Appends a field without checking it (for fields parsed from the wire).
    pub fn push_unchecked(&mut self, name: String, value: Vec<u8>) {
        self.fields.push((name, value));
    }

    /// Appends a field after checking that it can be sent safely.
    pub fn add(&mut self, name: &str, value: &[u8]) -> Result<()> {
        check_name(name)?;
        check_value(name, value)?;
        self.fields.push((name.to_string(), value.to_vec()));
        Ok(())
    }

    /// Replaces every field called `name` (any case) by one field, at the position of the
    /// first one (or at the end).
    pub fn set(&mut self, name: &str, value: &[u8]) -> Result<()> {
        check_name(name)?;
        check_value(name, value)?;
        match self.position(name) {
            Some(i) => {
                self.fields[i].1 = value.to_vec();
                let mut seen = 0usize;
                self.fields.retain(|(n, _)| {
                    if n.eq_ignore_ascii_case(name) {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
            }
            None => self.fields.push((name.to_string(), value.to_vec())),
        }
        Ok(())
    }

    /// Removes every field called `name` (any case); returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        before - self.fields.len()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Whether a field called `name` (any case) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The value of the first field called `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.position(name).map(|i| self.fields[i].1.as_slice())
    }

    /// The first value as text (lossy for non-UTF-8 bytes).
    pub fn get_str(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(String::from_utf8_lossy)
    }

    /// Every value of the fields called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The values of the fields called `name` joined with ", " (how HTTP combines repeats).
    pub fn get_joined(&self, name: &str) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for v in self.get_all(name) {
            match &mut out {
                None => out = Some(v.to_vec()),
                Some(o) => {
                    o.extend_from_slice(b", ");
                    o.extend_from_slice(v);
                }
            }
        }
        out
    }

    /// Whether the comma-separated list in the fields called `name` has `token` (any case).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).any(|v| {
            v.split(|&b| b == b',')
                .any(|t| trim(t).eq_ignore_ascii_case(token.as_bytes()))
        })
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The field at `index`.
    pub fn at(&self, index: usize) -> Option<(&str, &[u8])> {
        self.fields
            .get(index)
            .map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Appends `Name: value\r\n` for each field, names in canonical spelling.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for (n, v) in &self.fields {
            out.extend_from_slice(canonic(n).as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_lookups_work() {
        for w in CANONIC.windows(2) {
            assert_eq!(
                cmp_ignore_case(w[0], w[1]),
                std::cmp::Ordering::Less,
                "{} / {}",
                w[0],
                w[1]
            );
        }
        assert_eq!(CANONIC.len(), 91);
        assert_eq!(canonic("content-type"), "Content-Type");
        assert_eq!(canonic("CONTENT-MD5"), "Content-MD5");
        assert_eq!(canonic("www-authenticate"), "WWW-Authenticate");
        assert_eq!(canonic("te"), "TE");
        assert_eq!(canonic("etag"), "ETag");
        assert_eq!(canonic("message-id"), "Message-ID");
        assert_eq!(canonic("x-custom-thing"), "x-custom-thing");
        assert_eq!(canonic("X-Other"), "X-Other");
        assert_eq!(canonic_lookup("accept"), Some("Accept"));
        assert_eq!(canonic_lookup("x-mailer"), Some("X-Mailer"));
        assert_eq!(canonic_lookup("zzz"), None);
        assert_eq!(canonic_lookup(""), None);
    }

    #[test]
    fn names_and_values_are_checked() {
        let mut h = Headers::new();
        assert!(h.add("X-Ok", b"fine, really").is_ok());
        for bad in ["", "X Bad", "X:Bad", "X\r\nInjected", "X\0", "é"] {
            assert!(h.add(bad, b"v").is_err(), "{bad:?}");
        }
        for bad in [&b"a\r\nX-Injected: 1"[..], b"a\n", b"\r", b"a\0"] {
            let e = h.add("X-Val", bad).unwrap_err();
            assert!(e.msg.contains("value of header 'X-Val'"), "{}", e.msg);
        }
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn ordered_repeatable_fields() {
        let mut h = Headers::new();
        h.add("accept", b"a").unwrap();
        h.add("Set-Cookie", b"1").unwrap();
        h.add("x-thing", b"t").unwrap();
        h.add("set-cookie", b"2").unwrap();
        assert_eq!(h.get("SET-COOKIE"), Some(&b"1"[..]));
        assert_eq!(h.get_all("set-cookie").collect::<Vec<_>>(), [b"1", b"2"]);
        assert_eq!(h.get_joined("set-cookie").unwrap(), b"1, 2");
        let mut out = Vec::new();
        h.write_to(&mut out);
        assert_eq!(
            out,
            b"Accept: a\r\nSet-Cookie: 1\r\nx-thing: t\r\nset-cookie: 2\r\n"
        );
        h.set("set-cookie", b"3").unwrap();
        assert_eq!(h.get_all("set-cookie").collect::<Vec<_>>(), [b"3"]);
        assert_eq!(h.at(1), Some(("Set-Cookie", &b"3"[..])));
        assert_eq!(h.remove("ACCEPT"), 1);
        assert_eq!(h.len(), 2);
        h.set("New", b"n").unwrap();
        assert_eq!(h.at(2), Some(("New", &b"n"[..])));
    }

    #[test]
    fn tokens() {
        let mut h = Headers::new();
        h.push_unchecked("connection".into(), b"Keep-Alive, Upgrade".to_vec());
        h.push_unchecked("connection".into(), b" close ".to_vec());
        assert!(h.has_token("Connection", "keep-alive"));
        assert!(h.has_token("Connection", "CLOSE"));
        assert!(!h.has_token("Connection", "clo"));
    }
}

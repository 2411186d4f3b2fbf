//! How long a message body is (RFC 9112 section 6) and whether the connection outlives
//! the message (section 9.3), for both directions:
//! - [`response_framing`] / [`response_keeps_alive`]: what a client reads, tolerant as
//!   clients must be (a response with both Transfer-Encoding and Content-Length is framed
//!   by the former, and the connection is not reused after it);
//! - [`request_framing`] / [`request_keeps_alive`] / [`check_request_head`]: what a server
//!   accepts, strict, with the request-smuggling cases refused with the status to answer
//!   (both length fields, differing lengths, Transfer-Encoding in HTTP/1.0, codings that do
//!   not end with chunked, missing or repeated Host);
//! - [`status_has_body`]: which responses never have a body.

use super::super::headers::{trim, Headers};
use super::head::{RequestHead, ResponseHead};
use super::refusal::Refusal;
use crate::error::{Error, ErrorKind, Result};

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (HEAD, 1xx, 204, 304, a request without length).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Everything until the peer closes (responses only).
    UntilClose,
}

/// The value of the Content-Length fields, `Err(message)` when one is not a number or
/// they disagree. Repeats (or comma lists) of one value are one value (RFC 9110 8.6).
fn content_length_value(h: &Headers) -> std::result::Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for v in h.get_all("content-length") {
        for part in v.split(|&b| b == b',') {
            let part = trim(part);
            if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
                return Err(format!(
                    "invalid Content-Length '{}'",
                    String::from_utf8_lossy(&v[..v.len().min(40)])
                ));
            }
            let n: u64 = std::str::from_utf8(part)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| "Content-Length overflow".to_string())?;
            match found {
                Some(m) if m != n => {
                    return Err(format!("conflicting Content-Length values {m} and {n}"))
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// The transfer codings listed by the Transfer-Encoding fields, in order (names trimmed,
/// empty list elements skipped); `None` when there is no such field.
fn transfer_codings(h: &Headers) -> Option<Vec<&[u8]>> {
    if !h.contains("transfer-encoding") {
        return None;
    }
    Some(
        h.get_all("transfer-encoding")
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim)
            .filter(|c| !c.is_empty())
            .collect(),
    )
}

fn coding_name(c: &[u8]) -> &[u8] {
    c.split(|&b| b == b';').next().map(trim).unwrap_or(b"")
}

/// Whether the last transfer coding listed is "chunked" (`None`: no Transfer-Encoding).
fn is_chunked(h: &Headers) -> Option<bool> {
    let codings = transfer_codings(h)?;
    // A coding may carry parameters ("chunked;x=y" is not valid, but be tolerant).
    Some(
        codings
            .last()
            .is_some_and(|c| coding_name(c).eq_ignore_ascii_case(b"chunked")),
    )
}

/// Whether a response with `code` to a request with `method` may have a body: never for
/// HEAD, 1xx, 204 and 304, nor for a 2xx answer to CONNECT (RFC 9112 6.3).
pub fn status_has_body(method: &str, code: u16) -> bool {
    !(method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&code)
        || code == 204
        || code == 304
        || (method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&code)))
}

/// The framing of a response to a request with `method` (RFC 9112 6.3).
pub fn response_framing(method: &str, head: &ResponseHead) -> Result<Framing> {
    if !status_has_body(method, head.code) {
        return Ok(Framing::Empty);
    }
    match is_chunked(&head.headers) {
        Some(true) => return Ok(Framing::Chunked),
        Some(false) => return Ok(Framing::UntilClose),
        None => {}
    }
    Ok(
        match content_length_value(&head.headers).map_err(|m| Error::new(ErrorKind::Protocol, m))? {
            Some(0) => Framing::Empty,
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        },
    )
}

/// Whether the connection may carry another message after this response (HTTP/1.1
/// without "Connection: close", or HTTP/1.0 with "Connection: keep-alive"), given that
/// its body is delimited by length or chunks. A response carrying both Transfer-Encoding
/// and Content-Length may be an attempt at smuggling: the connection is not reused after
/// it (RFC 9112 6.1).
pub fn response_keeps_alive(head: &ResponseHead, framing: Framing) -> bool {
    if framing == Framing::UntilClose {
        return false;
    }
    let h = &head.headers;
    if h.has_token("connection", "close")
        || (h.contains("transfer-encoding") && h.contains("content-length"))
    {
        return false;
    }
    head.version >= 1 || h.has_token("connection", "keep-alive")
}

/// Whether the client lets the connection carry another request after this one (RFC 9112
/// 9.3): HTTP/1.1 unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
pub fn request_keeps_alive(head: &RequestHead) -> bool {
    let h = &head.headers;
    if h.has_token("connection", "close") {
        return false;
    }
    head.version >= 1 || h.has_token("connection", "keep-alive")
}

/// The framing of a received request (the server side, RFC 9112 6.1 and 6.3), strict:
/// - Transfer-Encoding in an HTTP/1.0 request, together with Content-Length, listing
///   chunked more than once or not last, or chunked with parameters: 400;
/// - a transfer coding other than chunked: 501 (not implemented);
/// - a Content-Length that is not a number, or several that differ: 400;
/// - a Content-Length above `max_body`: 413.
///
/// Without either field a request has no body.
pub fn request_framing(
    head: &RequestHead,
    max_body: Option<u64>,
) -> std::result::Result<Framing, Refusal> {
    let h = &head.headers;
    if let Some(codings) = transfer_codings(h) {
        if head.version == 0 {
            return Err(Refusal::bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if h.contains("content-length") {
            return Err(Refusal::bad(
                "request has both Content-Length and Transfer-Encoding",
            ));
        }
        let Some((last, rest)) = codings.split_last() else {
            return Err(Refusal::bad("empty Transfer-Encoding"));
        };
        if !coding_name(last).eq_ignore_ascii_case(b"chunked") {
            return Err(Refusal::bad(format!(
                "request transfer coding '{}' does not end with chunked",
                String::from_utf8_lossy(&last[..last.len().min(40)])
            )));
        }
        if last.contains(&b';') {
            return Err(Refusal::bad("chunked transfer coding with parameters"));
        }
        if let Some(c) = rest.first() {
            if coding_name(c).eq_ignore_ascii_case(b"chunked") {
                return Err(Refusal::bad("chunked transfer coding applied twice"));
            }
            return Err(Refusal::new(
                501,
                format!(
                    "transfer coding '{}' is not implemented",
                    String::from_utf8_lossy(&c[..c.len().min(40)])
                ),
            ));
        }
        return Ok(Framing::Chunked);
    }
    match content_length_value(h).map_err(Refusal::bad)? {
        Some(n) if max_body.is_some_and(|m| n > m) => Err(Refusal::new(
            413,
            format!(
                "request body of {n} bytes is larger than the limit of {} bytes",
                max_body.unwrap_or(0)
            ),
        )),
        Some(0) | None => Ok(Framing::Empty),
        Some(n) => Ok(Framing::Length(n)),
    }
}

/// The Host rules of RFC 9112 3.2 a server must enforce: an HTTP/1.1 request has exactly
/// one Host field; none may have two, or one whose value cannot be an authority.
pub fn check_request_head(head: &RequestHead) -> std::result::Result<(), Refusal> {
    let mut hosts = head.headers.get_all("host");
    match (hosts.next(), hosts.next()) {
        (None, _) if head.version >= 1 => {
            Err(Refusal::bad("HTTP/1.1 request without a Host header"))
        }
        (Some(_), Some(_)) => Err(Refusal::bad("request with more than one Host header")),
        (Some(v), None)
            if v.iter()
                .any(|&b| b" \t/\\?#@".contains(&b) || b < 0x21 || b == 0x7f) =>
        {
            Err(Refusal::bad(format!(
                "invalid Host header '{}'",
                String::from_utf8_lossy(&v[..v.len().min(60)])
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::{parse_request_head, parse_response_head, Limits};
    use super::*;

    fn head(raw: &str) -> ResponseHead {
        parse_response_head(raw.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap()
            .0
    }

    fn req(raw: &str) -> RequestHead {
        parse_request_head(raw.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap()
            .0
    }

    #[test]
    fn framing_rules() {
        let cl = head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
        assert_eq!(response_framing("GET", &cl).unwrap(), Framing::Length(10));
        assert_eq!(response_framing("HEAD", &cl).unwrap(), Framing::Empty);
        for code in [
            "100 Continue",
            "204 No Content",
            "304 Not Modified",
            "101 Switching",
        ] {
            let h = head(&format!("HTTP/1.1 {code}\r\nContent-Length: 10\r\n\r\n"));
            assert_eq!(
                response_framing("GET", &h).unwrap(),
                Framing::Empty,
                "{code}"
            );
        }
        let ch = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 3\r\n\r\n",
        );
        assert_eq!(response_framing("GET", &ch).unwrap(), Framing::Chunked);
        assert!(
            !response_keeps_alive(&ch, Framing::Chunked),
            "both length fields: not reused"
        );
        let te = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(response_framing("GET", &te).unwrap(), Framing::UntilClose);
        let none = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(response_framing("GET", &none).unwrap(), Framing::UntilClose);
        assert!(!response_keeps_alive(&none, Framing::UntilClose));
        let zero = head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(response_framing("GET", &zero).unwrap(), Framing::Empty);
        let same = head("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(response_framing("GET", &same).unwrap(), Framing::Length(5));
        let tunnel = head("HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(
            response_framing("CONNECT", &tunnel).unwrap(),
            Framing::Empty
        );
        for bad in ["5, 6", "-1", "abc", "", "99999999999999999999", "1 2"] {
            let h = head(&format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n"));
            let e = response_framing("GET", &h).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{bad}");
        }
    }

    #[test]
    fn keep_alive_rules() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert!(response_keeps_alive(&h, Framing::Length(1)));
        let h = head("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\n");
        assert!(!response_keeps_alive(&h, Framing::Length(1)));
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
        assert!(!response_keeps_alive(&h, Framing::Length(1)));
        let h = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n");
        assert!(response_keeps_alive(&h, Framing::Length(1)));

        assert!(request_keeps_alive(&req(
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        )));
        assert!(!request_keeps_alive(&req(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"
        )));
        assert!(!request_keeps_alive(&req("GET / HTTP/1.0\r\n\r\n")));
        assert!(request_keeps_alive(&req(
            "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
        )));
    }

    #[test]
    fn request_framing_is_strict() {
        let ok = |raw: &str| request_framing(&req(raw), None).unwrap();
        let refused = |raw: &str, max: Option<u64>| request_framing(&req(raw), max).unwrap_err();
        assert_eq!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Framing::Empty);
        assert_eq!(
            ok("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
            Framing::Length(12)
        );
        assert_eq!(
            ok("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Framing::Empty
        );
        assert_eq!(
            ok("POST / HTTP/1.1\r\nTransfer-Encoding: ,Chunked\r\n\r\n"),
            Framing::Chunked
        );
        for (raw, status, what) in [
            (
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
                "both Content-Length and Transfer-Encoding",
            ),
            (
                "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
                "HTTP/1.0",
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                400,
                "does not end with chunked",
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
                "twice",
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                501,
                "'gzip' is not implemented",
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;a=b\r\n\r\n",
                400,
                "parameters",
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                400,
                "conflicting Content-Length values 3 and 4",
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
                400,
                "invalid Content-Length",
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
                400,
                "invalid Content-Length",
            ),
        ] {
            let r = refused(raw, None);
            assert_eq!(r.status, status, "{raw:?}");
            assert_eq!(r.error.kind, ErrorKind::Protocol);
            assert!(r.error.msg.contains(what), "{raw:?}: {}", r.error.msg);
        }
        let r = refused(
            "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",
            Some(1000),
        );
        assert_eq!(r.status, 413);
        assert_eq!(
            request_framing(
                &req("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"),
                Some(1000)
            )
            .unwrap(),
            Framing::Length(1000)
        );
    }

    #[test]
    fn host_rules() {
        assert!(check_request_head(&req("GET / HTTP/1.1\r\nHost: a:80\r\n\r\n")).is_ok());
        assert!(check_request_head(&req("GET / HTTP/1.0\r\n\r\n")).is_ok());
        assert!(check_request_head(&req("GET / HTTP/1.1\r\nHost:\r\n\r\n")).is_ok());
        for raw in [
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        ] {
            let r = check_request_head(&req(raw)).unwrap_err();
            assert_eq!(r.status, 400, "{raw:?}");
        }
    }
}

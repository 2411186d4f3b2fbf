//! HTTP/1.1 message heads: request heads serialised (after checking every part a caller
//! gave for bytes that would break the framing), response and request heads parsed with
//! httparse under size and count limits.

use super::super::conn::{check_wire_text, Transport};
use super::super::headers::{self, is_token_byte, Headers};
use crate::error::{Error, ErrorKind, Result};

/// Bounds on a received head (status line + header fields, or trailers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a head may have, final empty line included.
    pub max_head_bytes: usize,
    /// The most header fields a head may have.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
        }
    }
}

/// A method a caller wants to send: a non-empty token.
pub fn check_method(method: &str) -> Result<()> {
    if method.is_empty() {
        return Err(Error::invalid("method is empty"));
    }
    check_wire_text("method", method.as_bytes())?;
    if let Some(b) = method.bytes().find(|&b| !is_token_byte(b)) {
        return Err(Error::invalid(format!(
            "method '{method}' contains '{}'",
            (b as char).escape_default()
        )));
    }
    Ok(())
}

/// A request target a caller wants to send: not empty, no CR, LF, NUL, space or tab.
pub fn check_target(target: &str) -> Result<()> {
    if target.is_empty() {
        return Err(Error::invalid("request target is empty"));
    }
    check_wire_text("request target", target.as_bytes())?;
    if let Some(i) = target.bytes().position(|b| b == b' ' || b == b'\t') {
        return Err(Error::invalid(format!(
            "request target contains white space at byte {i}"
        )));
    }
    Ok(())
}

/// Appends `METHOD target HTTP/1.1\r\n`, the fields (names in canonical spelling) and the
/// empty line to `out`. Every part is checked first; on error nothing is appended.
pub fn write_request_head(
    method: &str,
    target: &str,
    fields: &Headers,
    out: &mut Vec<u8>,
) -> Result<()> {
    check_method(method)?;
    check_target(target)?;
    for (n, v) in fields.iter() {
        headers::check_name(n)?;
        headers::check_value(n, v)?;
    }
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    fields.write_to(out);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends `HTTP/1.1 code reason\r\n`, the fields and the empty line to `out` (for the
/// server side of a connection). Every part is checked first.
pub fn write_response_head(
    code: u16,
    reason: &str,
    fields: &Headers,
    out: &mut Vec<u8>,
) -> Result<()> {
    if !(100..=999).contains(&code) {
        return Err(Error::invalid(format!(
            "status code {code} is not three digits"
        )));
    }
    check_wire_text("reason phrase", reason.as_bytes())?;
    for (n, v) in fields.iter() {
        headers::check_name(n)?;
        headers::check_value(n, v)?;
    }
    out.extend_from_slice(format!("HTTP/1.1 {code} ").as_bytes());
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    fields.write_to(out);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// A parsed response head. Header names are lower-cased; order and repeats are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    pub code: u16,
    pub reason: String,
    /// The status line as received, without its line end.
    pub status_line: String,
    pub headers: Headers,
}

/// A parsed request head. Header names are lower-cased; order and repeats are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: u8,
    pub headers: Headers,
}

/// Folded (obsolete multi-line) values become one line: each CR LF and the white space
/// after it turn into one space.
fn unfold(v: &[u8]) -> Vec<u8> {
    if !v.contains(&b'\n') {
        return v.to_vec();
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\r' | b'\n' => {
                while i < v.len() && matches!(v[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn lower_fields(raw: &[httparse::Header<'_>]) -> Headers {
    let mut h = Headers::new();
    for f in raw {
        h.push_unchecked(f.name.to_ascii_lowercase(), unfold(f.value));
    }
    h
}

fn parse_error(what: &str, e: httparse::Error, buf: &[u8]) -> Error {
    let line_end = memchr::memchr(b'\n', buf).unwrap_or(buf.len()).min(200);
    let first = String::from_utf8_lossy(&buf[..line_end]);
    let first = first.trim_end();
    let detail = match e {
        httparse::Error::TooManyHeaders => return too_many_fields(what),
        httparse::Error::Status | httparse::Error::Version | httparse::Error::Token => {
            format!("invalid {what} start line '{first}'")
        }
        other => format!("invalid {what} head ({other})"),
    };
    Error::new(ErrorKind::Protocol, detail)
}

fn too_many_fields(what: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("{what} head has too many header fields"),
    )
}

fn too_big(what: &str, limits: &Limits) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("{what} head larger than {} bytes", limits.max_head_bytes),
    )
}

fn response_config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    c
}

/// Parses a response head at the start of `buf`: `Ok(None)` when more bytes are needed,
/// `Ok(Some((head, length)))` when complete. Limits are enforced on what is there.
pub fn parse_response_head(buf: &[u8], limits: &Limits) -> Result<Option<(ResponseHead, usize)>> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut resp = httparse::Response::new(&mut fields);
    match response_config().parse_response(&mut resp, buf) {
        Ok(httparse::Status::Complete(n)) => {
            if n > limits.max_head_bytes {
                return Err(too_big("response", limits));
            }
            let line_end = memchr::memchr(b'\n', buf).unwrap_or(0);
            let status_line = &buf[..line_end];
            let status_line = status_line.strip_suffix(b"\r").unwrap_or(status_line);
            Ok(Some((
                ResponseHead {
                    version: resp.version.unwrap_or(1),
                    code: resp.code.unwrap_or(0),
                    reason: resp.reason.unwrap_or("").to_string(),
                    status_line: String::from_utf8_lossy(status_line).into_owned(),
                    headers: lower_fields(resp.headers),
                },
                n,
            )))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() >= limits.max_head_bytes {
                return Err(too_big("response", limits));
            }
            Ok(None)
        }
        Err(e) => Err(parse_error("response", e, buf)),
    }
}

/// Parses a request head at the start of `buf` (the server side); as
/// [`parse_response_head`].
pub fn parse_request_head(buf: &[u8], limits: &Limits) -> Result<Option<(RequestHead, usize)>> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut fields);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            if n > limits.max_head_bytes {
                return Err(too_big("request", limits));
            }
            Ok(Some((
                RequestHead {
                    method: req.method.unwrap_or("").to_string(),
                    target: req.path.unwrap_or("").to_string(),
                    version: req.version.unwrap_or(1),
                    headers: lower_fields(req.headers),
                },
                n,
            )))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() >= limits.max_head_bytes {
                return Err(too_big("request", limits));
            }
            Ok(None)
        }
        Err(e) => Err(parse_error("request", e, buf)),
    }
}

/// Reads one head from `t` with `parse`, filling as needed. The parser only runs again
/// once an empty line may have arrived, so a head cut into many pieces costs one scan.
/// End of stream before any byte is `Closed` with message "closed"; in the middle of a
/// head it is `Closed` with detail. The head's bytes are consumed from `t`.
pub fn read_head<T, H>(
    t: &mut T,
    limits: &Limits,
    parse: impl Fn(&[u8], &Limits) -> Result<Option<(H, usize)>>,
) -> Result<H>
where
    T: Transport + ?Sized,
{
    let mut scanned: usize = 0;
    let mut start_checked = false;
    loop {
        let buf = t.buffered();
        // A head ends with an empty line: "\n\r\n" or "\n\n".
        let from = scanned.saturating_sub(2);
        let maybe_end = memchr::memchr_iter(b'\n', &buf[from..]).any(|i| {
            let i = from + i;
            buf.get(i + 1) == Some(&b'\n')
                || (buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n'))
        });
        if maybe_end {
            if let Some((head, n)) = parse(buf, limits)? {
                t.consume(n);
                return Ok(head);
            }
        } else if buf.len() >= limits.max_head_bytes {
            // Let the parser name the problem (garbage or just too big).
            parse(buf, limits)?;
            return Err(too_big("message", limits));
        } else if !start_checked && memchr::memchr(b'\n', &buf[scanned..]).is_some() {
            // The start line is complete: reject garbage now instead of waiting for a head
            // that never comes.
            parse(buf, limits)?;
            start_checked = true;
        }
        scanned = buf.len();
        if t.fill()? == 0 {
            let n = t.buffered().len();
            if n == 0 {
                return Err(Error::new(ErrorKind::Closed, "closed"));
            }
            return Err(Error::new(
                ErrorKind::Closed,
                format!("closed after {n} bytes of an incomplete message head"),
            ));
        }
    }
}

/// Reads trailer fields after the last chunk, up to and including the empty line, into
/// `out` (lower-cased names).
pub fn parse_trailers(buf: &[u8], limits: &Limits) -> Result<Option<(Headers, usize)>> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    match httparse::parse_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete((n, raw))) => {
            if n > limits.max_head_bytes {
                return Err(too_big("trailer", limits));
            }
            Ok(Some((lower_fields(raw), n)))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() >= limits.max_head_bytes {
                return Err(too_big("trailer", limits));
            }
            Ok(None)
        }
        Err(httparse::Error::TooManyHeaders) => Err(too_many_fields("trailer")),
        Err(e) => Err(Error::new(
            ErrorKind::Protocol,
            format!("invalid trailer fields ({e})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::conn::mem::MemTransport;
    use super::*;

    fn fields(list: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in list {
            h.add(n, v.as_bytes()).unwrap();
        }
        h
    }

    #[test]
    fn request_head_round_trips_through_httparse() {
        let h = fields(&[
            ("host", "example.org"),
            ("user-agent", "sockit"),
            ("x-repeat", "1"),
            ("x-repeat", "2"),
            ("te", "trailers"),
        ]);
        let mut out = Vec::new();
        write_request_head("GET", "/a/b?c=d", &h, &mut out).unwrap();
        assert_eq!(
            out,
            b"GET /a/b?c=d HTTP/1.1\r\nHost: example.org\r\nUser-Agent: sockit\r\n\
              x-repeat: 1\r\nx-repeat: 2\r\nTE: trailers\r\n\r\n"
        );
        let (req, n) = parse_request_head(&out, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, out.len());
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/a/b?c=d");
        assert_eq!(
            req.headers.get_all("x-repeat").collect::<Vec<_>>(),
            [b"1", b"2"]
        );
    }

    #[test]
    fn injection_is_refused_before_anything_is_written() {
        let ok = fields(&[("host", "h")]);
        let mut out = Vec::new();
        for (m, t) in [
            ("GET\r\nX: y", "/"),
            ("GE T", "/"),
            ("", "/"),
            ("GET", "/a\r\nX-Injected: 1"),
            ("GET", "/a\nb"),
            ("GET", "/a b"),
            ("GET", "/a\0"),
            ("GET", ""),
        ] {
            let e = write_request_head(m, t, &ok, &mut out).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid, "{m:?} {t:?}");
        }
        let mut bad = Headers::new();
        bad.push_unchecked("X-Evil".into(), b"a\r\nInjected: 1".to_vec());
        assert!(write_request_head("GET", "/", &bad, &mut out).is_err());
        let mut bad = Headers::new();
        bad.push_unchecked("X-Evil\r\nA".into(), b"v".to_vec());
        assert!(write_request_head("GET", "/", &bad, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn response_heads() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n\
                    set-cookie: b=2\r\nX-Folded: one\r\n  two\r\n\r\nbody";
        let (h, n) = parse_response_head(raw, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(&raw[n..], b"body");
        assert_eq!(h.code, 200);
        assert_eq!(h.version, 1);
        assert_eq!(h.reason, "OK");
        assert_eq!(h.status_line, "HTTP/1.1 200 OK");
        assert_eq!(h.headers.at(0), Some(("content-type", &b"text/plain"[..])));
        assert_eq!(
            h.headers.get_all("set-cookie").collect::<Vec<_>>(),
            [b"a=1", b"b=2"]
        );
        assert_eq!(h.headers.get("x-folded"), Some(&b"one two"[..]));

        let (h, _) = parse_response_head(b"HTTP/1.0 404 Not  Found\n\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((h.version, h.code), (0, 404));
        assert_eq!(h.reason, "Not  Found");

        assert!(
            parse_response_head(b"HTTP/1.1 200 OK\r\nA: b\r\n", &Limits::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn garbage_and_limits() {
        let l = Limits::default();
        for bad in [
            &b"HTTP/1.1 abc Bogus\r\n\r\n"[..],
            b"SSH-2.0-OpenSSH_9.0\r\n",
            b"HTTP/9.9 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        ] {
            let e = parse_response_head(bad, &l).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{bad:?}");
        }
        let e = parse_response_head(b"garbage!\r\n", &l).unwrap_err();
        assert!(e.msg.contains("'garbage!'"), "{}", e.msg);

        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..101 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let e = parse_response_head(&many, &l).unwrap_err();
        assert!(e.msg.contains("too many header fields"), "{}", e.msg);

        let small = Limits {
            max_head_bytes: 100,
            max_headers: 100,
        };
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        big.extend_from_slice(&[b'X'; 200]);
        let e = parse_response_head(&big, &small).unwrap_err();
        assert!(e.msg.contains("larger than 100 bytes"), "{}", e.msg);
    }

    #[test]
    fn read_head_at_every_cut_and_on_close() {
        let raw = b"HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\n\r\nrest";
        for size in 1..raw.len() {
            let mut t = MemTransport::split(raw, size);
            let h = read_head(&mut t, &Limits::default(), parse_response_head).unwrap();
            assert_eq!(h.code, 204);
            assert_eq!(h.headers.len(), 2);
            // whatever arrived after the head stays buffered
            while t.fill().unwrap() > 0 {}
            assert_eq!(t.buffered(), b"rest", "cut {size}");
        }
        let mut t = MemTransport::new::<[&[u8]; 0], _>([]);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Closed, "closed"));
        let mut t = MemTransport::new([&b"HTTP/1.1 200 OK\r\nA:"[..]]);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert!(e.msg.contains("incomplete"), "{}", e.msg);
    }

    #[test]
    fn read_head_stops_endless_heads_early() {
        // 10 MB of header lines never get buffered: the limit stops the read.
        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut chunks: Vec<Vec<u8>> = vec![b"HTTP/1.1 200 OK\r\n".to_vec()];
        for _ in 0..10_000 {
            chunks.push(line.repeat(16));
        }
        let mut t = MemTransport::new(chunks);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(t.fills < 100, "read {} chunks", t.fills);

        let mut t = MemTransport::new([&b"SSH-2.0-OpenSSH\r\n"[..]]);
        t.fail_at_end = Some(Error::kind(ErrorKind::Timeout));
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Protocol,
            "garbage is refused without waiting"
        );
    }

    #[test]
    fn trailers() {
        let (t, n) = parse_trailers(b"X-One: 1\r\nX-Two: 2\r\n\r\nnext", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, 22);
        assert_eq!(t.get("x-two"), Some(&b"2"[..]));
        let (t, n) = parse_trailers(b"\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((t.len(), n), (0, 2));
        assert!(parse_trailers(b"X-One: 1\r\n", &Limits::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn response_head_writer() {
        let mut out = Vec::new();
        write_response_head(200, "OK", &fields(&[("content-length", "0")]), &mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(write_response_head(200, "O\r\nK", &Headers::new(), &mut out).is_err());
        assert!(write_response_head(42, "OK", &Headers::new(), &mut out).is_err());
    }
}

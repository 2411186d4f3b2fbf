//! HTTP/1.1 message framing (RFC 9112 section 6): how long a body is, reading it off a
//! transport piece by piece (Content-Length, chunked with trailers, until close), and the
//! chunked coding for bodies we send.
//!
//! The reader hands each piece of body to the caller as soon as it is buffered, straight
//! from the transport's buffer: nothing is collected, so memory stays bounded whatever the
//! body's size, and when the peer vanishes everything that arrived has been delivered.

use super::super::conn::Transport;
use super::super::headers::{trim, Headers};
use super::head::{parse_trailers, Limits, ResponseHead};
use crate::error::{Error, ErrorKind, Result};
use crate::ltn12::chunked::{chunk_size_line, SizeLineError};

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

/// The value of Content-Length fields: repeats (or comma lists) must agree.
fn content_length(h: &Headers) -> Result<Option<u64>> {
    let mut found: Option<u64> = None;
    for v in h.get_all("content-length") {
        for part in v.split(|&b| b == b',') {
            let part = trim(part);
            if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "invalid Content-Length '{}'",
                        String::from_utf8_lossy(&v[..v.len().min(40)])
                    ),
                ));
            }
            let n: u64 = std::str::from_utf8(part)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Error::new(ErrorKind::Protocol, "Content-Length overflow"))?;
            match found {
                Some(m) if m != n => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("conflicting Content-Length values {m} and {n}"),
                    ))
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// Whether the last transfer coding listed is "chunked".
fn is_chunked(h: &Headers) -> Option<bool> {
    let joined = h.get_joined("transfer-encoding")?;
    let last = joined
        .rsplit(|&b| b == b',')
        .map(trim)
        .find(|c| !c.is_empty())
        .unwrap_or(b"");
    // A coding may carry parameters ("chunked;x=y" is not valid, but be tolerant).
    let name = last.split(|&b| b == b';').next().map(trim).unwrap_or(b"");
    Some(name.eq_ignore_ascii_case(b"chunked"))
}

/// The framing of a response to a request with `method` (RFC 9112 6.3).
pub fn response_framing(method: &str, head: &ResponseHead) -> Result<Framing> {
    let code = head.code;
    if method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&code)
        || code == 204
        || code == 304
        || (method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&code))
    {
        return Ok(Framing::Empty);
    }
    match is_chunked(&head.headers) {
        Some(true) => return Ok(Framing::Chunked),
        Some(false) => return Ok(Framing::UntilClose),
        None => {}
    }
    Ok(match content_length(&head.headers)? {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::UntilClose,
    })
}

/// The framing of a request with these fields (the server side): without length or
/// chunked coding a request has no body.
pub fn request_framing(fields: &Headers) -> Result<Framing> {
    match is_chunked(fields) {
        Some(true) => return Ok(Framing::Chunked),
        Some(false) => {
            return Err(Error::new(
                ErrorKind::Protocol,
                "request transfer coding does not end with chunked",
            ))
        }
        None => {}
    }
    Ok(match content_length(fields)? {
        Some(0) | None => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

/// Whether the connection may carry another message after this response (HTTP/1.1
/// without "Connection: close", or HTTP/1.0 with "Connection: keep-alive"), given that
/// its body is delimited by length or chunks.
pub fn response_keeps_alive(head: &ResponseHead, framing: Framing) -> bool {
    if framing == Framing::UntilClose {
        return false;
    }
    let h = &head.headers;
    if h.has_token("connection", "close") {
        return false;
    }
    head.version >= 1 || h.has_token("connection", "keep-alive")
}

/// The longest chunk-size line accepted (size, extensions, line end).
pub const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    UntilClose,
    Done,
}

/// Reads one message body off a transport.
#[derive(Debug)]
pub struct BodyReader {
    state: State,
    framing: Framing,
    received: u64,
    trailers: Headers,
    limits: Limits,
}

fn closed_early(detail: String) -> Error {
    Error::new(ErrorKind::Closed, detail)
}

impl BodyReader {
    pub fn new(framing: Framing, limits: Limits) -> BodyReader {
        let state = match framing {
            Framing::Empty => State::Done,
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::Size,
            Framing::UntilClose => State::UntilClose,
        };
        BodyReader {
            state,
            framing,
            received: 0,
            trailers: Headers::new(),
            limits,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Body bytes delivered so far (after chunk decoding).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The trailer fields of a chunked body (lower-cased names), once it is done.
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// Delivers every remaining piece of body to `deliver`, in order.
    pub fn read_all<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        deliver: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        while self.step(t, deliver)? {}
        Ok(())
    }

    /// Makes progress: delivers what is buffered (or fills once and delivers that).
    /// Returns `Ok(false)` once the body has ended.
    pub fn step<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        deliver: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        loop {
            match self.state {
                State::Done => return Ok(false),
                State::Length(left) | State::Data(left) => {
                    if t.buffered().is_empty() && t.fill()? == 0 {
                        return Err(match self.framing {
                            Framing::Length(total) => closed_early(format!(
                                "closed: body ended after {} of {total} bytes",
                                total - left
                            )),
                            _ => closed_early(format!(
                                "closed inside a chunk ({left} bytes missing)"
                            )),
                        });
                    }
                    let buf = t.buffered();
                    let n = (buf.len() as u64).min(left) as usize;
                    deliver(&buf[..n])?;
                    t.consume(n);
                    self.received += n as u64;
                    let left = left - n as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), l) => State::Length(l),
                        (_, 0) => State::DataEnd,
                        (_, l) => State::Data(l),
                    };
                    return Ok(self.state != State::Done);
                }
                State::UntilClose => {
                    if t.buffered().is_empty() && t.fill()? == 0 {
                        self.state = State::Done;
                        return Ok(false);
                    }
                    let buf = t.buffered();
                    let n = buf.len();
                    deliver(buf)?;
                    t.consume(n);
                    self.received += n as u64;
                    return Ok(true);
                }
                State::Size => {
                    let Some(size) = self.chunk_size(t)? else {
                        if t.fill()? == 0 {
                            return Err(closed_early(
                                "closed before the next chunk size".to_string(),
                            ));
                        }
                        continue;
                    };
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::DataEnd => {
                    let buf = t.buffered();
                    if buf.starts_with(b"\r\n") {
                        t.consume(2);
                    } else if buf.starts_with(b"\n") {
                        t.consume(1);
                    } else if buf.is_empty() || buf == b"\r" {
                        if t.fill()? == 0 {
                            return Err(closed_early("closed after a chunk".to_string()));
                        }
                        continue;
                    } else {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            "chunk data not followed by CRLF",
                        ));
                    }
                    self.state = State::Size;
                }
                State::Trailers => match parse_trailers(t.buffered(), &self.limits)? {
                    Some((fields, n)) => {
                        t.consume(n);
                        self.trailers = fields;
                        self.state = State::Done;
                        return Ok(false);
                    }
                    None => {
                        if t.fill()? == 0 {
                            return Err(closed_early("closed inside the trailers".to_string()));
                        }
                    }
                },
            }
        }
    }

    /// Parses a chunk-size line at the start of the buffer: `Ok(None)` when incomplete.
    fn chunk_size<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<Option<u64>> {
        let buf = t.buffered();
        let Some(end) = memchr::memchr(b'\n', buf) else {
            if buf.len() > MAX_CHUNK_LINE {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("chunk size line longer than {MAX_CHUNK_LINE} bytes"),
                ));
            }
            return Ok(None);
        };
        let line = &buf[..end];
        let size = chunk_size_line(line, 16).map_err(|e| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let msg = match e {
                SizeLineError::Malformed => format!(
                    "invalid chunk size '{}'",
                    String::from_utf8_lossy(&line[..line.len().min(40)])
                ),
                SizeLineError::TooLong => {
                    let digits = &line[..line.iter().take_while(|b| b.is_ascii_hexdigit()).count()];
                    format!(
                        "chunk size overflow '{}'",
                        String::from_utf8_lossy(&digits[..digits.len().min(40)])
                    )
                }
            };
            Error::new(ErrorKind::Protocol, msg)
        })?;
        t.consume(end + 1);
        Ok(Some(size))
    }
}

/// Appends the head of a chunk of `len` bytes ("1a2b\r\n") to `out`.
pub fn chunk_head(len: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
}

/// The end of a chunked body without trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Appends one chunk (head, data, CRLF) to `out`; an empty `data` appends nothing (an
/// empty chunk would end the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    chunk_head(data.len(), out);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk with `trailers` (checked first) to `out`.
pub fn encode_last_chunk(trailers: &Headers, out: &mut Vec<u8>) -> Result<()> {
    for (n, v) in trailers.iter() {
        super::super::headers::check_name(n)?;
        super::super::headers::check_value(n, v)?;
    }
    out.extend_from_slice(b"0\r\n");
    trailers.write_to(out);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::super::conn::mem::MemTransport;
    use super::super::head::parse_response_head;
    use super::*;

    fn head(raw: &str) -> ResponseHead {
        parse_response_head(raw.as_bytes(), &Limits::default())
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
        let te = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(response_framing("GET", &te).unwrap(), Framing::UntilClose);
        let none = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(response_framing("GET", &none).unwrap(), Framing::UntilClose);
        assert!(!response_keeps_alive(&none, Framing::UntilClose));
        let zero = head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(response_framing("GET", &zero).unwrap(), Framing::Empty);
        let same = head("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(response_framing("GET", &same).unwrap(), Framing::Length(5));
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
    }

    #[test]
    fn request_framing_rules() {
        let mut h = Headers::new();
        assert_eq!(request_framing(&h).unwrap(), Framing::Empty);
        h.add("Content-Length", b"12").unwrap();
        assert_eq!(request_framing(&h).unwrap(), Framing::Length(12));
        h.add("Transfer-Encoding", b"chunked").unwrap();
        assert_eq!(request_framing(&h).unwrap(), Framing::Chunked);
        h.set("Transfer-Encoding", b"gzip").unwrap();
        assert!(request_framing(&h).is_err());
    }

    fn read(
        framing: Framing,
        data: &[u8],
        cut: usize,
    ) -> (Result<()>, Vec<u8>, BodyReader, Vec<u8>) {
        let mut t = MemTransport::split(data, cut);
        let mut r = BodyReader::new(framing, Limits::default());
        let mut out = Vec::new();
        let res = r.read_all(&mut t, &mut |c| {
            out.extend_from_slice(c);
            Ok(())
        });
        // whatever is left after the body
        let mut rest = t.buffered().to_vec();
        while let Some(c) = t.input.pop_front() {
            rest.extend_from_slice(&c);
        }
        (res, out, r, rest)
    }

    #[test]
    fn chunked_at_every_cut_with_trailers() {
        let data = b"5;ext=1\r\nhello\r\n6\r\n world\r\n000\r\nX-One: 1\r\nX-Two: 2\r\n\r\nNEXT";
        for cut in 1..data.len() {
            let (res, out, r, rest) = read(Framing::Chunked, data, cut);
            res.unwrap();
            assert_eq!(out, b"hello world", "cut {cut}");
            assert_eq!(rest, b"NEXT", "cut {cut}");
            assert!(r.is_done());
            assert_eq!(r.received(), 11);
            assert_eq!(r.trailers().get("x-two"), Some(&b"2"[..]));
        }
        // bare LF line ends are tolerated
        let (res, out, _, _) = read(Framing::Chunked, b"3\nabc\n0\n\n", 100);
        res.unwrap();
        assert_eq!(out, b"abc");
    }

    #[test]
    fn chunked_errors() {
        let (res, out, _, _) = read(Framing::Chunked, b"zz\r\nhello\r\n0\r\n\r\n", 100);
        let e = res.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.msg.contains("invalid chunk size 'zz'"), "{}", e.msg);
        assert!(out.is_empty());

        let (res, out, _, _) = read(
            Framing::Chunked,
            b"5\r\nhello\r\nffffffffffffffffffffffff\r\nabc",
            3,
        );
        let e = res.unwrap_err();
        assert!(e.msg.contains("overflow"), "{}", e.msg);
        assert_eq!(out, b"hello", "what arrived before the error is delivered");

        // 16 hex digits are fine; leading zeros do not count
        let mut t = MemTransport::new([&b"0000000000000000000fffffffffffffff\r\n"[..]]);
        t.fill().unwrap();
        let mut r = BodyReader::new(Framing::Chunked, Limits::default());
        assert_eq!(r.chunk_size(&mut t).unwrap(), Some(0x0fff_ffff_ffff_ffff));

        let (res, out, _, _) = read(Framing::Chunked, b"5\r\nhello\r\n10\r\nabc", 4);
        assert_eq!(res.unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(out, b"helloabc");

        let (res, _, _, _) = read(Framing::Chunked, b"5\r\nhelloXX0\r\n\r\n", 100);
        assert_eq!(res.unwrap_err().kind, ErrorKind::Protocol);

        let (res, _, _, _) = read(Framing::Chunked, b"5\r\nhello\r\n0\r\nX-A: 1\r\n", 100);
        assert_eq!(res.unwrap_err().kind, ErrorKind::Closed);

        let long = [b'1'; MAX_CHUNK_LINE + 10];
        let (res, _, _, _) = read(Framing::Chunked, &long, 100);
        assert_eq!(res.unwrap_err().kind, ErrorKind::Protocol);

        let (res, _, _, _) = read(Framing::Chunked, b"5 x\r\n", 100);
        assert_eq!(res.unwrap_err().kind, ErrorKind::Protocol);
    }

    #[test]
    fn length_and_until_close() {
        for cut in [1, 3, 7, 100] {
            let (res, out, r, rest) = read(Framing::Length(10), b"0123456789NEXT", cut);
            res.unwrap();
            assert_eq!(out, b"0123456789");
            assert_eq!(rest, b"NEXT");
            assert_eq!(r.received(), 10);

            let (res, out, r, _) = read(Framing::UntilClose, b"all of it", cut);
            res.unwrap();
            assert_eq!(out, b"all of it");
            assert!(r.is_done());
        }
        let (res, out, _, _) = read(Framing::Length(1000), &[b'x'; 100], 30);
        let e = res.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert_eq!(e.msg, "closed: body ended after 100 of 1000 bytes");
        assert_eq!(out.len(), 100, "partial body kept");

        let (res, out, _, rest) = read(Framing::Empty, b"NEXT", 2);
        res.unwrap();
        assert!(out.is_empty());
        assert_eq!(rest, b"NEXT");
    }

    #[test]
    fn timeouts_keep_what_arrived() {
        let mut t = MemTransport::new([&b"01234"[..]]);
        t.fail_at_end = Some(Error::kind(ErrorKind::Timeout));
        let mut r = BodyReader::new(Framing::Length(10), Limits::default());
        let mut out = Vec::new();
        let e = r
            .read_all(&mut t, &mut |c| {
                out.extend_from_slice(c);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(out, b"01234");
        assert_eq!(r.received(), 5);
    }

    #[test]
    fn sink_errors_stop_the_read() {
        let mut t = MemTransport::new([&b"0123456789"[..]]);
        let mut r = BodyReader::new(Framing::Length(10), Limits::default());
        let e = r
            .read_all(&mut t, &mut |_| Err(Error::new(ErrorKind::Aborted, "stop")))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Aborted);
    }

    #[test]
    fn chunk_encoding_round_trips() {
        let mut enc = Vec::new();
        for piece in [&b"hello"[..], b"", b" ", &[b'x'; 300]] {
            encode_chunk(piece, &mut enc);
        }
        let mut tr = Headers::new();
        tr.add("X-Sum", b"42").unwrap();
        encode_last_chunk(&tr, &mut enc).unwrap();
        assert!(enc.starts_with(b"5\r\nhello\r\n1\r\n \r\n12c\r\n"));
        let (res, out, r, _) = read(Framing::Chunked, &enc, 7);
        res.unwrap();
        assert_eq!(out.len(), 306);
        assert_eq!(r.trailers().get("x-sum"), Some(&b"42"[..]));
        let mut bad = Headers::new();
        bad.push_unchecked("X".into(), b"a\r\nb".to_vec());
        assert!(encode_last_chunk(&bad, &mut enc).is_err());
    }
}

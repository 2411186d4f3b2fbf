//! HTTP/1.1 message bodies, both ways: [`BodyReader`] reads one off a transport piece by
//! piece (Content-Length, chunked with trailers, until close), [`BodyWriter`] frames one
//! for sending (Content-Length with the count checked, chunked with trailers, until
//! close). The framing itself is decided in `framing`.
//!
//! The reader hands each piece of body to the caller as soon as it is buffered, straight
//! from the transport's buffer: nothing is collected, so memory stays bounded whatever the
//! body's size, and when the peer vanishes everything that arrived has been delivered.
//! Every call can stop at any point with a transport error (a timeout, or "block" on a
//! non-blocking transport) and be called again to go on where it stopped.

use super::super::conn::Transport;
use super::super::headers::{check_name, check_value, Headers};
pub use super::framing::Framing;
use super::head::{parse_trailers, Limits};
use crate::error::{Error, ErrorKind, Result};
use crate::ltn12::chunked::{chunk_size_line, SizeLineError};

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
    strict: bool,
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
            strict: false,
        }
    }

    /// A reader for a server: chunk extensions with control characters (a bare CR
    /// among them) are refused too.
    pub fn strict(framing: Framing, limits: Limits) -> BodyReader {
        BodyReader {
            strict: true,
            ..BodyReader::new(framing, limits)
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Whether the whole body (trailers included) has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the body data has all been read: only the trailers of a chunked body may
    /// be left (see [`is_done`](Self::is_done)).
    pub fn data_done(&self) -> bool {
        matches!(self.state, State::Trailers | State::Done)
    }

    /// Body bytes delivered so far (after chunk decoding).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Body bytes still to come when the framing says how many (Content-Length); `None`
    /// for chunked and until-close bodies that are not done.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Done => Some(0),
            State::Length(n) => Some(n),
            _ => None,
        }
    }

    /// The trailer fields of a chunked body (lower-cased names), once it is done.
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// Takes the trailer fields out of the reader.
    pub fn take_trailers(&mut self) -> Headers {
        std::mem::take(&mut self.trailers)
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
        self.step_max(t, usize::MAX, deliver)
    }

    /// [`step`](Self::step) delivering at most `max` (> 0) bytes of body at once. Once
    /// the body data has ended it reads the trailers, filling as needed.
    pub fn step_max<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        max: usize,
        deliver: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        let max = max.max(1) as u64;
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
                    let n = (buf.len() as u64).min(left).min(max) as usize;
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
                    self.settle(t)?;
                    return Ok(self.state != State::Done);
                }
                State::UntilClose => {
                    if t.buffered().is_empty() && t.fill()? == 0 {
                        self.state = State::Done;
                        return Ok(false);
                    }
                    let buf = t.buffered();
                    let n = (buf.len() as u64).min(max) as usize;
                    deliver(&buf[..n])?;
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
                    if size == 0 {
                        // The body data ended: take the trailers if they are there, else
                        // report the end of the data first (see `data_done`).
                        self.state = State::Trailers;
                        self.try_trailers(t)?;
                        return Ok(self.state != State::Done);
                    }
                    self.state = State::Data(size);
                }
                State::DataEnd => {
                    if !self.data_end(t)? {
                        if t.fill()? == 0 {
                            return Err(closed_early("closed after a chunk".to_string()));
                        }
                        continue;
                    }
                    self.state = State::Size;
                }
                State::Trailers => {
                    if self.try_trailers(t)? {
                        return Ok(false);
                    }
                    if t.fill()? == 0 {
                        return Err(closed_early("closed inside the trailers".to_string()));
                    }
                }
            }
        }
    }

    /// After a chunk's data: goes through its line end, the next size line and, after the
    /// last chunk, the trailers, as far as the buffered input allows (never filling).
    fn settle<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        loop {
            match self.state {
                State::DataEnd => {
                    if !self.data_end(t)? {
                        return Ok(());
                    }
                    self.state = State::Size;
                }
                State::Size => match self.chunk_size(t)? {
                    Some(0) => {
                        self.state = State::Trailers;
                        self.try_trailers(t)?;
                        return Ok(());
                    }
                    Some(n) => self.state = State::Data(n),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    /// Once the body data has ended, reads the trailers if they are all buffered,
    /// without filling: whether the body is done now.
    pub fn try_trailers<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<bool> {
        if self.state == State::Done {
            return Ok(true);
        }
        if self.state != State::Trailers {
            return Ok(false);
        }
        match parse_trailers(t.buffered(), &self.limits)? {
            Some((fields, n)) => {
                t.consume(n);
                self.trailers = fields;
                self.state = State::Done;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Takes the line end after a chunk's data when it is buffered: whether it was.
    fn data_end<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<bool> {
        let buf = t.buffered();
        if buf.starts_with(b"\r\n") {
            t.consume(2);
        } else if buf.starts_with(b"\n") {
            t.consume(1);
        } else if buf.is_empty() || buf == b"\r" {
            return Ok(false);
        } else {
            return Err(Error::new(
                ErrorKind::Protocol,
                "chunk data not followed by CRLF",
            ));
        }
        Ok(true)
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
        if end > MAX_CHUNK_LINE {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("chunk size line longer than {MAX_CHUNK_LINE} bytes"),
            ));
        }
        let bare = line.strip_suffix(b"\r").unwrap_or(line);
        if self.strict {
            if let Some(&b) = bare
                .iter()
                .find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f)
            {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("control character 0x{b:02x} in a chunk size line"),
                ));
            }
        }
        let size = chunk_size_line(line, 16).map_err(|e| {
            let msg = match e {
                SizeLineError::Malformed => format!(
                    "invalid chunk size '{}'",
                    String::from_utf8_lossy(&bare[..bare.len().min(40)])
                ),
                SizeLineError::TooLong => {
                    let digits = &bare[..bare.iter().take_while(|b| b.is_ascii_hexdigit()).count()];
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
        check_name(n)?;
        check_value(n, v)?;
    }
    out.extend_from_slice(b"0\r\n");
    trailers.write_to(out);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Body pieces up to this size go out in one send with their chunk framing (and, from
/// [`BodyWriter::send`], with what the caller has queued); larger ones are sent from
/// where they are, without a copy.
pub const COALESCE: usize = 16 * 1024;

/// Frames one outgoing message body: `Length` passes the bytes through and checks that
/// exactly the declared number is sent, `Chunked` codes them as chunks and ends with the
/// last chunk and trailers, `UntilClose` passes them through (the sender ends the body by
/// closing), `Empty` drops them (the body of a response to HEAD).
#[derive(Debug, Clone)]
pub struct BodyWriter {
    framing: Framing,
    sent: u64,
    what: &'static str,
    finished: bool,
}

impl BodyWriter {
    /// A writer for a body framed as `framing`; `what` names the body in errors
    /// ("request body source", "response body", ...).
    pub fn new(framing: Framing, what: &'static str) -> BodyWriter {
        BodyWriter {
            framing,
            sent: 0,
            what,
            finished: false,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Body bytes taken so far (before chunk framing).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Whether [`finish`](Self::finish) succeeded.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Checks that `len` more bytes fit the declared length and counts them.
    fn take(&mut self, len: usize) -> Result<()> {
        if self.finished {
            return Err(Error::invalid(format!("{} has already ended", self.what)));
        }
        if let Framing::Length(n) = self.framing {
            if self.sent + len as u64 > n {
                return Err(Error::invalid(format!(
                    "{} produced more than the {n} bytes declared",
                    self.what
                )));
            }
        }
        self.sent += len as u64;
        Ok(())
    }

    /// Appends the framing of `data` to `out` (the chunk head for chunked; nothing
    /// else) and returns what goes on the wire after `data`'s bytes ("\r\n" for a
    /// chunk), or `None` when `data`'s bytes are not sent at all (empty data, or a body
    /// that must be empty). Errors (nothing appended): more bytes than declared.
    pub fn frame(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<Option<&'static [u8]>> {
        self.take(data.len())?;
        if data.is_empty() || self.framing == Framing::Empty {
            return Ok(None);
        }
        if self.framing == Framing::Chunked {
            chunk_head(data.len(), out);
            return Ok(Some(b"\r\n"));
        }
        Ok(Some(b""))
    }

    /// Appends `data` with its framing to `out`.
    pub fn encode(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if let Some(tail) = self.frame(data, out)? {
            out.extend_from_slice(data);
            out.extend_from_slice(tail);
        }
        Ok(())
    }

    /// Sends `data` with its framing on `t`, after whatever `queued` holds (head bytes,
    /// say; it is emptied). Small pieces go out in one send; a large one is sent from
    /// `data` itself.
    pub fn send<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        data: &[u8],
        queued: &mut Vec<u8>,
    ) -> Result<()> {
        let tail = self.frame(data, queued)?;
        match tail {
            Some(tail) if data.len() > COALESCE => {
                if !queued.is_empty() {
                    t.send_all(queued)?;
                }
                queued.clear();
                t.send_all(data)?;
                if !tail.is_empty() {
                    t.send_all(tail)?;
                }
                Ok(())
            }
            Some(tail) => {
                queued.extend_from_slice(data);
                queued.extend_from_slice(tail);
                let r = t.send_all(queued);
                queued.clear();
                r
            }
            None => {
                let r = if queued.is_empty() {
                    Ok(())
                } else {
                    t.send_all(queued)
                };
                queued.clear();
                r
            }
        }
    }

    /// Ends the body, appending what ends it to `out`: the last chunk with `trailers`
    /// for chunked (names and values checked first); nothing otherwise, where trailers
    /// cannot be sent and are dropped. A `Length` body that got fewer bytes than declared
    /// is an error (nothing appended). A second finish is an error.
    pub fn finish(&mut self, trailers: &Headers, out: &mut Vec<u8>) -> Result<()> {
        if self.finished {
            return Err(Error::invalid(format!("{} has already ended", self.what)));
        }
        match self.framing {
            Framing::Chunked => encode_last_chunk(trailers, out)?,
            Framing::Length(n) if self.sent < n => {
                return Err(Error::invalid(format!(
                    "{} ended after {} of the {n} bytes declared",
                    self.what, self.sent
                )))
            }
            _ => {}
        }
        self.finished = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::conn::mem::MemTransport;
    use super::*;

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

    #[test]
    fn bounded_steps_and_phases() {
        let data = b"a\r\n0123456789\r\n0\r\nX-T";
        let mut t = MemTransport::new([&data[..], b": 1\r\n\r\n"]);
        let mut r = BodyReader::new(Framing::Chunked, Limits::default());
        let mut pieces = Vec::new();
        while !r.data_done() {
            r.step_max(&mut t, 4, &mut |c| {
                pieces.push(c.to_vec());
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(pieces, [&b"0123"[..], b"4567", b"89"]);
        // the last chunk was read on the way to the next data: only trailers are left
        assert!(r.data_done() && !r.is_done());
        assert!(!r.try_trailers(&mut t).unwrap(), "not there yet");
        assert!(!r.step_max(&mut t, 4, &mut |_| Ok(())).unwrap());
        assert!(r.try_trailers(&mut t).unwrap());
        assert!(r.is_done());
        assert_eq!(r.trailers().get("x-t"), Some(&b"1"[..]));
        assert_eq!(r.take_trailers().len(), 1);

        // all of it buffered: one step delivers the data and reaches the end
        let mut t = MemTransport::new([&b"3\r\nabc\r\n0\r\n\r\nNEXT"[..]]);
        let mut r = BodyReader::new(Framing::Chunked, Limits::default());
        assert!(!r
            .step(&mut t, &mut |c| {
                assert_eq!(c, b"abc");
                Ok(())
            })
            .unwrap());
        assert!(r.is_done());
        assert_eq!(t.buffered(), b"NEXT");

        let mut t = MemTransport::new([&b"0123456789"[..]]);
        let mut r = BodyReader::new(Framing::Length(10), Limits::default());
        assert_eq!(r.remaining(), Some(10));
        r.step_max(&mut t, 3, &mut |_| Ok(())).unwrap();
        assert_eq!(r.remaining(), Some(7));
        assert_eq!(
            BodyReader::new(Framing::Chunked, Limits::default()).remaining(),
            None
        );
    }

    #[test]
    fn strict_readers_refuse_control_characters_in_chunk_lines() {
        for line in [
            &b"5;a\rb\r\nhello\r\n0\r\n\r\n"[..],
            b"5;\0\r\nhello\r\n0\r\n\r\n",
        ] {
            let mut t = MemTransport::new([line]);
            let mut r = BodyReader::strict(Framing::Chunked, Limits::default());
            let e = r.read_all(&mut t, &mut |_| Ok(())).unwrap_err();
            assert!(e.msg.contains("control character"), "{}", e.msg);
            // the tolerant reader (the client's) lets them through
            let mut t = MemTransport::new([line]);
            let mut r = BodyReader::new(Framing::Chunked, Limits::default());
            r.read_all(&mut t, &mut |_| Ok(())).unwrap();
        }
    }

    #[test]
    fn writers_frame_and_count() {
        let mut out = Vec::new();
        let mut w = BodyWriter::new(Framing::Chunked, "body");
        w.encode(b"hello", &mut out).unwrap();
        w.encode(b"", &mut out).unwrap();
        w.encode(b" world", &mut out).unwrap();
        let mut tr = Headers::new();
        tr.add("x-sum", b"1").unwrap();
        w.finish(&tr, &mut out).unwrap();
        assert_eq!(out, b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 1\r\n\r\n");
        assert!(w.is_finished());
        assert!(w.finish(&tr, &mut out).is_err(), "twice");
        assert!(w.encode(b"x", &mut out).is_err(), "after the end");

        let mut out = Vec::new();
        let mut w = BodyWriter::new(Framing::Length(4), "request body");
        w.encode(b"ab", &mut out).unwrap();
        let e = w.encode(b"cde", &mut out).unwrap_err();
        assert_eq!(
            e.msg,
            "request body produced more than the 4 bytes declared"
        );
        let e = w.finish(&Headers::new(), &mut out).unwrap_err();
        assert_eq!(e.msg, "request body ended after 2 of the 4 bytes declared");
        w.encode(b"cd", &mut out).unwrap();
        w.finish(&tr, &mut out).unwrap();
        assert_eq!(out, b"abcd", "no trailers without chunked coding");
        assert_eq!(w.sent(), 4);

        let mut out = Vec::new();
        let mut w = BodyWriter::new(Framing::Empty, "response body");
        w.encode(b"dropped", &mut out).unwrap();
        w.finish(&Headers::new(), &mut out).unwrap();
        assert!(out.is_empty());

        // send: small pieces in one send with what was queued, big ones from their place
        let mut t = MemTransport::default();
        let mut w = BodyWriter::new(Framing::Chunked, "body");
        let mut queued = b"HEAD".to_vec();
        w.send(&mut t, b"abc", &mut queued).unwrap();
        assert!(queued.is_empty());
        let big = vec![b'x'; COALESCE + 1];
        w.send(&mut t, &big, &mut queued).unwrap();
        let mut want = b"HEAD3\r\nabc\r\n".to_vec();
        want.extend_from_slice(format!("{:x}\r\n", big.len()).as_bytes());
        want.extend_from_slice(&big);
        want.extend_from_slice(b"\r\n");
        assert_eq!(t.output, want);
    }

    #[test]
    fn reads_resume_after_block() {
        let data = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-One: 1\r\n\r\nNEXT";
        for cut in 1..data.len() {
            let mut t = MemTransport::split(data, cut);
            t.blocky = true;
            let mut r = BodyReader::strict(Framing::Chunked, Limits::default());
            let mut out = Vec::new();
            let mut blocks = 0;
            for _ in 0..10_000 {
                match r.step_max(&mut t, 3, &mut |c| {
                    out.extend_from_slice(c);
                    Ok(())
                }) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) if e.kind == ErrorKind::WouldBlock => blocks += 1,
                    Err(e) => panic!("cut {cut}: {}", e.msg),
                }
            }
            assert!(r.is_done() && blocks > 0);
            assert_eq!(out, b"hello world", "cut {cut}");
            assert_eq!(r.trailers().get("x-one"), Some(&b"1"[..]));
        }
    }
}

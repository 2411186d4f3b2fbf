//! The byte transport the protocol clients run over: a receive buffer the protocol scans
//! in place (so a response head or a reply line is parsed without copying it out first),
//! plus blocking sends. The buffered stream socket implements it; so does an in-memory
//! double in the tests, which can cut its input at any point.
//!
//! Timeouts are the transport's business: `fill` and `send_all` wait as the transport was
//! configured to, and fail with `Timeout` when they may wait no longer.

use crate::error::{Error, ErrorKind, Result};

/// A buffered, blocking byte transport.
pub trait Transport {
    /// Bytes received and not consumed yet.
    fn buffered(&self) -> &[u8];

    /// Receives more bytes, appending them to the buffer (waiting as configured).
    /// `Ok(0)` means the peer closed its side.
    fn fill(&mut self) -> Result<usize>;

    /// Drops the first `n` buffered bytes (`n <= buffered().len()`).
    fn consume(&mut self, n: usize);

    /// Sends all of `data` (waiting as configured).
    fn send_all(&mut self, data: &[u8]) -> Result<()>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn buffered(&self) -> &[u8] {
        (**self).buffered()
    }
    fn fill(&mut self) -> Result<usize> {
        (**self).fill()
    }
    fn consume(&mut self, n: usize) {
        (**self).consume(n)
    }
    fn send_all(&mut self, data: &[u8]) -> Result<()> {
        (**self).send_all(data)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn buffered(&self) -> &[u8] {
        (**self).buffered()
    }
    fn fill(&mut self) -> Result<usize> {
        (**self).fill()
    }
    fn consume(&mut self, n: usize) {
        (**self).consume(n)
    }
    fn send_all(&mut self, data: &[u8]) -> Result<()> {
        (**self).send_all(data)
    }
}

/// Reads one line ending at LF, appending it to `out` without the LF and without a CR just
/// before it. A line longer than `max` bytes is a `Protocol` error and the peer closing
/// before the LF is `Closed`; both append the partial line. When the transport fails
/// (`Timeout`, ...) nothing is consumed: the partial line stays buffered for a retry.
pub fn read_line<T: Transport + ?Sized>(t: &mut T, out: &mut Vec<u8>, max: usize) -> Result<()> {
    let mut scanned = 0;
    loop {
        let buf = t.buffered();
        if let Some(i) = memchr::memchr(b'\n', &buf[scanned..]) {
            let end = scanned + i;
            let line = &buf[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > max {
                out.extend_from_slice(&line[..max]);
                t.consume(end + 1);
                return Err(line_too_long(max));
            }
            out.extend_from_slice(line);
            t.consume(end + 1);
            return Ok(());
        }
        scanned = buf.len();
        if scanned > max {
            out.extend_from_slice(&buf[..max]);
            t.consume(max);
            return Err(line_too_long(max));
        }
        if t.fill()? == 0 {
            let buf = t.buffered();
            let n = buf.len();
            out.extend_from_slice(buf);
            t.consume(n);
            return Err(Error::new(ErrorKind::Closed, "closed"));
        }
    }
}

fn line_too_long(max: usize) -> Error {
    Error::new(ErrorKind::Protocol, format!("line longer than {max} bytes"))
}

/// Refuses bytes that would break a line protocol's framing: CR, LF or NUL.
pub fn check_wire_text(what: &str, value: &[u8]) -> Result<()> {
    if let Some(i) = value
        .iter()
        .position(|&b| b == b'\r' || b == b'\n' || b == 0)
    {
        let c = match value[i] {
            b'\r' => "CR",
            b'\n' => "LF",
            _ => "NUL",
        };
        return Err(Error::invalid(format!(
            "{what} contains {c} at byte {i}; refused before sending"
        )));
    }
    Ok(())
}

/// An in-memory transport for tests: the input is a list of chunks (each `fill` takes one,
/// so tests choose where reads are cut), the output collects everything sent.
#[cfg(test)]
pub(crate) mod mem {
    use super::*;
    use std::collections::VecDeque;

    #[derive(Default)]
    pub struct MemTransport {
        pub input: VecDeque<Vec<u8>>,
        pub buf: Vec<u8>,
        pub output: Vec<u8>,
        /// Returned by `fill` once the input is exhausted (instead of end of stream).
        pub fail_at_end: Option<Error>,
        /// `send_all` fails with this (once) when set.
        pub fail_send: Option<Error>,
        pub fills: usize,
    }

    impl MemTransport {
        pub fn new<I: IntoIterator<Item = C>, C: AsRef<[u8]>>(chunks: I) -> MemTransport {
            MemTransport {
                input: chunks.into_iter().map(|c| c.as_ref().to_vec()).collect(),
                ..Default::default()
            }
        }

        /// The same input cut into chunks of `size` bytes.
        pub fn split(data: &[u8], size: usize) -> MemTransport {
            MemTransport::new(data.chunks(size.max(1)))
        }
    }

    impl Transport for MemTransport {
        fn buffered(&self) -> &[u8] {
            &self.buf
        }
        fn fill(&mut self) -> Result<usize> {
            self.fills += 1;
            match self.input.pop_front() {
                Some(c) => {
                    self.buf.extend_from_slice(&c);
                    Ok(c.len())
                }
                None => match &self.fail_at_end {
                    Some(e) => Err(e.clone()),
                    None => Ok(0),
                },
            }
        }
        fn consume(&mut self, n: usize) {
            self.buf.drain(..n);
        }
        fn send_all(&mut self, data: &[u8]) -> Result<()> {
            if let Some(e) = self.fail_send.take() {
                return Err(e);
            }
            self.output.extend_from_slice(data);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mem::MemTransport;
    use super::*;

    #[test]
    fn lines_at_every_cut() {
        let data = b"first\r\nsecond\nthird\r\n";
        for size in 1..data.len() {
            let mut t = MemTransport::split(data, size);
            let mut out = Vec::new();
            for want in [&b"first"[..], b"second", b"third"] {
                out.clear();
                read_line(&mut t, &mut out, 100).unwrap();
                assert_eq!(out, want, "chunk size {size}");
            }
            out.clear();
            let e = read_line(&mut t, &mut out, 100).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Closed);
        }
    }

    #[test]
    fn partial_line_kept_on_close_and_timeout() {
        let mut t = MemTransport::new([b"abc"]);
        let mut out = Vec::new();
        assert_eq!(
            read_line(&mut t, &mut out, 100).unwrap_err().kind,
            ErrorKind::Closed
        );
        assert_eq!(out, b"abc");

        let mut t = MemTransport::new([b"xy"]);
        t.fail_at_end = Some(Error::kind(ErrorKind::Timeout));
        let mut out = Vec::new();
        assert_eq!(
            read_line(&mut t, &mut out, 100).unwrap_err().kind,
            ErrorKind::Timeout
        );
        // Not consumed: a retry after the timeout still sees the bytes.
        assert_eq!(t.buffered(), b"xy");
    }

    #[test]
    fn long_lines_are_refused() {
        let mut t = MemTransport::split(&[b'a'; 1000], 7);
        let mut out = Vec::new();
        let e = read_line(&mut t, &mut out, 100).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert_eq!(out.len(), 100);

        let mut t = MemTransport::new([&b"0123456789\n"[..]]);
        let mut out = Vec::new();
        assert_eq!(
            read_line(&mut t, &mut out, 5).unwrap_err().kind,
            ErrorKind::Protocol
        );
        assert_eq!(
            read_line(&mut t, &mut out, 5).unwrap_err().kind,
            ErrorKind::Closed
        );
        // exactly at the limit is fine
        let mut t = MemTransport::new([&b"01234\r\n"[..]]);
        let mut out = Vec::new();
        read_line(&mut t, &mut out, 5).unwrap();
        assert_eq!(out, b"01234");
    }

    #[test]
    fn wire_text_check() {
        assert!(check_wire_text("x", b"fine value\t").is_ok());
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b"] {
            let e = check_wire_text("header value", bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert!(e.msg.starts_with("header value contains"), "{}", e.msg);
        }
    }
}

//! LuaSocket's socket sources and sinks, generic over a small byte-stream trait.
//!
//! Sources: [`ByLengthSource`] ("by-length": exactly N bytes), [`UntilClosedSource`]
//! ("until-closed": everything until the peer closes), [`ChunkedSource`] ("http-chunked":
//! a chunked HTTP body, coding removed, trailers handed to the caller). Sinks:
//! [`StreamSink`] in its "keep-open" and "close-when-done" modes, and [`ChunkedSink`]
//! ("http-chunked": applies the coding, last chunk on end).
//!
//! Anything that implements [`ByteStream`] can be used; a socket type only has to provide
//! "read up to N bytes", "write all" and "close". Unlike LuaSocket, data received before
//! an error is never dropped: a source returns it as a chunk and reports the error on the
//! next pull.

use super::chunked::{
    check_trailer_line, parse_size_line, push_hex, TrailerFn, MAX_SIZE_LINE, MAX_TRAILERS,
};
use super::{Sink, Source};
use crate::error::{Error, ErrorKind, Result};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

/// The byte-stream operations the socket sources and sinks need.
pub trait ByteStream {
    /// Reads at most `max` (at least 1) bytes, appending them to `out`, and returns how many
    /// were read (at least 1). The end of the stream is an error of kind `Closed`. On any
    /// error, bytes read before it may already have been appended to `out`.
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize>;

    /// Reads one line ending in LF, appending it to `out` without the LF or a CR before
    /// it. A line longer than `max` bytes is a `Protocol` error. The default reads one
    /// byte at a time so that nothing past the line is consumed; buffered streams should
    /// do better.
    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        loop {
            self.read_some(1, out)?;
            if out.last() == Some(&b'\n') {
                out.pop();
                if out.len() > start && out.last() == Some(&b'\r') {
                    out.pop();
                }
                return Ok(());
            }
            if out.len() - start > max {
                return Err(Error::new(ErrorKind::Protocol, "line too long"));
            }
        }
    }

    /// Writes all of `data` or fails.
    fn write_all(&mut self, data: &[u8]) -> Result<()>;

    /// Closes the stream (idempotent).
    fn close(&mut self);
}

impl<T: ByteStream + ?Sized> ByteStream for &mut T {
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        (**self).read_some(max, out)
    }
    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        (**self).read_line(max, out)
    }
    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        (**self).write_all(data)
    }
    fn close(&mut self) {
        (**self).close()
    }
}

impl<T: ByteStream + ?Sized> ByteStream for Box<T> {
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        (**self).read_some(max, out)
    }
    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        (**self).read_line(max, out)
    }
    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        (**self).write_all(data)
    }
    fn close(&mut self) {
        (**self).close()
    }
}

/// A blocking Unix-domain stream socket (used by the tests; sockit's own sockets get
/// their adapter in the socket layer).
impl ByteStream for UnixStream {
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        let start = out.len();
        out.resize(start + max.max(1), 0);
        loop {
            match self.read(&mut out[start..]) {
                Ok(0) => {
                    out.truncate(start);
                    return Err(Error::kind(ErrorKind::Closed));
                }
                Ok(n) => {
                    out.truncate(start + n);
                    return Ok(n);
                }
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => {
                    out.truncate(start);
                    return Err(Error::io("receive", &e));
                }
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        Write::write_all(self, data).map_err(|e| Error::io("send", &e))
    }

    fn close(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

/// Remembers an error that came with partial data, to report it on the next pull.
#[derive(Default)]
enum Pending {
    #[default]
    None,
    Error(Error),
    End,
}

/// "by-length": reads exactly `length` bytes. If the stream ends or fails first, the
/// bytes received are returned, then the error (`Closed` when the peer closed).
pub struct ByLengthSource<S> {
    stream: S,
    left: u64,
    buf: Vec<u8>,
    pending: Pending,
}

impl<S: ByteStream> ByLengthSource<S> {
    /// Reads `length` bytes from `stream`.
    pub fn new(stream: S, length: u64) -> Self {
        ByLengthSource {
            stream,
            left: length,
            buf: Vec::new(),
            pending: Pending::None,
        }
    }
}

impl<S: ByteStream> Source for ByLengthSource<S> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        match &self.pending {
            Pending::Error(e) => return Err(e.clone()),
            Pending::End => return Ok(None),
            Pending::None => {}
        }
        if self.left == 0 {
            self.pending = Pending::End;
            return Ok(None);
        }
        self.buf.clear();
        let want = (hint.max(1) as u64).min(self.left) as usize;
        match self.stream.read_some(want, &mut self.buf) {
            Ok(_) => {}
            Err(e) => {
                self.pending = Pending::Error(e.clone());
                if self.buf.is_empty() {
                    return Err(e);
                }
            }
        }
        self.left -= self.buf.len() as u64;
        Ok(Some(&self.buf))
    }

    fn size(&mut self) -> Result<Option<u64>> {
        Ok(Some(self.left))
    }
}

/// "until-closed": reads until the peer closes the stream (that is the end, not an
/// error), then closes it. Other errors are returned after any bytes received with them.
pub struct UntilClosedSource<S> {
    stream: S,
    buf: Vec<u8>,
    pending: Pending,
}

impl<S: ByteStream> UntilClosedSource<S> {
    /// Reads everything from `stream`.
    pub fn new(stream: S) -> Self {
        UntilClosedSource {
            stream,
            buf: Vec::new(),
            pending: Pending::None,
        }
    }
}

impl<S: ByteStream> Source for UntilClosedSource<S> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        match &self.pending {
            Pending::Error(e) => return Err(e.clone()),
            Pending::End => return Ok(None),
            Pending::None => {}
        }
        self.buf.clear();
        match self.stream.read_some(hint.max(1), &mut self.buf) {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Closed => {
                self.stream.close();
                self.pending = Pending::End;
                if self.buf.is_empty() {
                    return Ok(None);
                }
            }
            Err(e) => {
                self.pending = Pending::Error(e.clone());
                if self.buf.is_empty() {
                    return Err(e);
                }
            }
        }
        Ok(Some(&self.buf))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    SizeLine,
    Data(u64),
    Done,
}

/// "http-chunked": reads a chunked HTTP body, returning the data with the coding removed.
/// It reads nothing past the body's end (size lines and trailers are read line by line),
/// so the stream can carry a next message. The trailer section (`name: value\r\n` lines)
/// is available from [`ChunkedSource::trailers`] and handed to the `on_trailers`
/// callback when the end is reached.
pub struct ChunkedSource<S> {
    stream: S,
    state: ChunkState,
    buf: Vec<u8>,
    line: Vec<u8>,
    trailers: Vec<u8>,
    on_trailers: Option<TrailerFn>,
    pending: Pending,
}

impl<S: ByteStream> ChunkedSource<S> {
    /// Reads a chunked body from `stream`.
    pub fn new(stream: S) -> Self {
        ChunkedSource {
            stream,
            state: ChunkState::SizeLine,
            buf: Vec::new(),
            line: Vec::new(),
            trailers: Vec::new(),
            on_trailers: None,
            pending: Pending::None,
        }
    }

    /// Calls `f` with the trailer section when the body's end has been read.
    pub fn on_trailers(mut self, f: impl FnMut(&[u8]) + Send + 'static) -> Self {
        self.on_trailers = Some(Box::new(f));
        self
    }

    /// The trailer section (complete once the source has ended).
    pub fn trailers(&self) -> &[u8] {
        &self.trailers
    }

    fn read_trailers(&mut self) -> Result<()> {
        loop {
            self.line.clear();
            self.stream.read_line(MAX_SIZE_LINE * 2, &mut self.line)?;
            if self.line.is_empty() {
                return Ok(());
            }
            check_trailer_line(&self.line)?;
            if self.trailers.len() + self.line.len() + 2 > MAX_TRAILERS {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    "chunked coding: trailer section too large",
                ));
            }
            self.trailers.extend_from_slice(&self.line);
            self.trailers.extend_from_slice(b"\r\n");
        }
    }

    /// Reads until there is data in `self.buf` or the end; returns false at the end.
    fn advance(&mut self, hint: usize) -> Result<bool> {
        loop {
            match self.state {
                ChunkState::Done => return Ok(false),
                ChunkState::SizeLine => {
                    self.line.clear();
                    self.stream.read_line(MAX_SIZE_LINE, &mut self.line)?;
                    let n = parse_size_line(&self.line)?;
                    if n == 0 {
                        self.read_trailers()?;
                        self.state = ChunkState::Done;
                        if let Some(f) = self.on_trailers.as_mut() {
                            f(&self.trailers);
                        }
                        return Ok(false);
                    }
                    self.state = ChunkState::Data(n);
                }
                ChunkState::Data(left) => {
                    let want = (hint.max(1) as u64).min(left) as usize;
                    let r = self.stream.read_some(want, &mut self.buf);
                    let left = left - self.buf.len() as u64;
                    self.state = ChunkState::Data(left);
                    r?;
                    if left == 0 {
                        self.line.clear();
                        self.stream.read_line(2, &mut self.line)?;
                        if !self.line.is_empty() {
                            return Err(Error::new(
                                ErrorKind::Protocol,
                                "chunked coding: chunk data not followed by CRLF",
                            ));
                        }
                        self.state = ChunkState::SizeLine;
                    }
                    return Ok(true);
                }
            }
        }
    }
}

impl<S: ByteStream> Source for ChunkedSource<S> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        match &self.pending {
            Pending::Error(e) => return Err(e.clone()),
            Pending::End => return Ok(None),
            Pending::None => {}
        }
        self.buf.clear();
        match self.advance(hint) {
            Ok(true) => Ok(Some(&self.buf)),
            Ok(false) => {
                self.pending = Pending::End;
                Ok(None)
            }
            Err(e) => {
                self.pending = Pending::Error(e.clone());
                if self.buf.is_empty() {
                    Err(e)
                } else {
                    Ok(Some(&self.buf))
                }
            }
        }
    }
}

/// What a [`StreamSink`] does with the stream at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    /// "keep-open": leave the stream open.
    KeepOpen,
    /// "close-when-done": close it at the end, or when the source fails.
    CloseWhenDone,
}

/// Writes every chunk to a stream ("keep-open" or "close-when-done").
pub struct StreamSink<S> {
    stream: S,
    mode: SinkMode,
}

impl<S: ByteStream> StreamSink<S> {
    /// A sink writing to `stream`.
    pub fn new(stream: S, mode: SinkMode) -> Self {
        StreamSink { stream, mode }
    }
}

impl<S: ByteStream> Sink for StreamSink<S> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.stream.write_all(chunk)
    }
    fn end(&mut self) -> Result<()> {
        if self.mode == SinkMode::CloseWhenDone {
            self.stream.close();
        }
        Ok(())
    }
    fn fail(&mut self, _err: &Error) {
        if self.mode == SinkMode::CloseWhenDone {
            self.stream.close();
        }
    }
}

/// "http-chunked": writes each non-empty chunk with the chunked coding (one write per
/// chunk) and the last chunk `0\r\n\r\n` at the end. When the source fails nothing more is
/// written, so the peer sees an incomplete body rather than a complete one.
pub struct ChunkedSink<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: ByteStream> ChunkedSink<S> {
    /// A sink writing a chunked body to `stream`.
    pub fn new(stream: S) -> Self {
        ChunkedSink {
            stream,
            buf: Vec::new(),
        }
    }
}

impl<S: ByteStream> Sink for ChunkedSink<S> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        push_hex(&mut self.buf, chunk.len());
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(chunk);
        self.buf.extend_from_slice(b"\r\n");
        self.stream.write_all(&self.buf)
    }
    fn end(&mut self) -> Result<()> {
        self.stream.write_all(b"0\r\n\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::chunked::ChunkedEncoder;
    use crate::ltn12::pump;
    use crate::ltn12::sink::ChainSink;
    use crate::ltn12::source::{collect, BytesSource};
    use std::sync::{Arc, Mutex};
    use std::thread;

    fn pair() -> (UnixStream, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        let t = Some(std::time::Duration::from_secs(10));
        for s in [&a, &b] {
            s.set_read_timeout(t).unwrap();
            s.set_write_timeout(t).unwrap();
        }
        (a, b)
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + i / 251) as u8).collect()
    }

    #[test]
    fn by_length_reads_exactly_and_leaves_the_rest() {
        let (mut a, mut b) = pair();
        ByteStream::write_all(&mut a, b"0123456789rest").unwrap();
        let mut s = ByLengthSource::new(&mut b, 10);
        assert_eq!(s.size().unwrap(), Some(10));
        assert_eq!(collect(&mut s, 4).unwrap(), b"0123456789");
        let mut rest = Vec::new();
        b.read_some(100, &mut rest).unwrap();
        assert_eq!(rest, b"rest");
    }

    #[test]
    fn by_length_returns_partial_data_then_closed() {
        let (mut a, mut b) = pair();
        ByteStream::write_all(&mut a, b"abc").unwrap();
        drop(a);
        let mut s = ByLengthSource::new(&mut b, 10);
        assert_eq!(s.pull(100).unwrap(), Some(&b"abc"[..]));
        let e = s.pull(100).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert_eq!(s.pull(100).unwrap_err().kind, ErrorKind::Closed);
    }

    #[test]
    fn until_closed_reads_everything() {
        let (mut a, b) = pair();
        let data = pattern(300_000);
        let d2 = data.clone();
        let t = thread::spawn(move || {
            ByteStream::write_all(&mut a, &d2).unwrap();
        });
        let mut s = UntilClosedSource::new(b);
        let got = collect(&mut s, 4096).unwrap();
        t.join().unwrap();
        assert_eq!(got, data);
        assert_eq!(s.pull(10).unwrap(), None);
    }

    #[test]
    fn chunked_source_decodes_and_stops_at_the_body_end() {
        let (mut a, mut b) = pair();
        ByteStream::write_all(
            &mut a,
            b"3;x=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Sum: 13\r\n\r\nNEXT",
        )
        .unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g2 = got.clone();
        let mut s = ChunkedSource::new(&mut b)
            .on_trailers(move |t| g2.lock().unwrap().extend_from_slice(t));
        assert_eq!(collect(&mut s, 4).unwrap(), b"abc0123456789");
        assert_eq!(s.trailers(), b"X-Sum: 13\r\n");
        drop(s);
        assert_eq!(&*got.lock().unwrap(), b"X-Sum: 13\r\n");
        let mut rest = Vec::new();
        b.read_some(100, &mut rest).unwrap();
        assert_eq!(rest, b"NEXT");
    }

    #[test]
    fn chunked_source_errors() {
        let (mut a, mut b) = pair();
        ByteStream::write_all(&mut a, b"5\r\nab").unwrap();
        drop(a);
        let mut s = ChunkedSource::new(&mut b);
        assert_eq!(s.pull(100).unwrap(), Some(&b"ab"[..]));
        assert_eq!(s.pull(100).unwrap_err().kind, ErrorKind::Closed);
        let (mut a, mut b) = pair();
        ByteStream::write_all(&mut a, b"zz\r\n").unwrap();
        let mut s = ChunkedSource::new(&mut b);
        assert_eq!(s.pull(100).unwrap_err().kind, ErrorKind::Protocol);
    }

    #[test]
    fn sinks_keep_open_close_and_chunk() {
        let (a, mut b) = pair();
        let mut k = StreamSink::new(a, SinkMode::CloseWhenDone);
        pump::all(&mut BytesSource::new(&b"hello"[..]), &mut k, 2).unwrap();
        let got = collect(&mut UntilClosedSource::new(&mut b), 10).unwrap();
        assert_eq!(got, b"hello", "closed when done, so until-closed ends");

        let (mut a, mut b) = pair();
        let mut k = StreamSink::new(&mut a, SinkMode::KeepOpen);
        pump::all(&mut BytesSource::new(&b"hi"[..]), &mut k, 2).unwrap();
        ByteStream::write_all(&mut a, b"!").unwrap();
        let got = collect(&mut ByLengthSource::new(&mut b, 3), 10).unwrap();
        assert_eq!(got, b"hi!");

        let (mut a, mut b) = pair();
        let mut k = ChunkedSink::new(&mut a);
        pump::all(&mut BytesSource::new(&b"abcdefghijklmnopq"[..]), &mut k, 16).unwrap();
        let want = b"10\r\nabcdefghijklmnop\r\n1\r\nq\r\n0\r\n\r\n";
        let got = collect(&mut ByLengthSource::new(&mut b, want.len() as u64), 100).unwrap();
        assert_eq!(got, want);
    }

    /// 8 MiB each way through the chunked sink and source over a Unix socket pair, and the
    /// chunked encoder filter in front of a keep-open sink as a second writer.
    #[test]
    fn chunked_round_trip_over_a_socket() {
        let data = pattern(8 << 20);
        for use_filter in [false, true] {
            let (mut a, b) = pair();
            let d2 = data.clone();
            let t = thread::spawn(move || {
                let mut src = BytesSource::new(&d2[..]);
                if use_filter {
                    let mut k = ChainSink::new(
                        ChunkedEncoder::new(),
                        StreamSink::new(&mut a, SinkMode::KeepOpen),
                    );
                    pump::all(&mut src, &mut k, 8192).unwrap();
                } else {
                    pump::all(&mut src, &mut ChunkedSink::new(&mut a), 8192).unwrap();
                }
            });
            let mut s = ChunkedSource::new(b);
            let mut got = Vec::new();
            pump::all(&mut s, &mut got, 4096).unwrap();
            t.join().unwrap();
            assert!(got == data, "8 MiB round trip (filter: {use_filter})");
        }
    }
}

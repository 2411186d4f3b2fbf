//! LTN12's socket sources and sinks over sockit's own sockets: [`ByteStream`] for the
//! buffered [`Stream`] and for [`Socket`], and [`SharedSocket`], a `ByteStream` over a
//! socket that others share, which holds the socket's lock only while it moves bytes.
//!
//! Reads go through the stream's read buffer with its memchr scanners (a line is one
//! Moonbridge read with LF as terminator, not a byte at a time); large reads into an empty
//! buffer land straight in the caller's chunk. `read_some(max)` waits for `max` bytes, as
//! LuaSocket's `receive(n)` does, so sources hand out full chunks. Writes are LuaSocket
//! sends (all bytes, MSG_NOSIGNAL). Timeouts are the socket's: each call starts their
//! clock, the block timeout bounds each wait and the total timeout the whole call.

use super::stream::ByteStream;
use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{ReadEnd, Stream, Wait};
use crate::io::timeout::{Deadline, Timeout};
use crate::net::socket::Socket;
use crate::sys::poll::{wait_fd, POLLIN, POLLOUT};
use std::os::fd::RawFd;
use std::sync::Arc;

fn closed() -> Error {
    Error::kind(ErrorKind::Closed)
}

fn line_too_long(max: usize) -> Error {
    Error::new(ErrorKind::Protocol, format!("line longer than {max} bytes"))
}

/// What one read attempt came to.
enum Progress {
    /// The read is complete.
    Done,
    /// It would block (only for non-blocking attempts): wait, then try again.
    Again,
}

/// One attempt at reading until `out` has grown by `max` bytes since `start`. The end of
/// the stream is `Closed`; whatever came before it stays in `out`.
fn read_some_step(
    s: &mut Stream,
    max: usize,
    start: usize,
    wait: Wait,
    out: &mut Vec<u8>,
) -> Result<Progress> {
    let want = max - (out.len() - start);
    match s.read(Some(want), None, wait, out)? {
        ReadEnd::MaxLen | ReadEnd::Term => Ok(Progress::Done),
        ReadEnd::Eof => Err(closed()),
        ReadEnd::Block => Ok(Progress::Again),
    }
}

/// One attempt at reading a line (ending in LF) of at most `max` bytes into `out` from
/// `start` on. Once complete, the LF and a CR before it are removed.
fn read_line_step(
    s: &mut Stream,
    max: usize,
    start: usize,
    wait: Wait,
    out: &mut Vec<u8>,
) -> Result<Progress> {
    // Room for the line, its CR and its LF.
    let budget = max.saturating_add(2) - (out.len() - start);
    match s.read(Some(budget), Some(b'\n'), wait, out)? {
        ReadEnd::Term => {
            out.pop();
            if out.len() > start && out.last() == Some(&b'\r') {
                out.pop();
            }
            if out.len() - start > max {
                return Err(line_too_long(max));
            }
            Ok(Progress::Done)
        }
        ReadEnd::MaxLen => Err(line_too_long(max)),
        ReadEnd::Eof => Err(closed()),
        ReadEnd::Block => Ok(Progress::Again),
    }
}

/// A blocking attempt that reports "would block" can only come from a zero timeout
/// (never waits): that is a timeout.
fn blocking(p: Result<Progress>) -> Result<()> {
    match p? {
        Progress::Done => Ok(()),
        Progress::Again => Err(Error::kind(ErrorKind::Timeout)),
    }
}

/// The stream itself, blocking as its timeouts allow.
impl ByteStream for Stream {
    /// Waits for `max` bytes (fewer only with an error: `Closed` at the end of the stream,
    /// `Timeout`), all appended to `out`.
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        let (max, start) = (max.max(1), out.len());
        blocking(read_some_step(self, max, start, Wait::Timeout, out))?;
        Ok(max)
    }

    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        blocking(read_line_step(self, max, start, Wait::Timeout, out))
    }

    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.send(data).1
    }

    fn close(&mut self) {
        let _ = Stream::close(self);
    }
}

/// A client socket (its stream); other states fail as I/O on them does. `close` closes
/// the socket (LuaSocket's `sock:close()`).
impl ByteStream for Socket {
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        self.stream()?.read_some(max, out)
    }

    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        self.stream()?.read_line(max, out)
    }

    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        ByteStream::write_all(self.stream()?, data)
    }

    fn close(&mut self) {
        let _ = Socket::close(self);
    }
}

/// Lends a shared socket for a moment (a lock around it).
pub trait SocketCell {
    /// Runs `f` with the socket locked.
    fn with_socket<R>(&self, f: impl FnOnce(&mut Socket) -> Result<R>) -> Result<R>;
}

impl SocketCell for Arc<parking_lot::Mutex<Socket>> {
    fn with_socket<R>(&self, f: impl FnOnce(&mut Socket) -> Result<R>) -> Result<R> {
        f(&mut self.lock())
    }
}

/// A [`ByteStream`] over a socket shared with others, for sources and sinks that borrow
/// a socket. Each operation locks the socket only to move bytes, without waiting, and
/// waits in poll(2) with the lock released, honouring the socket's timeouts (read when
/// the operation starts). So one thread can pump into a socket while another pumps out
/// of it: neither holds the lock while the kernel is not ready.
pub struct SharedSocket<C> {
    cell: C,
}

impl<C: SocketCell> SharedSocket<C> {
    /// A byte stream over the socket in `cell`.
    pub fn new(cell: C) -> Self {
        SharedSocket { cell }
    }

    /// The cell.
    pub fn cell(&self) -> &C {
        &self.cell
    }

    /// Runs `attempt` on the locked stream until it is done, waiting for `events` with
    /// the lock released whenever it reports [`Progress::Again`].
    fn run(
        &mut self,
        events: i16,
        mut attempt: impl FnMut(&mut Stream) -> Result<Progress>,
    ) -> Result<()> {
        let mut deadline: Option<Deadline> = None;
        // Bounded by the deadline: every round but the last waits in poll(2).
        loop {
            let (progress, fd, timeout) = self.cell.with_socket(|sock| {
                let timeout = sock.timeout();
                let stream = sock.stream()?;
                let fd = stream.fd();
                Ok((attempt(stream)?, fd, timeout))
            })?;
            if let Progress::Done = progress {
                return Ok(());
            }
            let dl = deadline.get_or_insert_with(|| timeout.start());
            wait_ready(fd, events, dl)?;
        }
    }
}

/// Waits for `events` on `fd` until the deadline (`Timeout` then). Without a descriptor
/// (closed meanwhile) there is nothing to wait for: `Closed`.
fn wait_ready(fd: Option<RawFd>, events: i16, dl: &Deadline) -> Result<()> {
    // If another thread closes the socket meanwhile, poll(2) reports the descriptor as
    // invalid (ready), and the next attempt finds the stream closed.
    wait_fd(fd.ok_or_else(closed)?, events, dl)
}

impl<C: SocketCell> ByteStream for SharedSocket<C> {
    /// Waits for `max` bytes, as the stream's own `read_some` does.
    fn read_some(&mut self, max: usize, out: &mut Vec<u8>) -> Result<usize> {
        let (max, start) = (max.max(1), out.len());
        self.run(POLLIN, |s| {
            read_some_step(s, max, start, Wait::NonBlocking, out)
        })?;
        Ok(max)
    }

    fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        self.run(POLLIN, |s| {
            read_line_step(s, max, start, Wait::NonBlocking, out)
        })
    }

    fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let mut done = 0;
        self.run(POLLOUT, |s| {
            // A LuaSocket send that never waits: its timeout is "don't wait" for this
            // attempt, so a full kernel buffer ends it with `Timeout` and the count sent.
            let saved = std::mem::replace(&mut s.timeout, Timeout::nonblocking());
            let (n, r) = s.send(&data[done..]);
            s.timeout = saved;
            done += n;
            match r {
                Ok(()) => Ok(Progress::Done),
                Err(e) if e.kind == ErrorKind::Timeout => Ok(Progress::Again),
                Err(e) => Err(e),
            }
        })
    }

    /// Closes the socket (not the cell).
    fn close(&mut self) {
        let _ = self.cell.with_socket(|s| s.close());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::timeout::TimeoutMode;
    use crate::ltn12::pump;
    use crate::ltn12::source::{collect, BytesSource};
    use crate::ltn12::stream::{
        ByLengthSource, ChunkedSink, ChunkedSource, SinkMode, StreamSink, UntilClosedSource,
    };
    use crate::ltn12::{Sink, Source};
    use crate::net::addr::Family;
    use crate::net::tcp;
    use parking_lot::Mutex;
    use std::thread;
    use std::time::{Duration, Instant};

    /// A connected loopback TCP pair (client, accepted), each with a 10 s block timeout
    /// so that a broken test fails instead of hanging.
    fn pair() -> (Socket, Socket) {
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        let port = server.sockname().unwrap().port();
        let mut c =
            tcp::connect("127.0.0.1", port, None, Family::Any, &Timeout::default()).unwrap();
        let mut a = server.accept().unwrap();
        c.set_timeout(TimeoutMode::Block, 10.0);
        a.set_timeout(TimeoutMode::Block, 10.0);
        (c, a)
    }

    fn shared(s: Socket) -> Arc<Mutex<Socket>> {
        Arc::new(Mutex::new(s))
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    fn send(s: &mut Socket, data: &[u8]) {
        ByteStream::write_all(s, data).unwrap();
    }

    #[test]
    fn by_length_exact_leaves_the_rest_in_the_socket() {
        let (mut c, mut a) = pair();
        send(&mut c, b"0123456789rest\n");
        let mut src = ByLengthSource::new(&mut a, 10);
        assert_eq!(collect(&mut src, 3).unwrap(), b"0123456789");
        assert_eq!(src.pull(3).unwrap(), None);
        // The socket's buffer still holds what follows, for any other read.
        let mut line = Vec::new();
        a.stream().unwrap().read_line(100, &mut line).unwrap();
        assert_eq!(line, b"rest");
    }

    #[test]
    fn by_length_short_at_close_delivers_the_partial_data() {
        for share in [false, true] {
            let (mut c, a) = pair();
            send(&mut c, b"abcdef");
            drop(c);
            let got = if share {
                let mut src = ByLengthSource::new(SharedSocket::new(shared(a)), 100);
                let first = src.pull(64).unwrap().map(<[u8]>::to_vec);
                (first, src.pull(64).unwrap_err().kind)
            } else {
                let mut a = a;
                let mut src = ByLengthSource::new(&mut a, 100);
                let first = src.pull(64).unwrap().map(<[u8]>::to_vec);
                (first, src.pull(64).unwrap_err().kind)
            };
            assert_eq!(
                got,
                (Some(b"abcdef".to_vec()), ErrorKind::Closed),
                "{share}"
            );
        }
    }

    #[test]
    fn by_length_timeout_keeps_the_partial_data() {
        let (mut c, a) = pair();
        send(&mut c, b"abc");
        let a = shared(a);
        a.lock().set_timeout(TimeoutMode::Block, 0.05);
        let mut src = ByLengthSource::new(SharedSocket::new(a.clone()), 10);
        let t = Instant::now();
        assert_eq!(src.pull(10).unwrap(), Some(&b"abc"[..]));
        assert_eq!(src.pull(10).unwrap_err().kind, ErrorKind::Timeout);
        assert!(t.elapsed() >= Duration::from_millis(40));
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn until_closed_reads_everything_then_closes_the_socket() {
        let (c, a) = pair();
        let data = pattern(1 << 20);
        let d2 = data.clone();
        let t = thread::spawn(move || {
            let mut k = StreamSink::new(c, SinkMode::CloseWhenDone);
            pump::all(&mut BytesSource::new(&d2[..]), &mut k, 10_000).unwrap();
        });
        let a = shared(a);
        let mut src = UntilClosedSource::new(SharedSocket::new(a.clone()));
        let got = collect(&mut src, 4096).unwrap();
        t.join().unwrap();
        assert!(got == data);
        assert_eq!(src.pull(10).unwrap(), None);
        assert_eq!(
            a.lock().state(),
            crate::net::socket::State::Closed,
            "until-closed closes the socket at the end"
        );
    }

    #[test]
    fn keep_open_versus_close_when_done() {
        let (c, mut a) = pair();
        let c = shared(c);
        let mut k = StreamSink::new(SharedSocket::new(c.clone()), SinkMode::KeepOpen);
        pump::all(&mut BytesSource::new(&b"one"[..]), &mut k, 2).unwrap();
        assert_eq!(c.lock().state(), crate::net::socket::State::Client);
        send(&mut c.lock(), b"+two");
        let mut k = StreamSink::new(SharedSocket::new(c.clone()), SinkMode::CloseWhenDone);
        pump::all(&mut BytesSource::new(&b"+three"[..]), &mut k, 4).unwrap();
        assert_eq!(c.lock().state(), crate::net::socket::State::Closed);
        let got = collect(&mut UntilClosedSource::new(&mut a), 100).unwrap();
        assert_eq!(got, b"one+two+three");
        // Writing to the closed socket fails cleanly.
        let e = k.put(b"x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        // close-when-done also closes when the source fails.
        let (c, _a) = pair();
        let c = shared(c);
        let mut k = StreamSink::new(SharedSocket::new(c.clone()), SinkMode::CloseWhenDone);
        k.fail(&Error::kind(ErrorKind::Aborted));
        assert_eq!(c.lock().state(), crate::net::socket::State::Closed);
    }

    #[test]
    fn chunked_with_trailers_over_sockit_sockets() {
        let (mut c, mut a) = pair();
        send(
            &mut c,
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\nX-Other: a b\r\n\r\nNEXT\n",
        );
        let mut src = ChunkedSource::new(&mut a);
        assert!(!src.is_done());
        assert_eq!(collect(&mut src, 3).unwrap(), b"Wikipedia");
        assert!(src.is_done());
        assert_eq!(src.trailers(), b"X-Sum: 9\r\nX-Other: a b\r\n");
        drop(src);
        let mut line = Vec::new();
        a.read_line(10, &mut line).unwrap();
        assert_eq!(line, b"NEXT", "nothing past the body was consumed");
    }

    #[test]
    fn chunked_data_is_delivered_before_its_crlf_arrives() {
        let (c, a) = pair();
        let c = shared(c);
        send(&mut c.lock(), b"5\r\nhello");
        let mut src = ChunkedSource::new(SharedSocket::new(shared(a)));
        assert_eq!(src.pull(100).unwrap(), Some(&b"hello"[..]));
        send(&mut c.lock(), b"\r\n0\r\n\r\n");
        assert_eq!(src.pull(100).unwrap(), None);
    }

    #[test]
    fn chunked_errors_keep_the_partial_data() {
        let (mut c, mut a) = pair();
        send(&mut c, b"a\r\n01234");
        drop(c);
        let mut src = ChunkedSource::new(&mut a);
        assert_eq!(src.pull(100).unwrap(), Some(&b"01234"[..]));
        assert_eq!(src.pull(100).unwrap_err().kind, ErrorKind::Closed);

        let (mut c, mut a) = pair();
        let long = vec![b'1'; 5000];
        send(&mut c, &long);
        let e = ChunkedSource::new(&mut a).pull(100).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol, "{}", e.msg);

        let (mut c, mut a) = pair();
        send(&mut c, b"3\r\nabcXY\r\n");
        let mut src = ChunkedSource::new(&mut a);
        assert_eq!(src.pull(100).unwrap(), Some(&b"abc"[..]));
        assert_eq!(src.pull(100).unwrap_err().kind, ErrorKind::Protocol);
    }

    #[test]
    fn lines_are_bounded_and_crlf_stripped() {
        let (mut c, mut a) = pair();
        send(&mut c, b"abc\r\nxy\n12345678\r\n");
        let s = a.stream().unwrap();
        let mut l = Vec::new();
        s.read_line(3, &mut l).unwrap();
        assert_eq!(l, b"abc");
        l.clear();
        s.read_line(3, &mut l).unwrap();
        assert_eq!(l, b"xy");
        l.clear();
        assert_eq!(
            s.read_line(4, &mut l).unwrap_err().kind,
            ErrorKind::Protocol
        );
    }

    #[test]
    fn large_chunks_go_out_without_a_copy_and_decode_the_same() {
        let (c, a) = pair();
        let data = pattern(3 * super::super::stream::CHUNK_COPY_MAX + 5);
        let d2 = data.clone();
        let t = thread::spawn(move || {
            let mut k = ChunkedSink::new(SharedSocket::new(shared(c)));
            pump::all(&mut BytesSource::new(&d2[..]), &mut k, 1 << 20).unwrap();
        });
        let got = collect(
            &mut ChunkedSource::new(SharedSocket::new(shared(a))),
            50_000,
        );
        t.join().unwrap();
        assert!(got.unwrap() == data);
    }

    /// 16 MiB chunked each way at the same time over ONE pair of shared sockets: each
    /// socket is written by one thread and read by another. Holding the socket's lock
    /// while waiting would deadlock here once both kernel buffers are full (or, with a
    /// block timeout, stall for that long each time): it must take well under the 5 s
    /// block timeout.
    #[test]
    fn chunked_both_ways_at_once_over_shared_sockets() {
        let (mut c, mut a) = pair();
        c.set_timeout(TimeoutMode::Block, 5.0);
        a.set_timeout(TimeoutMode::Block, 5.0);
        let (c, a) = (shared(c), shared(a));
        let t0 = Instant::now();
        let data = Arc::new(pattern(16 << 20));
        let mut threads = Vec::new();
        for (from, to) in [(c.clone(), a.clone()), (a.clone(), c.clone())] {
            let d = data.clone();
            threads.push(thread::spawn(move || {
                let mut k = ChunkedSink::new(SharedSocket::new(from));
                pump::all(&mut BytesSource::new(&d[..]), &mut k, 16 * 1024).unwrap();
            }));
            let d = data.clone();
            threads.push(thread::spawn(move || {
                let mut src = ChunkedSource::new(SharedSocket::new(to));
                let mut got = Vec::with_capacity(d.len());
                pump::all(&mut src, &mut got, 32 * 1024).unwrap();
                assert!(got[..] == d[..]);
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_socket_that_is_not_connected_fails_cleanly() {
        let mut m = Socket::tcp(Family::Any).unwrap();
        let e = ByLengthSource::new(&mut m, 5).pull(5).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid, "{}", e.msg);
        let m = shared(m);
        let mut k = StreamSink::new(SharedSocket::new(m.clone()), SinkMode::KeepOpen);
        assert_eq!(k.put(b"x").unwrap_err().kind, ErrorKind::Invalid);
        m.lock().close().unwrap();
        assert_eq!(k.put(b"x").unwrap_err().kind, ErrorKind::Closed);
    }
}

//! The buffered stream behind every TCP and Unix stream socket: one read buffer serving
//! every read shape (LuaSocket patterns, Moonbridge reads and drains), the LuaSocket
//! blocking `send`, and Moonbridge's unbounded write buffer (write / flush / finish).
//!
//! The descriptor is always non-blocking. A call that has to wait does it in poll(2), in
//! one of three ways chosen by its [`Wait`]: honouring the stream's [`Timeout`] (the clock
//! starts when the call starts: *block* bounds each wait, *total* the whole call, 0 never
//! waits), not at all (Moonbridge `_nb`: the call reports "block"), or by calling back
//! (Moonbridge `_call`: the callback runs each time the call would block and may wait,
//! yield, or abort with an error).
//!
//! Rules every operation keeps:
//! - Nothing received is lost: on timeout, close or error the bytes read so far are in the
//!   caller's output.
//! - Writes use MSG_NOSIGNAL: a vanished peer gives `Closed`, never SIGPIPE. EINTR is
//!   retried; ECONNRESET and EPIPE are `Closed`.
//! - A `WouldBlock` from any wait (non-blocking mode, or a callback returning it) means
//!   "stop here": reads report [`ReadEnd::Block`], writes leave the rest buffered.

use super::pattern::{self, Source};
pub use super::pattern::{Pattern, ReadEnd};
pub use super::readbuf::LineMode;
use super::readbuf::{ReadBuf, ScanState, READ_CHUNK};
use super::timeout::{Deadline, Timeout};
use crate::error::{Error, ErrorKind, Result};
use crate::sys::poll::{wait_fd, POLLIN, POLLOUT};
use crate::sys::scan::find_lf;
use socket2::Socket;
use std::fmt;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Moonbridge writes collect in the write buffer until it holds this many bytes; then the
/// stream pushes it out to the kernel (blocking waits push everything, non-blocking ones
/// what the kernel takes). `flush`, `finish` and `close` push whatever is there.
///
/// cbindgen:ignore
pub const WRITE_THRESHOLD: usize = 64 * 1024;

/// What kind of socket a stream owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Tcp,
    Unix,
}

/// What a blocked operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Read,
    Write,
}

/// Which direction [`Stream::shutdown`] closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Read,
    Write,
    Both,
}

/// How an operation waits when the socket is not ready.
pub enum Wait<'a> {
    /// Block in poll(2), honouring the stream's timeouts.
    Timeout,
    /// Never wait: stop and report "block" (Moonbridge `_nb`).
    NonBlocking,
    /// Call this each time the operation would block, then try again (Moonbridge `_call`).
    /// An `Err` aborts the operation with that error.
    Call(&'a mut dyn FnMut(Interest) -> Result<()>),
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wait::Timeout => "Timeout",
            Wait::NonBlocking => "NonBlocking",
            Wait::Call(_) => "Call",
        })
    }
}

/// Waits once for `interest` on `fd` the way `wait` says.
fn wait_ready(fd: RawFd, interest: Interest, wait: &mut Wait, dl: &Deadline) -> Result<()> {
    match wait {
        Wait::Timeout => {
            // Out of time (a zero timeout, LuaSocket's non-blocking mode): the read or
            // write that called has just found nothing to do, so polling would only say
            // so again.
            if dl.next_wait_ms() == 0 {
                return Err(Error::kind(ErrorKind::Timeout));
            }
            let events = match interest {
                Interest::Read => POLLIN,
                Interest::Write => POLLOUT,
            };
            wait_fd(fd, events, dl)
        }
        Wait::NonBlocking => Err(Error::kind(ErrorKind::WouldBlock)),
        Wait::Call(f) => f(interest),
    }
}

fn closed() -> Error {
    Error::kind(ErrorKind::Closed)
}

fn is_block(r: &Result<()>) -> bool {
    matches!(r, Err(e) if e.kind == ErrorKind::WouldBlock)
}

/// Sends all of `data` with MSG_NOSIGNAL, waiting as `wait` says. Returns how many bytes
/// the kernel accepted, also when it stops early with an error.
fn send_all(
    sock: &Socket,
    data: &[u8],
    what: &str,
    wait: &mut Wait,
    dl: &Deadline,
) -> (usize, Result<()>) {
    let mut done = 0;
    while done < data.len() {
        match sock.send_with_flags(&data[done..], libc::MSG_NOSIGNAL) {
            Ok(0) => {
                return (
                    done,
                    Err(Error::new(ErrorKind::Closed, format!("{what}: closed"))),
                )
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = wait_ready(sock.as_raw_fd(), Interest::Write, wait, dl) {
                    return (done, Err(e));
                }
            }
            Err(e) => return (done, Err(Error::io(what, &e))),
        }
    }
    (done, Ok(()))
}

/// One recv(2) straight into the spare capacity of `out`, at most `max` bytes.
fn recv_into(sock: &Socket, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    out.reserve(max.min(READ_CHUNK));
    let len = out.len();
    let spare = out.spare_capacity_mut();
    let n = spare.len().min(max);
    let got = sock.recv(&mut spare[..n])?;
    debug_assert!(got <= n);
    // SAFETY: recv(2) initialised the first `got` (<= n) bytes of the spare capacity, so
    // the first `len + got` elements of `out` are initialised.
    unsafe { out.set_len(len + got) };
    Ok(got)
}

/// The socket as a [`Source`] for the pattern drivers: reads once, waiting as told.
/// Without a socket (a finished Unix stream) it reports end of stream.
struct SockSource<'a, 'w> {
    sock: Option<&'a Socket>,
    wait: &'a mut Wait<'w>,
    dl: &'a Deadline,
    received: &'a mut u64,
}

impl SockSource<'_, '_> {
    fn recv_with(&mut self, mut op: impl FnMut(&Socket) -> io::Result<usize>) -> Result<usize> {
        let Some(sock) = self.sock else {
            return Ok(0);
        };
        loop {
            match op(sock) {
                Ok(n) => {
                    *self.received += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait_ready(sock.as_raw_fd(), Interest::Read, self.wait, self.dl)?
                }
                Err(e) => return Err(Error::io("receive", &e)),
            }
        }
    }
}

impl Source for SockSource<'_, '_> {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.recv_with(|mut s| s.read(buf))
    }

    #[inline]
    fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
        self.recv_with(|s| recv_into(s, out, max))
    }
}

/// A buffered TCP or Unix stream socket.
///
/// Dropping a stream closes its descriptor without flushing: call [`close`](Self::close)
/// (or `flush`) first to send what `write` buffered.
pub struct Stream {
    /// `None` once closed, and after `finish` on a Unix stream (reads then see EOF).
    sock: Option<Socket>,
    kind: StreamKind,
    /// The timeouts blocking calls honour (`Wait::Timeout`, `receive`, `send`, `close`).
    pub timeout: Timeout,
    /// A non-blocking connect is in progress; the first read or write completes it.
    connecting: bool,
    /// The write direction is shut down (`finish` or `shutdown`).
    finished: bool,
    /// `close` or `reset` was called.
    closed: bool,
    rbuf: ReadBuf,
    /// Moonbridge write buffer: `wbuf[wpos..]` is still to be sent.
    wbuf: Vec<u8>,
    wpos: usize,
    received: u64,
    sent: u64,
    born: Instant,
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("fd", &self.fd())
            .field("kind", &self.kind)
            .field("timeout", &self.timeout)
            .field("connecting", &self.connecting)
            .field("finished", &self.finished)
            .field("closed", &self.closed)
            .field("buffered_input", &self.rbuf.len())
            .field("pending_output", &self.pending_output())
            .finish()
    }
}

impl Stream {
    /// Takes a connected socket and makes it non-blocking.
    pub fn new(sock: Socket, kind: StreamKind) -> Result<Stream> {
        sock.set_nonblocking(true)
            .map_err(|e| Error::io("set non-blocking", &e))?;
        Ok(Stream::build(sock, kind, false))
    }

    /// Takes a socket whose non-blocking connect is in progress (connect(2) returned
    /// EINPROGRESS). The first read or write waits for it to complete (as its own `Wait`
    /// says) and reports a failed connect (SO_ERROR, e.g. `Refused`) then.
    pub fn connecting(sock: Socket, kind: StreamKind) -> Stream {
        // The connect is only in progress on a non-blocking socket; this cannot fail on a
        // valid descriptor, and a bad one reports itself at the first operation.
        let _ = sock.set_nonblocking(true);
        Stream::build(sock, kind, true)
    }

    /// Takes a connected socket that the caller has already made non-blocking (so that
    /// nothing can fail once the descriptor is taken over).
    pub(crate) fn from_nonblocking(sock: Socket, kind: StreamKind) -> Stream {
        Stream::build(sock, kind, false)
    }

    fn build(sock: Socket, kind: StreamKind, connecting: bool) -> Stream {
        Stream {
            sock: Some(sock),
            kind,
            timeout: Timeout::default(),
            connecting,
            finished: false,
            closed: false,
            rbuf: ReadBuf::new(),
            wbuf: Vec::new(),
            wpos: 0,
            received: 0,
            sent: 0,
            born: Instant::now(),
        }
    }

    /// TCP or Unix.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// True after `close` or `reset`.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True after `finish` or a write `shutdown`.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// True while a non-blocking connect has not been completed by a read or write.
    pub fn is_connecting(&self) -> bool {
        self.connecting
    }

    /// Marks a non-blocking connect as completed by its owner (who waited for it and
    /// found SO_ERROR clear), so that reads and writes no longer wait for it.
    pub(crate) fn set_connected(&mut self) {
        self.connecting = false;
    }

    /// True when a read can make progress without the kernel: input is buffered, or the
    /// stream is a finished Unix stream whose reads report end of stream (LuaSocket's
    /// "dirty"). False once closed.
    pub fn has_buffered_input(&self) -> bool {
        !self.closed && (!self.rbuf.is_empty() || self.sock.is_none())
    }

    /// The input already buffered (not yet returned by any read).
    pub fn buffered(&self) -> &[u8] {
        if self.closed {
            &[]
        } else {
            self.rbuf.data()
        }
    }

    /// Up to `max` complete lines already buffered, without consuming or reading (see
    /// [`ReadBuf::peek_lines`]). None once closed.
    pub fn peek_lines(&self, mode: LineMode, max: usize, f: impl FnMut(&[u8], usize)) -> usize {
        if self.closed {
            0
        } else {
            self.rbuf.peek_lines(mode, max, f)
        }
    }

    /// Drops the first `n` buffered input bytes (see [`buffered`](Self::buffered)).
    pub fn consume(&mut self, n: usize) {
        self.rbuf.consume(n);
    }

    /// Bytes written with `write`/`write_nb` and not yet passed to the kernel.
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// The descriptor, or `None` when closed (or a finished Unix stream).
    pub fn fd(&self) -> Option<RawFd> {
        self.sock.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// The socket, for options and addresses; `None` as for [`fd`](Self::fd).
    pub fn socket(&self) -> Option<&Socket> {
        self.sock.as_ref()
    }

    /// Bytes received (handed out by reads: what came from the kernel less what is still
    /// buffered, as LuaSocket counts), bytes passed to the kernel, and seconds since the
    /// stream was made (LuaSocket `getstats`).
    pub fn stats(&self) -> (u64, u64, f64) {
        let delivered = self.received.saturating_sub(self.rbuf.len() as u64);
        (delivered, self.sent, self.born.elapsed().as_secs_f64())
    }

    /// Sets the counters and the age (LuaSocket `setstats`); a negative or NaN age
    /// leaves the age alone.
    pub fn set_stats(&mut self, received: u64, sent: u64, age: f64) {
        self.received = received.saturating_add(self.rbuf.len() as u64);
        self.sent = sent;
        if age >= 0.0 {
            let age = Duration::try_from_secs_f64(age).unwrap_or(Duration::MAX);
            self.born = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(closed())
        } else {
            Ok(())
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.closed || self.finished || self.sock.is_none() {
            Err(closed())
        } else {
            Ok(())
        }
    }

    /// Completes a non-blocking connect: waits for writability as `wait` says, then
    /// reports SO_ERROR.
    fn finish_connect(&mut self, wait: &mut Wait, dl: &Deadline) -> Result<()> {
        let Some(sock) = self.sock.as_ref() else {
            return Ok(());
        };
        let fd = sock.as_raw_fd();
        loop {
            match wait_fd(fd, POLLOUT, &Deadline::now()) {
                Ok(()) => break,
                Err(e) if e.kind == ErrorKind::Timeout => {
                    wait_ready(fd, Interest::Write, wait, dl)?
                }
                Err(e) => return Err(e),
            }
        }
        self.connecting = false;
        match sock.take_error() {
            Ok(None) => Ok(()),
            Ok(Some(e)) | Err(e) => Err(Error::io("connect", &e)),
        }
    }

    // ----- LuaSocket receive -------------------------------------------------------------

    /// LuaSocket receive: appends what `pat` asks for to `out`, blocking as the stream's
    /// timeout allows.
    ///
    /// - `Line` and `Word` succeed when their delimiter arrives, `Count(n)` when `n` bytes
    ///   are there; if the peer closes first: `Err(Closed)`, the partial data appended.
    /// - `All` succeeds when the peer closes, with whatever came (possibly nothing; note
    ///   LuaSocket 3 reports "closed" when "*a" gets no byte at all, 1.3b returns "").
    /// - `Count(0)` succeeds at once when input is buffered, otherwise waits for some
    ///   (left unread), `Err(Closed)` at end of stream — LuaSocket 3's behaviour.
    /// - `Err(Timeout)` when the block or total timeout expires, partial data appended.
    /// - On a closed stream: `Err(Closed)`. A finished Unix stream reads as end of stream.
    #[inline]
    pub fn receive(&mut self, pat: Pattern, out: &mut Vec<u8>) -> Result<()> {
        if let Pattern::Line(mode) = pat {
            // Fast path: a whole line is buffered. (A closed or connecting stream has an
            // empty buffer, so it always takes the slow path, which checks.)
            if let Some(i) = find_lf(self.rbuf.data()) {
                self.rbuf
                    .take_line_at(mode, i, out, &mut ScanState::default());
                return Ok(());
            }
        }
        self.receive_slow(pat, out)
    }

    #[inline(never)]
    fn receive_slow(&mut self, pat: Pattern, out: &mut Vec<u8>) -> Result<()> {
        self.check_open()?;
        let dl = self.timeout.start();
        let mut wait = Wait::Timeout;
        if self.connecting {
            self.finish_connect(&mut wait, &dl)?;
        }
        let mut src = SockSource {
            sock: self.sock.as_ref(),
            wait: &mut wait,
            dl: &dl,
            received: &mut self.received,
        };
        pattern::receive(&mut self.rbuf, &mut src, pat, out)
    }

    // ----- Moonbridge read / drain ---------------------------------------------------------

    /// Moonbridge read / read_nb / read_call: appends up to `maxlen` bytes (`None`: no
    /// limit) to `out`, stopping after the first `term` byte (included).
    ///
    /// Returns `Term` when the last byte appended is the terminator, `MaxLen` when `maxlen`
    /// bytes came without it, `Eof` when the peer closed first (the data before it
    /// appended), `Block` when the wait is `NonBlocking` and the socket has nothing more
    /// (the data so far appended). `maxlen == Some(0)` returns `MaxLen` at once without
    /// touching the socket. On `Err` (timeout, reset, a callback's error) the data read so
    /// far is appended too. A closed stream gives `Err(Closed)`; a finished Unix stream
    /// gives its buffered input, then `Eof`.
    pub fn read(
        &mut self,
        maxlen: Option<usize>,
        term: Option<u8>,
        wait: Wait,
        out: &mut Vec<u8>,
    ) -> Result<ReadEnd> {
        self.read_impl(maxlen, term, wait, Some(out)).1
    }

    /// Moonbridge drain / drain_nb / drain_call: like [`read`](Self::read) but discards the
    /// bytes and returns how many there were with the end status.
    pub fn drain(
        &mut self,
        maxlen: Option<usize>,
        term: Option<u8>,
        wait: Wait,
    ) -> Result<(usize, ReadEnd)> {
        let (n, r) = self.read_impl(maxlen, term, wait, None);
        r.map(|end| (n, end))
    }

    fn read_impl(
        &mut self,
        maxlen: Option<usize>,
        term: Option<u8>,
        mut wait: Wait,
        out: Option<&mut Vec<u8>>,
    ) -> (usize, Result<ReadEnd>) {
        if let Err(e) = self.check_open() {
            return (0, Err(e));
        }
        if maxlen == Some(0) {
            return (0, Ok(ReadEnd::MaxLen));
        }
        let dl = self.timeout.start();
        if self.connecting {
            let r = self.finish_connect(&mut wait, &dl);
            if is_block(&r) {
                return (0, Ok(ReadEnd::Block));
            }
            if let Err(e) = r {
                return (0, Err(e));
            }
        }
        let mut src = SockSource {
            sock: self.sock.as_ref(),
            wait: &mut wait,
            dl: &dl,
            received: &mut self.received,
        };
        pattern::read(&mut self.rbuf, &mut src, maxlen, term, out)
    }

    /// Reads once more from the socket into the read buffer, after what is already there
    /// (for parsers that look at [`buffered`](Self::buffered) input). Returns how many
    /// bytes came; 0 is end of stream. `Err(WouldBlock)` for a `NonBlocking` wait with
    /// nothing to read.
    pub fn fill(&mut self, mut wait: Wait) -> Result<usize> {
        self.check_open()?;
        let dl = self.timeout.start();
        if self.connecting {
            self.finish_connect(&mut wait, &dl)?;
        }
        let mut src = SockSource {
            sock: self.sock.as_ref(),
            wait: &mut wait,
            dl: &dl,
            received: &mut self.received,
        };
        self.rbuf.fill_with(|b| src.read(b))
    }

    // ----- LuaSocket send ----------------------------------------------------------------

    /// LuaSocket send: sends all of `data`, blocking as the stream's timeout allows.
    /// Returns how many bytes of `data` the kernel accepted — all of them with `Ok`, fewer
    /// with the error that stopped it (`Timeout`, `Closed` for a vanished peer). Bytes
    /// still in the Moonbridge write buffer go out first and are not counted.
    pub fn send(&mut self, data: &[u8]) -> (usize, Result<()>) {
        if let Err(e) = self.check_writable() {
            return (0, Err(e));
        }
        let dl = self.timeout.start();
        let mut wait = Wait::Timeout;
        if self.connecting {
            if let Err(e) = self.finish_connect(&mut wait, &dl) {
                return (0, Err(e));
            }
        }
        if self.pending_output() > 0 {
            if let Err(e) = self.push(&mut wait, &dl) {
                return (0, Err(e));
            }
        }
        let Some(sock) = self.sock.as_ref() else {
            return (0, Err(closed()));
        };
        let (n, r) = send_all(sock, data, "send", &mut wait, &dl);
        self.sent += n as u64;
        (n, r)
    }

    // ----- Moonbridge write / flush / finish -----------------------------------------------

    /// Sends what is in the write buffer, waiting as `wait` says.
    fn push(&mut self, wait: &mut Wait, dl: &Deadline) -> Result<()> {
        if self.wpos < self.wbuf.len() {
            let Some(sock) = self.sock.as_ref() else {
                return Err(closed());
            };
            let (n, r) = send_all(sock, &self.wbuf[self.wpos..], "write", wait, dl);
            self.wpos += n;
            self.sent += n as u64;
            r?;
        }
        self.wbuf.clear();
        self.wpos = 0;
        Ok(())
    }

    /// Appends to the write buffer, first dropping what was sent when that is at least
    /// half of it (so the copy is paid for by the sends before it).
    fn buffer(&mut self, data: &[u8]) {
        if self.wpos > 0 && self.wpos >= self.wbuf.len() / 2 {
            self.wbuf.drain(..self.wpos);
            self.wpos = 0;
        }
        self.wbuf.extend_from_slice(data);
    }

    /// Write, returning whether it stopped because it would block.
    fn write_impl(&mut self, data: &[u8], mut wait: Wait) -> Result<bool> {
        self.check_writable()?;
        let dl = self.timeout.start();
        if self.connecting {
            let r = self.finish_connect(&mut wait, &dl);
            if is_block(&r) {
                self.buffer(data);
                return Ok(true);
            }
            r?;
        }
        let r = if self.pending_output() == 0 && data.len() >= WRITE_THRESHOLD {
            // Large write into an empty buffer: send straight from `data`, keep the rest.
            let Some(sock) = self.sock.as_ref() else {
                return Err(closed());
            };
            let (n, r) = send_all(sock, data, "write", &mut wait, &dl);
            self.sent += n as u64;
            if n < data.len() {
                self.buffer(&data[n..]);
            }
            r
        } else {
            self.buffer(data);
            if self.pending_output() >= WRITE_THRESHOLD {
                self.push(&mut wait, &dl)
            } else {
                Ok(())
            }
        };
        if is_block(&r) {
            return Ok(true);
        }
        r.map(|()| false)
    }

    /// Moonbridge write / write_call: appends `data` to the (unbounded) write buffer. Once
    /// the buffer holds [`WRITE_THRESHOLD`] bytes it is pushed out: `Wait::Timeout` and
    /// `Wait::Call` wait until the kernel took all of it, `Wait::NonBlocking` never waits
    /// and keeps what the kernel did not take. Call `flush`, `finish` or `close` to send
    /// the rest. Errors: `Closed` after close/finish or when the peer vanished,
    /// `Timeout`, a callback's error (unsent bytes stay buffered).
    pub fn write(&mut self, data: &[u8], wait: Wait) -> Result<()> {
        self.write_impl(data, wait).map(|_| ())
    }

    /// Moonbridge write_nb: [`write`](Self::write) without waiting. Returns 0 when nothing
    /// had to wait (all data passed to the kernel but a small buffered portion below
    /// [`WRITE_THRESHOLD`]), otherwise the number of bytes now in the buffer. See
    /// [`pending_output`](Self::pending_output) for the exact count at any time.
    pub fn write_nb(&mut self, data: &[u8]) -> Result<usize> {
        let blocked = self.write_impl(data, Wait::NonBlocking)?;
        Ok(if blocked { self.pending_output() } else { 0 })
    }

    /// Moonbridge flush / flush_nb / flush_call: passes the whole write buffer to the
    /// kernel. Returns the bytes still buffered: 0 unless the wait is `NonBlocking` (or a
    /// callback returned `WouldBlock`) and the kernel would not take everything.
    pub fn flush(&mut self, mut wait: Wait) -> Result<usize> {
        self.check_writable()?;
        let dl = self.timeout.start();
        if self.connecting {
            let r = self.finish_connect(&mut wait, &dl);
            if is_block(&r) {
                return Ok(self.pending_output());
            }
            r?;
        }
        let r = self.push(&mut wait, &dl);
        if is_block(&r) {
            return Ok(self.pending_output());
        }
        r.map(|()| 0)
    }

    /// Moonbridge finish: flushes, then ends the write direction. TCP: shutdown(SHUT_WR)
    /// sends FIN; reads keep working. Unix: as Moonbridge says, the socket is closed and
    /// later reads see end of stream — first whatever was buffered, including what the
    /// kernel had already queued for us (read in before closing, so it is not lost). The
    /// peer sees end of stream; `close` is still needed to release the stream.
    ///
    /// A second finish does nothing. If the flush cannot complete without waiting
    /// (`NonBlocking`), returns `Err(WouldBlock)` and nothing is shut down: call again.
    pub fn finish(&mut self, wait: Wait) -> Result<()> {
        self.check_open()?;
        if self.finished {
            return Ok(());
        }
        if self.flush(wait)? > 0 {
            return Err(Error::kind(ErrorKind::WouldBlock));
        }
        self.finished = true;
        match self.kind {
            StreamKind::Tcp => match self.sock.as_ref() {
                Some(s) => s
                    .shutdown(std::net::Shutdown::Write)
                    .map_err(|e| Error::io("shutdown", &e)),
                None => Ok(()),
            },
            StreamKind::Unix => {
                self.slurp_queued_input();
                self.sock = None;
                Ok(())
            }
        }
    }

    /// Moves whatever the kernel has queued for us into the read buffer, without waiting.
    fn slurp_queued_input(&mut self) {
        let mut wait = Wait::NonBlocking;
        let dl = Deadline::now();
        let mut src = SockSource {
            sock: self.sock.as_ref(),
            wait: &mut wait,
            dl: &dl,
            received: &mut self.received,
        };
        // Bounded: the queue is finite and nothing can arrive faster than we read it for
        // long; stop at the first "would block", end of stream or error.
        for _ in 0..1024 {
            match self.rbuf.fill_with(|b| src.read(b)) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }

    /// shutdown(2) in one or both directions (LuaSocket `shutdown`). Closing the write side
    /// flushes the write buffer first (bounded by the timeout). On a finished Unix stream it
    /// does nothing.
    pub fn shutdown(&mut self, how: Shutdown) -> Result<()> {
        self.check_open()?;
        let Some(_) = self.sock.as_ref() else {
            return Ok(());
        };
        if how != Shutdown::Read && self.pending_output() > 0 && !self.finished {
            let dl = self.timeout.start();
            let mut wait = Wait::Timeout;
            if self.connecting {
                self.finish_connect(&mut wait, &dl)?;
            }
            self.push(&mut wait, &dl)?;
        }
        let std_how = match how {
            Shutdown::Read => std::net::Shutdown::Read,
            Shutdown::Write => std::net::Shutdown::Write,
            Shutdown::Both => std::net::Shutdown::Both,
        };
        if how != Shutdown::Read {
            self.finished = true;
        }
        let sock = self.sock.as_ref().ok_or_else(closed)?;
        sock.shutdown(std_how)
            .map_err(|e| Error::io("shutdown", &e))
    }

    /// Closes the stream: flushes the write buffer (bounded by the timeout), then closes
    /// the descriptor and frees the buffers. The descriptor is closed even when the flush
    /// fails; its error is returned. Closing a closed stream is `Ok`.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let mut r = Ok(());
        if self.pending_output() > 0 && self.sock.is_some() && !self.finished {
            let dl = self.timeout.start();
            let mut wait = Wait::Timeout;
            if self.connecting {
                r = self.finish_connect(&mut wait, &dl);
            }
            if r.is_ok() {
                r = self.push(&mut wait, &dl);
            }
        }
        self.release();
        r
    }

    /// Aborts the connection: SO_LINGER 0 then close, so a TCP peer gets RST (Moonbridge
    /// `reset`). Buffered output is discarded. Resetting a closed stream is `Ok`.
    pub fn reset(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        if let Some(s) = self.sock.as_ref() {
            // Meaningless for Unix sockets; the close below is what matters there.
            let _ = s.set_linger(Some(Duration::ZERO));
        }
        self.release();
        Ok(())
    }

    /// Gives up the descriptor WITHOUT closing it (LuaSocket's `setfd`): the socket is
    /// returned to the caller, and the stream then reads as closed. Buffered input and
    /// output are dropped.
    pub fn detach(&mut self) -> Option<Socket> {
        let sock = self.sock.take();
        self.release();
        sock
    }

    fn release(&mut self) {
        self.sock = None;
        self.closed = true;
        self.connecting = false;
        // Input dropped unread was never received, as `stats` counts.
        self.received = self.received.saturating_sub(self.rbuf.len() as u64);
        self.rbuf.release();
        self.wbuf = Vec::new();
        self.wpos = 0;
    }
}

impl crate::net::Pollable for Stream {
    fn poll_fd(&self) -> Option<RawFd> {
        self.fd()
    }

    fn has_buffered_input(&self) -> bool {
        Stream::has_buffered_input(self)
    }
}

#[cfg(test)]
mod tests;

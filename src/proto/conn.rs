//! The byte transport the protocol clients run over: a receive buffer the protocol scans
//! in place (so a response head or a reply line is parsed without copying it out first),
//! plus blocking sends. The buffered stream socket implements it; so does an in-memory
//! double in the tests, which can cut its input at any point.
//!
//! Timeouts are the transport's business: `fill` and `send_all` wait as the transport was
//! configured to, and fail with `Timeout` when they may wait no longer.

use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Stream, Wait};
use crate::io::timeout::{Deadline, Timeout};
use crate::net::addr::Family;
use crate::net::socket::{Address, Socket};
use crate::net::tcp;
use crate::sys::poll::{wait_fd, POLLIN};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A buffered, blocking byte transport.
pub trait Transport {
    /// Bytes received and not consumed yet (empty once the transport is closed).
    fn buffered(&mut self) -> &[u8];

    /// Receives more bytes, appending them to the buffer (waiting as configured).
    /// `Ok(0)` means the peer closed its side.
    fn fill(&mut self) -> Result<usize>;

    /// Drops the first `n` buffered bytes (`n <= buffered().len()`).
    fn consume(&mut self, n: usize);

    /// Sends all of `data` (waiting as configured).
    fn send_all(&mut self, data: &[u8]) -> Result<()>;

    /// Waits at most `d` for input (buffered input counts): whether some is there. The
    /// default says yes at once (in-memory transports always have their input).
    fn wait_readable(&mut self, d: Duration) -> Result<bool> {
        let _ = d;
        Ok(true)
    }

    /// Passes output that sends queued (a non-blocking transport's) to the kernel:
    /// returns how many bytes are still queued (0 for blocking transports, which queue
    /// nothing).
    fn flush_output(&mut self) -> Result<usize> {
        Ok(0)
    }

    /// Ends the write direction (FIN) once the queued output is out. A non-blocking
    /// transport with output still queued reports `WouldBlock` and does nothing.
    fn finish_output(&mut self) -> Result<()> {
        Ok(())
    }

    /// Closes the transport (after trying to send what is queued).
    fn close_transport(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn buffered(&mut self) -> &[u8] {
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
    fn wait_readable(&mut self, d: Duration) -> Result<bool> {
        (**self).wait_readable(d)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn buffered(&mut self) -> &[u8] {
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
    fn wait_readable(&mut self, d: Duration) -> Result<bool> {
        (**self).wait_readable(d)
    }
    fn flush_output(&mut self) -> Result<usize> {
        (**self).flush_output()
    }
    fn finish_output(&mut self) -> Result<()> {
        (**self).finish_output()
    }
    fn close_transport(&mut self) -> Result<()> {
        (**self).close_transport()
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

/// The stream's timeouts for the next wait of an operation whose waits each last at
/// most `block` and which must end by `end`.
fn clock_timeout(block: Option<Duration>, end: Option<Instant>) -> Timeout {
    Timeout {
        block,
        total: end.map(|end| end.saturating_duration_since(Instant::now())),
    }
}

/// Waits at most `d` for input on `stream` (buffered input counts).
fn stream_wait_readable(stream: &mut Stream, d: Duration) -> Result<bool> {
    if !stream.buffered().is_empty() {
        return Ok(true);
    }
    let Some(fd) = stream.fd() else {
        return Err(Error::new(ErrorKind::Closed, "closed"));
    };
    let dl = Deadline::after_secs(d.as_secs_f64());
    match wait_fd(fd, POLLIN, &dl) {
        Ok(()) => Ok(true),
        Err(e) if e.kind == ErrorKind::Timeout => Ok(false),
        Err(e) => Err(e),
    }
}

/// A buffered stream (any TCP or Unix stream socket's, over whatever transport it has)
/// as a protocol transport for one operation, reading through the stream's own buffer so
/// that what it leaves unread stays there for the stream's other readers.
///
/// Blocking: the operation's clock starts when the `StreamIo` is made, from the stream's
/// own timeouts: each wait lasts at most the block timeout, all of them together at most
/// the total timeout (LuaSocket's rules, applied to the whole operation). The stream's
/// timeouts are left as they were when the `StreamIo` is dropped.
///
/// Non-blocking: reads report `WouldBlock` instead of waiting, and sends never wait: what
/// the kernel does not take is queued in the stream's write buffer (see
/// [`flush_output`](Transport::flush_output)).
pub struct StreamIo<'a> {
    stream: &'a mut Stream,
    block: Option<Duration>,
    end: Option<Instant>,
    nonblocking: bool,
    saved: Timeout,
}

impl<'a> StreamIo<'a> {
    /// The stream for one operation: blocking on the stream's own timeouts, or never
    /// waiting when `nonblocking`.
    pub fn new(stream: &'a mut Stream, nonblocking: bool) -> StreamIo<'a> {
        let saved = stream.timeout;
        StreamIo {
            block: saved.block,
            end: saved.total.map(|t| Instant::now() + t),
            stream,
            nonblocking,
            saved,
        }
    }

    /// The stream itself.
    pub fn stream(&mut self) -> &mut Stream {
        self.stream
    }

    fn apply_timeout(&mut self) {
        self.stream.timeout = clock_timeout(self.block, self.end);
    }
}

impl Drop for StreamIo<'_> {
    fn drop(&mut self) {
        self.stream.timeout = self.saved;
    }
}

impl Transport for StreamIo<'_> {
    fn buffered(&mut self) -> &[u8] {
        self.stream.buffered()
    }

    fn fill(&mut self) -> Result<usize> {
        if self.nonblocking {
            return self.stream.fill(Wait::NonBlocking);
        }
        self.apply_timeout();
        self.stream.fill(Wait::Timeout)
    }

    fn consume(&mut self, n: usize) {
        self.stream.consume(n)
    }

    fn send_all(&mut self, data: &[u8]) -> Result<()> {
        if self.nonblocking {
            // Queued, and passed on at once as far as the kernel takes it.
            self.stream.write(data, Wait::NonBlocking)?;
            return self.stream.flush(Wait::NonBlocking).map(|_| ());
        }
        self.apply_timeout();
        self.stream.send(data).1
    }

    fn wait_readable(&mut self, d: Duration) -> Result<bool> {
        stream_wait_readable(self.stream, d)
    }

    fn flush_output(&mut self) -> Result<usize> {
        if self.nonblocking {
            return self.stream.flush(Wait::NonBlocking);
        }
        self.apply_timeout();
        self.stream.flush(Wait::Timeout)
    }

    fn finish_output(&mut self) -> Result<()> {
        if self.nonblocking {
            return self.stream.finish(Wait::NonBlocking);
        }
        self.apply_timeout();
        self.stream.finish(Wait::Timeout)
    }

    fn close_transport(&mut self) -> Result<()> {
        self.apply_timeout();
        self.stream.close()
    }
}

/// A connected TCP socket as a transport, with one clock for a whole exchange: each wait
/// lasts at most `block`, and all of them together end at the deadline set by
/// [`TcpConn::set_timeout`] (LuaSocket's block and total timeouts, applied per request
/// instead of per call).
#[derive(Debug)]
pub struct TcpConn {
    sock: Socket,
    peer: SocketAddr,
    block: Option<Duration>,
    end: Option<Instant>,
}

impl TcpConn {
    /// Connects to `host`:`port`, trying each resolved address in turn; `timeout` bounds
    /// each attempt and becomes the connection's timeout.
    pub fn connect(host: &str, port: u16, timeout: Timeout) -> Result<TcpConn> {
        let sock = tcp::connect(host, port, None, Family::Any, &timeout)?;
        TcpConn::from_socket(sock, timeout)
    }

    /// Wraps a connected client socket.
    pub fn from_socket(sock: Socket, timeout: Timeout) -> Result<TcpConn> {
        let peer = match sock.peername()? {
            Address::Ip(a) => a,
            Address::Unix(_) => return Err(Error::invalid("not a TCP socket")),
        };
        let mut c = TcpConn {
            sock,
            peer,
            block: None,
            end: None,
        };
        c.set_timeout(timeout);
        Ok(c)
    }

    /// Restarts the clock: every wait from now on lasts at most `timeout.block`, and the
    /// total timeout (if any) runs from now.
    pub fn set_timeout(&mut self, timeout: Timeout) {
        self.block = timeout.block;
        self.end = timeout.total.map(|t| Instant::now() + t);
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The peer's IP address.
    pub fn peer_ip(&self) -> IpAddr {
        self.peer.ip()
    }

    /// The local address.
    pub fn local(&self) -> Result<SocketAddr> {
        match self.sock.sockname()? {
            Address::Ip(a) => Ok(a),
            Address::Unix(_) => Err(Error::invalid("not a TCP socket")),
        }
    }

    /// The socket, for select/poll and options.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Whether an idle connection can no longer be used: the peer closed it, reset it, or
    /// sent bytes nobody asked for. Never waits.
    pub fn is_stale(&mut self) -> bool {
        let Ok(stream) = self.sock.stream() else {
            return true;
        };
        if !stream.buffered().is_empty() {
            return true;
        }
        let Some(fd) = stream.fd() else {
            return true;
        };
        let mut p = [libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        !matches!(crate::sys::poll::poll(&mut p, &Deadline::now()), Ok(0))
    }

    /// Closes the connection (idempotent).
    pub fn close(&mut self) {
        let _ = self.sock.close();
    }

    /// Closes the connection with a reset (SO_LINGER 0).
    pub fn reset(&mut self) {
        let _ = self.sock.reset();
    }

    /// Ends the write direction (FIN) after sending what is buffered.
    pub fn finish(&mut self) -> Result<()> {
        self.apply_timeout();
        let stream = self.sock.stream()?;
        stream.finish(Wait::Timeout)
    }

    /// Puts the remaining time on the stream's clock.
    fn apply_timeout(&mut self) {
        let t = clock_timeout(self.block, self.end);
        if let Ok(s) = self.sock.stream() {
            s.timeout = t;
        }
    }
}

impl Transport for TcpConn {
    fn buffered(&mut self) -> &[u8] {
        match self.sock.stream() {
            Ok(s) => s.buffered(),
            Err(_) => &[],
        }
    }

    fn fill(&mut self) -> Result<usize> {
        self.apply_timeout();
        self.sock.stream()?.fill(Wait::Timeout)
    }

    fn consume(&mut self, n: usize) {
        if let Ok(s) = self.sock.stream() {
            s.consume(n);
        }
    }

    fn send_all(&mut self, data: &[u8]) -> Result<()> {
        self.apply_timeout();
        self.sock.stream()?.send(data).1
    }

    fn wait_readable(&mut self, d: Duration) -> Result<bool> {
        stream_wait_readable(self.sock.stream()?, d)
    }
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
        /// Every other `fill` reports "block" (a non-blocking transport) when set.
        pub blocky: bool,
        blocked: bool,
        /// `finish_output` / `close_transport` were called.
        pub finished: bool,
        pub closed: bool,
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
        fn buffered(&mut self) -> &[u8] {
            &self.buf
        }
        fn fill(&mut self) -> Result<usize> {
            if self.blocky {
                self.blocked = !self.blocked;
                if self.blocked {
                    return Err(Error::kind(ErrorKind::WouldBlock));
                }
            }
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
            if self.finished || self.closed {
                return Err(Error::kind(ErrorKind::Closed));
            }
            if let Some(e) = self.fail_send.take() {
                return Err(e);
            }
            self.output.extend_from_slice(data);
            Ok(())
        }
        fn finish_output(&mut self) -> Result<()> {
            self.finished = true;
            Ok(())
        }
        fn close_transport(&mut self) -> Result<()> {
            self.closed = true;
            self.buf.clear();
            self.input.clear();
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

#[cfg(test)]
mod tcp_tests {
    use super::*;
    use crate::proto::tp::Tp;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    fn timeout(block: f64) -> Timeout {
        Timeout {
            block: Some(Duration::from_secs_f64(block)),
            total: None,
        }
    }

    /// A one-connection server running `f` on its side; returns its port.
    fn serve(
        f: impl FnOnce(std::net::TcpStream) + Send + 'static,
    ) -> (u16, thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            f(s)
        });
        (port, h)
    }

    #[test]
    fn tp_over_tcp() {
        let (port, h) = serve(|mut s| {
            s.write_all(b"220-hello\r\n220 ready\r\n").unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"NOOP\r\n");
            s.write_all(b"250 ok\r\n").unwrap();
        });
        let conn = TcpConn::connect("127.0.0.1", port, timeout(5.0)).unwrap();
        assert_eq!(conn.peer().port(), port);
        assert_eq!(conn.peer_ip().to_string(), "127.0.0.1");
        let mut tp = Tp::new(conn);
        assert_eq!(tp.check("2..").unwrap().text, "220-hello\n220 ready");
        assert_eq!(tp.exchange("noop", None, "250").unwrap().code, 250);
        assert_eq!(tp.get_reply().unwrap_err().kind, ErrorKind::Closed);
        h.join().unwrap();
    }

    #[test]
    fn block_and_total_timeouts() {
        let (port, h) = serve(|mut s| {
            s.write_all(b"220 ").unwrap();
            thread::sleep(Duration::from_millis(600));
        });
        let mut conn = TcpConn::connect("127.0.0.1", port, timeout(0.1)).unwrap();
        let start = Instant::now();
        let mut out = Vec::new();
        let e = read_line(&mut conn, &mut out, 100).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(start.elapsed() < Duration::from_millis(500));
        assert_eq!(conn.buffered(), b"220 ", "partial input stays buffered");

        conn.set_timeout(Timeout {
            block: Some(Duration::from_secs(5)),
            total: Some(Duration::from_millis(150)),
        });
        let start = Instant::now();
        let e = read_line(&mut conn, &mut out, 100).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(start.elapsed() < Duration::from_millis(500));
        h.join().unwrap();
    }

    #[test]
    fn stale_detection() {
        let (port, h) = serve(drop);
        let mut conn = TcpConn::connect("127.0.0.1", port, timeout(5.0)).unwrap();
        h.join().unwrap();
        let start = Instant::now();
        while !conn.is_stale() && start.elapsed() < Duration::from_secs(2) {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(conn.is_stale());

        let (port, h) = serve(|s| {
            thread::sleep(Duration::from_millis(300));
            drop(s)
        });
        let mut conn = TcpConn::connect("127.0.0.1", port, timeout(5.0)).unwrap();
        assert!(!conn.is_stale());
        conn.close();
        assert!(conn.is_stale());
        assert_eq!(conn.send_all(b"x").unwrap_err().kind, ErrorKind::Closed);
        h.join().unwrap();
    }

    #[test]
    fn refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let e = TcpConn::connect("127.0.0.1", port, timeout(2.0)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused);
    }
}

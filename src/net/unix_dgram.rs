//! Unix-domain datagram sockets (LuaSocket 3.1's `socket.unix.dgram()`).
//!
//! A `UnixDgram` is unconnected (it sends with `sendto` and receives from anyone) until
//! `connect` gives it a peer; then it sends with `send` and the kernel delivers only
//! datagrams from that peer. `disconnect` makes it unconnected again.
//!
//! As `crate::net::udp`: the descriptor is non-blocking and close-on-exec; receiving
//! waits in poll(2) under the socket's timeouts (block and total, see
//! `crate::io::timeout`); sending waits only when the kernel has no room, under the same
//! timeouts. Datagrams are atomic: `receive(size)` returns at most `size` bytes of the
//! next datagram and the rest of it is discarded. Zero-length datagrams can be sent and
//! received. Paths are file-system paths of at most `unix::MAX_PATH` bytes (longer or
//! empty ones are `Invalid`); abstract names are not supported.
//!
//! The waiting loops live in `send_wait` and `recv_wait`, free functions over a
//! `socket2::Socket` and a `Timeout`, so other datagram sockets can share them.

use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::{Timeout, TimeoutMode};
use crate::net::dgram::{self, recv_wait, send_wait};
use crate::net::options::{self, Opt, OptValue};
use crate::net::socket::SetFdResult;
use crate::net::unix::unix_addr;
use crate::net::Pollable;
use crate::sys::poll::POLLOUT;
use socket2::{Domain, SockAddr, Socket, Type};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub use crate::net::dgram::{DEFAULT_SIZE, MAX_DATAGRAM};

/// A Unix-domain datagram socket.
#[derive(Debug)]
pub struct UnixDgram {
    sock: Option<Socket>,
    closed: bool,
    /// Closed by `set_fd(None)` rather than `close`: `set_fd` can bring it back.
    detached: bool,
    connected: bool,
    timeout: Timeout,
}

/// The path of a Unix socket address; empty for an unnamed (unbound) socket.
fn addr_path(a: &SockAddr) -> PathBuf {
    a.as_pathname().map(Path::to_path_buf).unwrap_or_default()
}

/// Dissolves a datagram association: connect(2) to an AF_UNSPEC address.
fn dissolve(s: &Socket) -> Result<()> {
    // SAFETY: a zeroed sockaddr_storage is valid; only its family is set, and the length
    // covers the family field as connect(2) requires.
    let unspec = unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        storage.ss_family = libc::AF_UNSPEC as libc::sa_family_t;
        SockAddr::new(
            storage,
            std::mem::size_of::<libc::sa_family_t>() as libc::socklen_t,
        )
    };
    match s.connect(&unspec) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Ok(()),
        Err(e) => Err(Error::io("disconnect", &e)),
    }
}

impl UnixDgram {
    /// A new unbound, unconnected socket.
    pub fn new() -> Result<UnixDgram> {
        let sock = Socket::new(Domain::UNIX, Type::DGRAM.nonblocking().cloexec(), None)
            .map_err(|e| Error::io("unix dgram socket", &e))?;
        Ok(UnixDgram {
            sock: Some(sock),
            closed: false,
            detached: false,
            connected: false,
            timeout: Timeout::default(),
        })
    }

    /// True after a successful `connect` (until `disconnect` or close).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// True once closed (or detached by `set_fd(None)`).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn sock(&self, what: &str) -> Result<&Socket> {
        self.sock
            .as_ref()
            .ok_or_else(|| Error::new(ErrorKind::Closed, format!("{what}: closed")))
    }

    /// Binds the socket to `path` (the socket file is created there; an existing file
    /// makes this fail with "address already in use").
    pub fn bind(&mut self, path: &Path) -> Result<()> {
        let s = self.sock("bind")?;
        let a = unix_addr(path).map_err(|e| e.context("bind"))?;
        s.bind(&a)
            .map_err(|e| Error::io(&format!("bind {}", path.display()), &e))
    }

    /// Gives the socket the peer bound at `path`: afterwards `send` sends to it and only
    /// its datagrams are received.
    pub fn connect(&mut self, path: &Path) -> Result<()> {
        let s = self.sock("connect")?;
        let a = unix_addr(path).map_err(|e| e.context("connect"))?;
        s.connect(&a)
            .map_err(|e| Error::io(&format!("connect {}", path.display()), &e))?;
        self.connected = true;
        Ok(())
    }

    /// Removes the peer (connect(2) to AF_UNSPEC, which Linux supports for Unix datagram
    /// sockets); a no-op on an unconnected socket.
    pub fn disconnect(&mut self) -> Result<()> {
        let s = self.sock("disconnect")?;
        if self.connected {
            dissolve(s)?;
        }
        self.connected = false;
        Ok(())
    }

    /// Sends one datagram to the peer; returns the bytes sent (all of `data`). Fails
    /// with `Invalid` when the socket has no peer.
    pub fn send(&mut self, data: &[u8]) -> Result<usize> {
        let s = self.sock("send")?;
        if !self.connected {
            return Err(Error::invalid(
                "send: the socket has no peer (call connect first, or use sendto)",
            ));
        }
        send_wait(
            s,
            &self.timeout,
            POLLOUT,
            || "send".into(),
            |s| s.send(data),
        )
    }

    /// Sends one datagram to the socket bound at `path`; returns the bytes sent. Fails
    /// with `IsConn` on a socket that has a peer.
    pub fn sendto(&mut self, data: &[u8], path: &Path) -> Result<usize> {
        let s = self.sock("sendto")?;
        if self.connected {
            return Err(Error::new(
                ErrorKind::IsConn,
                "sendto: the socket has a peer (use send, or disconnect first)",
            ));
        }
        let a = unix_addr(path).map_err(|e| e.context("sendto"))?;
        send_wait(
            s,
            &self.timeout,
            POLLOUT,
            || format!("sendto {}", path.display()),
            |s| s.send_to(data, &a),
        )
    }

    /// Receives the next datagram into `out` (cleared first): at most `size` bytes, the
    /// rest of a longer datagram is discarded. Waits under the socket's timeouts.
    pub fn receive(&mut self, size: usize, out: &mut Vec<u8>) -> Result<()> {
        let s = self.sock("receive")?;
        recv_wait(s, &self.timeout, size, out, false, "receive").map(|_| ())
    }

    /// As `receive`, and returns the sender's path (empty when the sender is unbound).
    pub fn receivefrom(&mut self, size: usize, out: &mut Vec<u8>) -> Result<PathBuf> {
        let s = self.sock("receivefrom")?;
        let a = recv_wait(s, &self.timeout, size, out, true, "receivefrom")?;
        Ok(a.as_ref().map(addr_path).unwrap_or_default())
    }

    /// The bound path; empty before `bind`.
    pub fn getsockname(&self) -> Result<PathBuf> {
        let s = self.sock("getsockname")?;
        let a = s.local_addr().map_err(|e| Error::io("getsockname", &e))?;
        Ok(addr_path(&a))
    }

    /// The peer's path; `Invalid` when the socket has no peer.
    pub fn getpeername(&self) -> Result<PathBuf> {
        let s = self.sock("getpeername")?;
        if !self.connected {
            return Err(Error::invalid("getpeername: the socket has no peer"));
        }
        let a = s.peer_addr().map_err(|e| Error::io("getpeername", &e))?;
        Ok(addr_path(&a))
    }

    /// Sets the block or total timeout (negative or NaN = forever, 0 = never wait).
    pub fn settimeout(&mut self, secs: f64, mode: TimeoutMode) {
        self.timeout.set(mode, secs);
    }

    /// The configured timeouts.
    pub fn timeout(&self) -> Timeout {
        self.timeout
    }

    /// Sets a socket option (see `crate::net::options`; options of other protocols fail).
    pub fn setoption(&mut self, name: &str, value: OptValue) -> Result<()> {
        let s = self.sock("setoption")?;
        options::set_opt(s, Opt::parse(name)?, value)
    }

    /// Reads a socket option.
    pub fn getoption(&self, name: &str) -> Result<OptValue> {
        let s = self.sock("getoption")?;
        options::get_opt(s, Opt::parse(name)?)
    }

    /// Closes the descriptor. Idempotent; every later call but `close` fails with
    /// `Closed`. The socket file of a bound socket stays (as in LuaSocket).
    pub fn close(&mut self) {
        self.sock = None;
        self.closed = true;
        self.detached = false;
        self.connected = false;
    }

    /// LuaSocket's `setfd`, as `Udp::set_fd`: the socket now uses and owns `fd` (made
    /// non-blocking); the descriptor held before is handed back WITHOUT being closed.
    /// `None` detaches (reads as closed until a later `set_fd`). The connected state and
    /// timeouts stay. A closed socket takes no descriptor (`Closed`; `None` does
    /// nothing); `fd` is then handed back, as when it cannot be made non-blocking.
    pub fn set_fd(&mut self, fd: Option<OwnedFd>) -> SetFdResult {
        dgram::set_fd(
            &mut self.sock,
            &mut self.closed,
            &mut self.detached,
            fd,
            |_| {},
        )
    }

    /// The descriptor, or `None` when closed.
    pub fn fd(&self) -> Option<RawFd> {
        self.sock.as_ref().map(|s| s.as_raw_fd())
    }
}

impl Pollable for UnixDgram {
    fn poll_fd(&self) -> Option<RawFd> {
        self.fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::unix::testdir::TempDir;
    use crate::net::unix::MAX_PATH;
    use std::time::Instant;

    fn bound(p: &Path) -> UnixDgram {
        let mut u = UnixDgram::new().unwrap();
        u.bind(p).unwrap();
        u.settimeout(2.0, TimeoutMode::Block);
        u
    }

    #[test]
    fn exchange_truncation_zero_length_and_names() {
        let dir = TempDir::new();
        let (pa, pb) = (dir.path("a"), dir.path("b"));
        let mut a = bound(&pa);
        let mut b = bound(&pb);
        assert_eq!(a.getsockname().unwrap(), pa);
        let mut buf = vec![b'x'];

        assert_eq!(b.sendto(b"", &pa).unwrap(), 0);
        assert_eq!(a.receivefrom(100, &mut buf).unwrap(), pb);
        assert!(buf.is_empty());

        let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        b.sendto(&big, &pa).unwrap();
        b.sendto(b"next", &pa).unwrap();
        a.receive(10, &mut buf).unwrap();
        assert_eq!(buf, &big[..10]);
        a.receive(DEFAULT_SIZE, &mut buf).unwrap();
        assert_eq!(buf, b"next");

        // Size 0 discards one datagram.
        b.sendto(b"gone", &pa).unwrap();
        b.sendto(b"kept", &pa).unwrap();
        a.receive(0, &mut buf).unwrap();
        assert!(buf.is_empty());
        a.receive(usize::MAX, &mut buf).unwrap();
        assert_eq!(buf, b"kept");

        // Connected.
        assert!(b.getpeername().unwrap_err().kind == ErrorKind::Invalid);
        assert_eq!(b.send(b"x").unwrap_err().kind, ErrorKind::Invalid);
        b.connect(&pa).unwrap();
        assert!(b.is_connected());
        assert_eq!(b.getpeername().unwrap(), pa);
        assert_eq!(b.sendto(b"x", &pa).unwrap_err().kind, ErrorKind::IsConn);
        assert_eq!(b.send(b"hello").unwrap(), 5);
        assert_eq!(a.receivefrom(100, &mut buf).unwrap(), pb);
        assert_eq!(buf, b"hello");

        b.disconnect().unwrap();
        assert!(!b.is_connected());
        b.disconnect().unwrap();
        b.sendto(b"again", &pa).unwrap();
        a.receive(100, &mut buf).unwrap();
        assert_eq!(buf, b"again");

        // An unbound sender has no path.
        let mut c = UnixDgram::new().unwrap();
        assert_eq!(c.getsockname().unwrap(), PathBuf::new());
        c.sendto(b"anon", &pa).unwrap();
        assert_eq!(a.receivefrom(100, &mut buf).unwrap(), PathBuf::new());
        assert_eq!(buf, b"anon");
    }

    #[test]
    fn timeouts_and_bad_paths() {
        let dir = TempDir::new();
        let pa = dir.path("a");
        let mut a = bound(&pa);
        let mut buf = vec![1, 2];
        a.settimeout(0.0, TimeoutMode::Block);
        let e = a.receive(10, &mut buf).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(buf.is_empty());
        a.settimeout(0.1, TimeoutMode::Block);
        let t = Instant::now();
        assert_eq!(
            a.receivefrom(10, &mut buf).unwrap_err().kind,
            ErrorKind::Timeout
        );
        let el = t.elapsed().as_secs_f64();
        assert!((0.08..1.5).contains(&el), "{el}");

        // Bound twice at the same path.
        let mut b = UnixDgram::new().unwrap();
        assert!(b.bind(&pa).is_err());
        // Too long / empty paths.
        let long = PathBuf::from("/".to_string() + &"a".repeat(MAX_PATH));
        assert_eq!(b.bind(&long).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(b.sendto(b"x", &long).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(b.connect(&long).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(b.bind(Path::new("")).unwrap_err().kind, ErrorKind::Invalid);
        let exact = dir
            .0
            .join("x".repeat(MAX_PATH - dir.0.as_os_str().len() - 1));
        assert_eq!(exact.as_os_str().len(), MAX_PATH);
        b.bind(&exact).unwrap();
        assert_eq!(b.getsockname().unwrap(), exact);
        // Nobody at the path.
        let missing = dir.path("missing");
        assert!(b.sendto(b"x", &missing).is_err());
        assert!(b.connect(&missing).is_err());
        assert!(!b.is_connected());
    }

    #[test]
    fn close_setfd_and_options() {
        let dir = TempDir::new();
        let mut a = bound(&dir.path("a"));
        assert!(a.fd().is_some());
        a.setoption("sndbuf", OptValue::Int(65536)).unwrap();
        assert!(matches!(a.getoption("sndbuf").unwrap(), OptValue::Int(n) if n > 0));
        assert!(a.setoption("tcp-nodelay", OptValue::Bool(true)).is_err());

        // Detach and reattach.
        let old = a.set_fd(None).unwrap().unwrap();
        assert!(a.is_closed() && a.fd().is_none());
        let mut buf = Vec::new();
        assert_eq!(a.receive(1, &mut buf).unwrap_err().kind, ErrorKind::Closed);
        assert!(a.set_fd(Some(old)).unwrap().is_none());
        assert!(!a.is_closed());
        assert_eq!(a.getsockname().unwrap(), dir.path("a"));

        a.close();
        a.close();
        assert!(a.fd().is_none());
        assert_eq!(a.send(b"x").unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(
            a.sendto(b"x", &dir.path("a")).unwrap_err().kind,
            ErrorKind::Closed
        );
        assert_eq!(a.bind(&dir.path("z")).unwrap_err().kind, ErrorKind::Closed);
        assert!(a.set_fd(None).unwrap().is_none());
        let spare = UnixDgram::new().unwrap().sock.take().unwrap();
        let (e, back) = a.set_fd(Some(spare.into())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert!(back.is_some());
    }
}

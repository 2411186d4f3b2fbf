//! UDP sockets (IPv4 and IPv6), LuaSocket style.
//!
//! A `Udp` is unconnected (it sends with `sendto` and receives from anyone) until
//! `setpeername` gives it a peer; then it sends with `send` and the kernel delivers only
//! datagrams from that peer. `setpeername("*", _)` makes it unconnected again.
//!
//! A socket made with `Family::Any` (LuaSocket 3's `socket.udp()`) has no descriptor
//! until the first `setsockname`, `setpeername` or `sendto`, which creates it with the
//! family of the first address that works. Options set before that are checked and kept,
//! then applied when the descriptor is created. IPv6 sockets are IPv6-only
//! (`ipv6-v6only` on), as in LuaSocket 3.
//!
//! The descriptor is non-blocking. Receiving waits in poll(2) under the socket's
//! timeouts (block and total, see `crate::io::timeout`); sending waits only in the rare
//! case the kernel has no room, under the same timeouts.
//!
//! Datagrams are atomic: `receive(size)` returns at most `size` bytes of the next
//! datagram and the rest of it is discarded. Sizes above `MAX_DATAGRAM` are treated as
//! `MAX_DATAGRAM` (no UDP datagram is larger); LuaSocket's default size is
//! `DEFAULT_SIZE`. Zero-length datagrams can be sent and received.

use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::{Timeout, TimeoutMode};
use crate::net::addr::{self, Family};
use crate::net::dgram::{self, recv_wait, send_wait};
use crate::net::options::{self, Opt, OptValue};
use crate::net::socket::SetFdResult;
use crate::net::Pollable;
use crate::sys::poll::POLLOUT;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

pub use crate::net::dgram::{DEFAULT_SIZE, MAX_DATAGRAM};

/// A UDP socket.
#[derive(Debug)]
pub struct Udp {
    sock: Option<Socket>,
    family: Family,
    closed: bool,
    /// Closed by `set_fd(None)` rather than `close`: `set_fd` can bring it back.
    detached: bool,
    connected: bool,
    timeout: Timeout,
    /// The address given to the last successful `setsockname` (restored after
    /// `setpeername("*")`, see there).
    bound_ip: Option<IpAddr>,
    /// Options set before a `Family::Any` socket has a descriptor.
    pending: Vec<(Opt, OptValue)>,
}

fn domain(family: Family) -> Domain {
    match family {
        Family::Inet6 => Domain::IPV6,
        _ => Domain::IPV4,
    }
}

fn new_socket(family: Family) -> Result<Socket> {
    let what = "udp socket";
    let sock = Socket::new(domain(family), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io(what, &e))?;
    sock.set_nonblocking(true)
        .map_err(|e| Error::io(what, &e))?;
    if family == Family::Inet6 {
        sock.set_only_v6(true).map_err(|e| Error::io(what, &e))?;
    }
    Ok(sock)
}

impl Udp {
    /// A new UDP socket of `family`. `Inet` and `Inet6` create the descriptor now; `Any`
    /// waits for the first address (see the module documentation).
    pub fn new(family: Family) -> Result<Udp> {
        let sock = match family {
            Family::Any => None,
            f => Some(new_socket(f)?),
        };
        Ok(Udp {
            sock,
            family,
            closed: false,
            detached: false,
            connected: false,
            timeout: Timeout::default(),
            bound_ip: None,
            pending: Vec::new(),
        })
    }

    /// The socket's family: `Any` until a `Family::Any` socket has its descriptor.
    pub fn family(&self) -> Family {
        self.family
    }

    /// True after a successful `setpeername` (until `setpeername("*")` or close).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// True once `close` has been called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The descriptor, for a live socket that has one.
    fn sock(&self, what: &str) -> Result<&Socket> {
        match &self.sock {
            Some(s) => Ok(s),
            None if self.closed => Err(Error::new(ErrorKind::Closed, format!("{what}: closed"))),
            None => Err(Error::invalid(format!(
                "{what}: the socket has no address yet (call setsockname, setpeername or sendto first)"
            ))),
        }
    }

    fn check_open(&self, what: &str) -> Result<()> {
        if self.closed {
            Err(Error::new(ErrorKind::Closed, format!("{what}: closed")))
        } else {
            Ok(())
        }
    }

    /// Makes the descriptor of a `Family::Any` socket for `family` and applies the pending
    /// options. Does nothing when the socket already has one.
    fn create(&mut self, family: Family) -> Result<()> {
        if self.sock.is_some() {
            return Ok(());
        }
        let sock = new_socket(family)?;
        for &(opt, value) in &self.pending {
            options::set_opt(&sock, opt, value)?;
        }
        self.pending.clear();
        self.sock = Some(sock);
        self.family = family;
        Ok(())
    }

    /// Tries `op` on each address in turn, creating the descriptor for the address's
    /// family when there is none yet; returns the first success or the last error.
    fn each_addr(
        &mut self,
        addrs: &[SocketAddr],
        mut op: impl FnMut(&Socket, &SocketAddr) -> Result<()>,
    ) -> Result<()> {
        let mut last = Error::invalid("no address to try");
        for a in addrs {
            let fresh = self.sock.is_none();
            if let Err(e) = self.create(Family::of(a)) {
                last = e;
                continue;
            }
            match op(self.sock.as_ref().unwrap(), a) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    last = e;
                    if fresh {
                        // Let the next address choose the family again.
                        self.sock = None;
                        self.family = Family::Any;
                    }
                }
            }
        }
        Err(last)
    }

    /// Binds to a local address. `host` "*" (or "") is the wildcard address of the
    /// socket's family (IPv4 for a socket that has no family yet); port 0 picks an
    /// ephemeral port. Names are resolved; each address is tried in turn.
    pub fn setsockname(&mut self, host: &str, port: u16) -> Result<()> {
        self.check_open("setsockname")?;
        let addrs = if host.parse::<IpAddr>().is_ok() {
            addr::resolve(host, port, self.family, false)
        } else {
            addr::resolve_local(host, port, self.family, false)
        }
        .map_err(|e| e.context("setsockname"))?;
        let mut bound = None;
        self.each_addr(&addrs, |s, a| {
            s.bind(&SockAddr::from(*a))
                .map_err(|e| Error::io(&format!("setsockname {}", show(a)), &e))?;
            bound = Some(a.ip());
            Ok(())
        })?;
        self.bound_ip = bound;
        Ok(())
    }

    /// Gives the socket a peer: afterwards `send` sends to it and only its datagrams are
    /// received. `host` "*" removes the peer (the socket becomes unconnected again; a
    /// no-op when it has none). The local port survives: where the kernel drops an
    /// ephemeral port on dissolving the association (Linux does, for ports it picked),
    /// the socket is bound again to the same port (on the address given to
    /// `setsockname`, else the wildcard address).
    pub fn setpeername(&mut self, host: &str, port: u16) -> Result<()> {
        self.check_open("setpeername")?;
        if host == "*" {
            if self.connected {
                self.unconnect()?;
            }
            self.connected = false;
            return Ok(());
        }
        let addrs =
            addr::resolve(host, port, self.family, false).map_err(|e| e.context("setpeername"))?;
        self.each_addr(&addrs, |s, a| {
            s.connect(&SockAddr::from(*a))
                .map_err(|e| Error::io(&format!("setpeername {}", show(a)), &e))
        })?;
        self.connected = true;
        Ok(())
    }

    fn unconnect(&mut self) -> Result<()> {
        let s = self.sock("setpeername *")?;
        let before = s.local_addr().ok().and_then(|a| a.as_socket());
        disconnect(s)?;
        let now = s.local_addr().ok().and_then(|a| a.as_socket());
        if let (Some(before), Some(now)) = (before, now) {
            if before.port() != 0 && now.port() == 0 {
                let ip = self
                    .bound_ip
                    .unwrap_or_else(|| addr::wildcard(self.family, 0).ip());
                let again = SocketAddr::new(ip, before.port());
                s.bind(&SockAddr::from(again)).map_err(|e| {
                    Error::io(&format!("setpeername *: binding again to {again}"), &e)
                })?;
            }
        }
        Ok(())
    }

    /// Sends one datagram to the peer; returns the bytes sent (all of `data`).
    /// Fails with `Invalid` when the socket has no peer.
    pub fn send(&mut self, data: &[u8]) -> Result<usize> {
        let sock = self.sock("send")?;
        if !self.connected {
            return Err(Error::invalid(
                "send: the socket has no peer (call setpeername first, or use sendto)",
            ));
        }
        send_wait(
            sock,
            &self.timeout,
            POLLOUT,
            || "send".to_string(),
            |s| s.send(data),
        )
    }

    /// Sends one datagram to `host`:`port`; returns the bytes sent. `host` is an IP
    /// literal (fast path) or a name (resolved; the first address of the socket's family
    /// is used). Fails with `IsConn` on a socket that has a peer.
    pub fn sendto(&mut self, data: &[u8], host: &str, port: u16) -> Result<usize> {
        self.check_open("sendto")?;
        if self.connected {
            return Err(Error::new(
                ErrorKind::IsConn,
                "sendto: the socket has a peer (use send, or setpeername(\"*\") first)",
            ));
        }
        let to = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => {
                addr::resolve(host, port, self.family, false).map_err(|e| e.context("sendto"))?[0]
            }
        };
        match (self.family, Family::of(&to)) {
            (Family::Any, f) => self.create(f)?,
            (f, g) if f != g => {
                return Err(Error::new(
                    ErrorKind::Family,
                    format!("sendto {host}: address is not of family {}", f.name()),
                ))
            }
            _ => {}
        }
        let sock = self.sock("sendto")?;
        let sa = SockAddr::from(to);
        send_wait(
            sock,
            &self.timeout,
            POLLOUT,
            || format!("sendto {}", show(&to)),
            |s| s.send_to(data, &sa),
        )
    }

    /// Receives the next datagram into `out` (cleared first): at most `size` bytes, the
    /// rest of a longer datagram is discarded. Waits under the socket's timeouts.
    pub fn receive(&mut self, size: usize, out: &mut Vec<u8>) -> Result<()> {
        self.recv_common(size, out, false, "receive").map(|_| ())
    }

    /// As `receive`, and returns the sender's address.
    pub fn receivefrom(&mut self, size: usize, out: &mut Vec<u8>) -> Result<SocketAddr> {
        self.recv_common(size, out, true, "receivefrom")?
            .ok_or_else(|| Error::new(ErrorKind::Family, "receivefrom: sender is not IP"))
    }

    fn recv_common(
        &self,
        size: usize,
        out: &mut Vec<u8>,
        from: bool,
        what: &str,
    ) -> Result<Option<SocketAddr>> {
        out.clear();
        let sock = self.sock(what)?;
        Ok(recv_wait(sock, &self.timeout, size, out, from, what)?.and_then(|a| a.as_socket()))
    }

    /// The local address. Before binding (or the first send) it is the wildcard address
    /// with port 0.
    pub fn getsockname(&self) -> Result<SocketAddr> {
        let s = self.sock("getsockname")?;
        s.local_addr()
            .map_err(|e| Error::io("getsockname", &e))?
            .as_socket()
            .ok_or_else(|| Error::new(ErrorKind::Family, "getsockname: not an IP address"))
    }

    /// The peer's address; `Invalid` when the socket has no peer.
    pub fn getpeername(&self) -> Result<SocketAddr> {
        let s = self.sock("getpeername")?;
        if !self.connected {
            return Err(Error::invalid("getpeername: the socket has no peer"));
        }
        s.peer_addr()
            .map_err(|e| Error::io("getpeername", &e))?
            .as_socket()
            .ok_or_else(|| Error::new(ErrorKind::Family, "getpeername: not an IP address"))
    }

    /// Sets the block or total timeout (negative or NaN = forever, 0 = never wait).
    pub fn settimeout(&mut self, secs: f64, mode: TimeoutMode) {
        self.timeout.set(mode, secs);
    }

    /// The configured timeouts.
    pub fn timeout(&self) -> Timeout {
        self.timeout
    }

    /// Sets a socket option (see `crate::net::options`). Before a `Family::Any` socket
    /// has its descriptor, the option is checked and kept for later.
    pub fn setoption(&mut self, name: &str, value: OptValue) -> Result<()> {
        self.check_open("setoption")?;
        let opt = Opt::parse(name)?;
        match &self.sock {
            Some(s) => options::set_opt(s, opt, value),
            None => {
                let value = opt.check(value)?;
                self.pending.retain(|(o, _)| *o != opt);
                self.pending.push((opt, value));
                Ok(())
            }
        }
    }

    /// Reads a socket option. Before a `Family::Any` socket has its descriptor, only the
    /// options set so far can be read.
    pub fn getoption(&self, name: &str) -> Result<OptValue> {
        self.check_open("getoption")?;
        let opt = Opt::parse(name)?;
        match &self.sock {
            Some(s) => options::get_opt(s, opt),
            None => match self.pending.iter().find(|(o, _)| *o == opt) {
                Some(&(_, v)) => Ok(v),
                None => Err(Error::invalid(format!(
                    "getoption {}: the socket has no address yet",
                    opt.name()
                ))),
            },
        }
    }

    /// Closes the descriptor. Idempotent; every later call but `close` fails with
    /// `Closed`.
    pub fn close(&mut self) {
        self.sock = None;
        self.closed = true;
        self.detached = false;
        self.connected = false;
        self.pending.clear();
    }

    /// LuaSocket's `setfd`: the socket now uses `fd` and owns it (it is made non-blocking
    /// and closed by `close` or drop later). The descriptor held before is handed back
    /// WITHOUT being closed. `None` detaches: the socket has no descriptor and reads as
    /// closed until a later `set_fd` gives it one. The connected/unconnected state, the
    /// timeouts and the options set stay. A closed socket takes no descriptor (`Closed`;
    /// `None` does nothing); `fd` is then handed back, as when it cannot be made
    /// non-blocking.
    pub fn set_fd(&mut self, fd: Option<OwnedFd>) -> SetFdResult {
        let (family, pending) = (&mut self.family, &mut self.pending);
        dgram::set_fd(
            &mut self.sock,
            &mut self.closed,
            &mut self.detached,
            fd,
            |sock| {
                if let Ok(a) = sock.local_addr() {
                    if a.domain() == Domain::IPV6 {
                        *family = Family::Inet6;
                    } else if a.domain() == Domain::IPV4 {
                        *family = Family::Inet;
                    }
                }
                pending.clear();
            },
        )
    }

    /// The descriptor, or `None` when closed or not created yet.
    pub fn fd(&self) -> Option<RawFd> {
        self.sock.as_ref().map(|s| s.as_raw_fd())
    }
}

impl Pollable for Udp {
    fn poll_fd(&self) -> Option<RawFd> {
        self.fd()
    }
}

/// "127.0.0.1:9" / "[::1]:9" for messages.
fn show(a: &SocketAddr) -> String {
    a.to_string()
}

/// Dissolves a UDP association: connect(2) to an AF_UNSPEC address.
fn disconnect(s: &Socket) -> Result<()> {
    // SAFETY: a zeroed sockaddr_storage is valid; only its family is set, and the length
    // covers the family field as connect(2) requires.
    let unspec = unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        storage.ss_family = libc::AF_UNSPEC as libc::sa_family_t;
        SockAddr::new(
            storage,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    match s.connect(&unspec) {
        Ok(()) => Ok(()),
        // Some systems report the (successful) dissolution as EAFNOSUPPORT.
        Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => Ok(()),
        Err(e) => Err(Error::io("setpeername *", &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn has_ipv6() -> bool {
        std::net::UdpSocket::bind("[::1]:0").is_ok()
    }

    fn bound(host: &str, family: Family) -> Udp {
        let mut u = Udp::new(family).unwrap();
        u.setsockname(host, 0).unwrap();
        u.settimeout(2.0, TimeoutMode::Block);
        u
    }

    fn exchange(family: Family, host: &str) {
        let mut a = bound(host, family);
        let mut b = bound(host, family);
        let aa = a.getsockname().unwrap();
        let ba = b.getsockname().unwrap();
        assert_eq!(aa.ip().to_string(), host);
        let mut buf = Vec::new();

        // Zero-length datagram, unconnected, with the sender's address.
        assert_eq!(b.sendto(b"", host, aa.port()).unwrap(), 0);
        buf.push(b'x');
        let from = a.receivefrom(100, &mut buf).unwrap();
        assert!(buf.is_empty());
        assert_eq!(from, ba);

        // Truncation: the rest of the datagram is discarded.
        let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        b.sendto(&big, host, aa.port()).unwrap();
        b.sendto(b"next", host, aa.port()).unwrap();
        a.receive(10, &mut buf).unwrap();
        assert_eq!(buf, &big[..10]);
        a.receive(DEFAULT_SIZE, &mut buf).unwrap();
        assert_eq!(buf, b"next");

        // A size above MAX_DATAGRAM is accepted; a big datagram arrives whole.
        let huge = vec![7u8; 60000];
        b.sendto(&huge, host, aa.port()).unwrap();
        a.receive(usize::MAX, &mut buf).unwrap();
        assert_eq!(buf.len(), 60000);

        // Connected: send / receive, and receivefrom still names the peer.
        b.setpeername(host, aa.port()).unwrap();
        assert!(b.is_connected());
        assert_eq!(b.getpeername().unwrap(), aa);
        a.setpeername(host, ba.port()).unwrap();
        assert_eq!(b.send(b"hello").unwrap(), 5);
        assert_eq!(a.receivefrom(100, &mut buf).unwrap(), ba);
        assert_eq!(buf, b"hello");
        a.send(b"").unwrap();
        b.receive(100, &mut buf).unwrap();
        assert!(buf.is_empty());
        let e = b.sendto(b"x", host, aa.port()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::IsConn);

        // A connected socket ignores other senders.
        let mut c = bound(host, family);
        c.sendto(b"stranger", host, ba.port()).unwrap();
        a.send(b"friend").unwrap();
        b.receive(100, &mut buf).unwrap();
        assert_eq!(buf, b"friend");

        // Back to unconnected: other senders get through again.
        b.setpeername("*", 0).unwrap();
        assert!(!b.is_connected());
        assert_eq!(b.getpeername().unwrap_err().kind, ErrorKind::Invalid);
        let e = b.send(b"x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        c.sendto(b"stranger2", host, ba.port()).unwrap();
        let from = b.receivefrom(100, &mut buf).unwrap();
        assert_eq!(
            (buf.as_slice(), from),
            (&b"stranger2"[..], c.getsockname().unwrap())
        );
        b.setpeername("*", 0).unwrap(); // twice: harmless
        assert_eq!(b.getsockname().unwrap(), ba, "the local address survives");

        // A socket bound by its first sendto keeps its port across setpeername("*") too.
        let mut d = Udp::new(family).unwrap();
        d.settimeout(2.0, TimeoutMode::Block);
        a.setpeername("*", 0).unwrap();
        d.sendto(b"x", host, aa.port()).unwrap();
        let dport = a.receivefrom(10, &mut buf).unwrap().port();
        d.setpeername(host, aa.port()).unwrap();
        d.setpeername("*", 0).unwrap();
        assert_eq!(d.getsockname().unwrap().port(), dport);
    }

    #[test]
    fn ipv4_exchange() {
        exchange(Family::Inet, "127.0.0.1");
        exchange(Family::Any, "127.0.0.1");
    }

    #[test]
    fn ipv6_exchange() {
        if has_ipv6() {
            exchange(Family::Inet6, "::1");
            exchange(Family::Any, "::1");
        }
    }

    #[test]
    fn receive_timeouts() {
        let mut a = bound("127.0.0.1", Family::Inet);
        let mut buf = b"old".to_vec();
        a.settimeout(0.0, TimeoutMode::Block);
        let t = Instant::now();
        let e = a.receive(10, &mut buf).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.msg, "receive: timeout");
        assert!(buf.is_empty());
        assert!(t.elapsed().as_secs_f64() < 0.02);

        a.settimeout(0.05, TimeoutMode::Block);
        let t = Instant::now();
        let e = a.receivefrom(10, &mut buf).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        let el = t.elapsed().as_secs_f64();
        assert!((0.045..0.5).contains(&el), "{el}");

        a.settimeout(-1.0, TimeoutMode::Block);
        a.settimeout(0.05, TimeoutMode::Total);
        let t = Instant::now();
        assert_eq!(
            a.receive(10, &mut buf).unwrap_err().kind,
            ErrorKind::Timeout
        );
        let el = t.elapsed().as_secs_f64();
        assert!((0.045..0.5).contains(&el), "{el}");
    }

    #[test]
    fn refused_peer_is_reported() {
        // A port nobody listens on: bind one, note it, close it.
        let port = bound("127.0.0.1", Family::Inet)
            .getsockname()
            .unwrap()
            .port();
        let mut u = Udp::new(Family::Inet).unwrap();
        u.setpeername("127.0.0.1", port).unwrap();
        u.settimeout(1.0, TimeoutMode::Block);
        u.send(b"x").unwrap();
        let mut buf = Vec::new();
        let e = u.receive(10, &mut buf).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused, "{e:?}");
        assert_eq!(e.msg, "receive: connection refused");
    }

    #[test]
    fn any_family_is_chosen_by_the_first_address() {
        let mut u = Udp::new(Family::Any).unwrap();
        assert_eq!(u.fd(), None);
        assert_eq!(u.poll_fd(), None);
        assert_eq!(u.getsockname().unwrap_err().kind, ErrorKind::Invalid);
        // Options wait for the descriptor.
        u.setoption("broadcast", OptValue::Int(1)).unwrap();
        assert_eq!(u.getoption("broadcast").unwrap(), OptValue::Bool(true));
        assert_eq!(
            u.getoption("dontroute").unwrap_err().kind,
            ErrorKind::Invalid
        );
        assert_eq!(
            u.setoption("linger", OptValue::Bool(true))
                .unwrap_err()
                .kind,
            ErrorKind::Invalid
        );
        u.setpeername("*", 0).unwrap();
        let target = bound("127.0.0.1", Family::Inet);
        let port = target.getsockname().unwrap().port();
        u.sendto(b"hi", "127.0.0.1", port).unwrap();
        assert_eq!(u.family(), Family::Inet);
        assert!(u.fd().is_some());
        assert_eq!(u.getoption("broadcast").unwrap(), OptValue::Bool(true));
        let local = u.getsockname().unwrap();
        assert!(local.ip().is_unspecified() && local.port() != 0, "{local}");
        // The family is fixed now.
        let e = u.sendto(b"x", "::1", port).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
        // Wildcard bind on a fresh Any socket is IPv4, as in LuaSocket.
        let mut w = Udp::new(Family::Any).unwrap();
        w.setsockname("*", 0).unwrap();
        assert_eq!(w.family(), Family::Inet);
        // Names resolve.
        let mut n = Udp::new(Family::Inet).unwrap();
        n.setsockname("localhost", 0).unwrap();
        assert!(n.getsockname().unwrap().ip().is_loopback());
    }

    #[test]
    fn inet6_sockets_are_v6only_and_refuse_ipv4() {
        if !has_ipv6() {
            return;
        }
        let mut u = Udp::new(Family::Inet6).unwrap();
        assert_eq!(u.getoption("ipv6-v6only").unwrap(), OptValue::Bool(true));
        let e = u.sendto(b"x", "127.0.0.1", 9).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
        let e = u.setsockname("127.0.0.1", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
        assert!(e.msg.starts_with("setsockname: 127.0.0.1"), "{}", e.msg);
        u.setsockname("*", 0).unwrap();
        assert_eq!(u.getsockname().unwrap().ip().to_string(), "::");
    }

    #[test]
    fn errors_name_what_failed() {
        let mut u = bound("127.0.0.1", Family::Inet);
        let e = u.setsockname("127.0.0.1", 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.msg.starts_with("setsockname 127.0.0.1:0: "), "{}", e.msg);
        let e = u.sendto(b"x", "no-such-host.invalid", 9).unwrap_err();
        assert!(
            e.msg.starts_with("sendto: no-such-host.invalid: "),
            "{}",
            e.msg
        );
        let e = u.setpeername("no-such-host.invalid", 9).unwrap_err();
        assert!(
            e.msg.starts_with("setpeername: no-such-host.invalid"),
            "{}",
            e.msg
        );
        let e = u.setsockname("1.2.3.4.5", 0).unwrap_err();
        assert!(e.msg.contains("1.2.3.4.5"), "{}", e.msg);
        assert_eq!(
            u.setoption("bogus", OptValue::Int(1)).unwrap_err().msg,
            "unsupported option 'bogus'"
        );
        // Options round trip on a live socket.
        u.setoption("dontroute", OptValue::Bool(true)).unwrap();
        assert_eq!(u.getoption("dontroute").unwrap(), OptValue::Bool(true));
        u.setoption("rcvbuf", OptValue::Int(20000)).unwrap();
        assert!(u.getoption("rcvbuf").unwrap().as_int() >= 20000);
    }

    #[test]
    fn set_fd_swaps_and_detaches_without_closing() {
        let mut a = bound("127.0.0.1", Family::Inet);
        let mut b = bound("127.0.0.1", Family::Inet);
        let b_port = b.getsockname().unwrap().port();
        let fd_a = a.fd().unwrap();
        let fd_b = b.set_fd(None).unwrap().unwrap();
        assert!(b.is_closed());
        assert_eq!(b.fd(), None);
        let mut buf = Vec::new();
        assert_eq!(b.receive(10, &mut buf).unwrap_err().kind, ErrorKind::Closed);
        let raw_b = fd_b.as_raw_fd();
        let old = a.set_fd(Some(fd_b)).unwrap().unwrap();
        assert_eq!(old.as_raw_fd(), fd_a);
        assert_eq!(a.fd(), Some(raw_b));
        assert!(!a.is_closed());
        let mut c = Udp::new(Family::Inet).unwrap();
        c.sendto(b"dgram", "127.0.0.1", b_port).unwrap();
        a.receive(100, &mut buf).unwrap();
        assert_eq!(buf, b"dgram");
        // A detached socket takes a descriptor again; a closed one does not.
        assert!(b.set_fd(Some(old)).unwrap().is_none());
        assert_eq!(b.fd(), Some(fd_a));
        b.close();
        let back = a.set_fd(None).unwrap().unwrap();
        let (e, given) = b.set_fd(Some(back)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert_eq!(given.unwrap().as_raw_fd(), raw_b);
        assert!(b.set_fd(None).unwrap().is_none());
    }

    #[test]
    fn close_is_idempotent_and_final() {
        let mut u = bound("127.0.0.1", Family::Inet);
        assert!(u.fd().is_some());
        u.close();
        u.close();
        assert!(u.is_closed());
        assert_eq!(u.fd(), None);
        let mut buf = Vec::new();
        let e = u.receive(10, &mut buf).unwrap_err();
        assert_eq!(
            (e.kind, e.msg.as_str()),
            (ErrorKind::Closed, "receive: closed")
        );
        assert_eq!(
            u.sendto(b"x", "127.0.0.1", 9).unwrap_err().kind,
            ErrorKind::Closed
        );
        assert_eq!(u.send(b"x").unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(u.setsockname("*", 0).unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(u.setpeername("*", 0).unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(u.getsockname().unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(
            u.getoption("broadcast").unwrap_err().kind,
            ErrorKind::Closed
        );
        let mut a = Udp::new(Family::Any).unwrap();
        a.close();
        assert_eq!(
            a.setoption("broadcast", OptValue::Int(1)).unwrap_err().kind,
            ErrorKind::Closed
        );
    }
}

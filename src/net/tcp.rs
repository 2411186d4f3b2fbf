//! TCP: connecting to every resolved address in turn, binding and listening.
//!
//! The constructors here return `Socket` objects (see `net::socket`) in the right state:
//! - `connect` (LuaSocket's `socket.connect`, Moonbridge's `tcpconnect`): resolves the host
//!   and tries every address in resolver order, each with a fresh non-blocking socket,
//!   waiting for writability within the timeout and reading `SO_ERROR`; the error of the
//!   last attempt is reported, with a message naming host and port;
//! - `connect_nb` (Moonbridge's `tcpconnect_nb`): starts a connect without waiting; its
//!   outcome is reported by the first read or write;
//! - `bind` (LuaSocket's `socket.bind`): `reuseaddr`, bind, listen;
//! - `listen` (Moonbridge's `tcplisten`): the same with Moonbridge's address rules.
//!
//! Every descriptor is non-blocking and close-on-exec from the moment it is created.

use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Stream, StreamKind};
use crate::io::timeout::{Deadline, Timeout};
use crate::net::addr::{resolve, resolve_local, Family};
use crate::net::socket::{AddrFamily, Socket};
use crate::sys::poll::{wait_fd, POLLOUT};
use socket2::{Domain, SockAddr, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// LuaSocket's default listen backlog for `socket.bind`.
pub const DEFAULT_BACKLOG: i32 = 32;

/// A new non-blocking, close-on-exec stream socket of `domain`.
pub(crate) fn new_socket(domain: Domain) -> Result<socket2::Socket> {
    socket2::Socket::new(domain, Type::STREAM.nonblocking().cloexec(), None)
        .map_err(|e| Error::io("socket", &e))
}

/// A new non-blocking TCP socket for the family of `addr`.
pub(crate) fn socket_for(addr: &SocketAddr) -> Result<socket2::Socket> {
    new_socket(Domain::for_address(*addr))
}

/// "host:port", with IPv6 literals in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What a connect attempt is called in messages: "connect localhost:80 ([::1]:80)", or
/// "connect 127.0.0.1:80" when the host is the literal address.
pub(crate) fn connect_what(host: &str, port: u16, addr: &SocketAddr) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        format!("connect {}", host_port(host, port))
    } else {
        format!("connect {} ({addr})", host_port(host, port))
    }
}

/// Starts a connect on a non-blocking socket: `Ok(true)` when it completed at once,
/// `Ok(false)` when it is in progress (EINPROGRESS, or EINTR, after which the kernel goes
/// on connecting), `Err` when it failed at once.
pub(crate) fn start_connect(sock: &socket2::Socket, addr: &SockAddr) -> io::Result<bool> {
    match sock.connect(addr) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINPROGRESS) | Some(libc::EINTR)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Waits for a connect in progress to finish within `deadline`, then reports its outcome
/// from `SO_ERROR`. `what` names the attempt in messages.
pub(crate) fn finish_connect(
    sock: &socket2::Socket,
    deadline: &Deadline,
    what: &str,
) -> Result<()> {
    wait_fd(sock.as_raw_fd(), POLLOUT, deadline)
        .map_err(|e| Error::new(e.kind, format!("{what}: {}", e.kind.as_str())))?;
    match sock.take_error() {
        Ok(None) => Ok(()),
        Ok(Some(e)) | Err(e) => Err(Error::io(what, &e)),
    }
}

/// Connects `sock` to `addr`, waiting within `deadline`.
pub(crate) fn connect_one(
    sock: &socket2::Socket,
    addr: &SocketAddr,
    deadline: &Deadline,
    what: &str,
) -> Result<()> {
    match start_connect(sock, &SockAddr::from(*addr)) {
        Ok(true) => Ok(()),
        Ok(false) => finish_connect(sock, deadline, what),
        Err(e) => Err(Error::io(what, &e)),
    }
}

/// Resolves `host` and connects to each address in turn, each with a fresh socket (bound
/// first to a local address of the same family when `local` is given), until one
/// succeeds, and returns the socket with the address it reached. Each attempt may wait as long as `timeout` allows (the clock restarts for
/// every address, as in LuaSocket). The error of the last attempt is returned.
pub(crate) fn connect_raw(
    host: &str,
    port: u16,
    local: Option<(&str, u16)>,
    family: Family,
    timeout: &Timeout,
) -> Result<(socket2::Socket, SocketAddr)> {
    let addrs = resolve(host, port, family, true)?;
    let locals = match local {
        Some((lhost, lport)) => Some(resolve_local(lhost, lport, family, true)?),
        None => None,
    };
    connect_addrs(host, port, &addrs, locals.as_deref(), timeout)
}

/// Connects to each of `addrs` (resolved from `host`:`port`, which name them in messages)
/// in turn, as `connect_raw` describes.
pub(crate) fn connect_addrs(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    locals: Option<&[SocketAddr]>,
    timeout: &Timeout,
) -> Result<(socket2::Socket, SocketAddr)> {
    let mut last = Error::new(
        ErrorKind::Family,
        format!(
            "connect {}: no address of the local address's family",
            host_port(host, port)
        ),
    );
    for addr in addrs {
        let bind_to = match locals {
            None => None,
            Some(l) => match l.iter().find(|a| a.is_ipv4() == addr.is_ipv4()) {
                Some(a) => Some(*a),
                None => continue,
            },
        };
        let what = connect_what(host, port, addr);
        let attempt = (|| {
            let sock = socket_for(addr)?;
            if let Some(la) = bind_to {
                sock.bind(&SockAddr::from(la))
                    .map_err(|e| Error::io(&format!("bind {la}"), &e))?;
            }
            connect_one(&sock, addr, &timeout.start(), &what)?;
            Ok(sock)
        })();
        match attempt {
            Ok(sock) => return Ok((sock, *addr)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// LuaSocket's `socket.connect(host, port [, locaddr, locport] [, family])` and
/// Moonbridge's `tcpconnect`: a connected client socket. `timeout` bounds each attempt
/// (see `connect_raw`); the client keeps the default timeouts (wait forever).
pub fn connect(
    host: &str,
    port: u16,
    local: Option<(&str, u16)>,
    family: Family,
    timeout: &Timeout,
) -> Result<Socket> {
    let (sock, sock_addr) = connect_raw(host, port, local, family, timeout)?;
    Ok(Socket::client(
        Stream::new(sock, StreamKind::Tcp)?,
        AddrFamily::of(&sock_addr),
    ))
}

/// Moonbridge's `tcpconnect_nb`: resolves `host` (that may block; a literal address does
/// not) and starts a connect to its first address without waiting. The socket is returned
/// at once; a failed connect is reported by the first read or write. Errors that show at
/// once (no route, bad address) are returned here.
pub fn connect_nb(host: &str, port: u16) -> Result<Socket> {
    let addrs = resolve(host, port, Family::Any, true)?;
    let addr = addrs[0];
    let sock = socket_for(&addr)?;
    match start_connect(&sock, &SockAddr::from(addr)) {
        Ok(true) => Ok(Socket::client(
            Stream::new(sock, StreamKind::Tcp)?,
            AddrFamily::of(&addr),
        )),
        Ok(false) => Ok(Socket::client(
            Stream::connecting(sock, StreamKind::Tcp),
            AddrFamily::of(&addr),
        )),
        Err(e) => Err(Error::io(&connect_what(host, port, &addr), &e)),
    }
}

/// Binds a fresh socket to one of `addrs` and listens, trying each in turn: SO_REUSEADDR
/// is set first, and `v6only` (when given) on IPv6 sockets. Returns the listening socket
/// or the error of the last attempt.
fn listen_on(addrs: &[SocketAddr], backlog: i32, v6only: Option<bool>) -> Result<Socket> {
    let mut last = Error::new(ErrorKind::HostNotFound, "bind: no address to bind");
    for addr in addrs {
        let attempt = (|| {
            let sock = socket_for(addr)?;
            sock.set_reuse_address(true)
                .map_err(|e| Error::io("setsockopt reuseaddr", &e))?;
            if let (true, Some(only)) = (addr.is_ipv6(), v6only) {
                sock.set_only_v6(only)
                    .map_err(|e| Error::io("setsockopt ipv6-v6only", &e))?;
            }
            sock.bind(&SockAddr::from(*addr))
                .map_err(|e| Error::io(&format!("bind {addr}"), &e))?;
            sock.listen(backlog)
                .map_err(|e| Error::io(&format!("listen {addr}"), &e))?;
            Ok(sock)
        })();
        match attempt {
            Ok(sock) => return Ok(Socket::server(sock, AddrFamily::of(addr))),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// LuaSocket's `socket.bind(host, port [, backlog])`: a listening TCP socket with
/// `reuseaddr` set. "*" binds every IPv4 interface (as LuaSocket's "0.0.0.0"); a name is
/// resolved and each address tried in turn; IPv6 sockets are IPv6-only, as LuaSocket's
/// `tcp6`. A negative backlog means the default, 32.
pub fn bind(host: &str, port: u16, backlog: i32) -> Result<Socket> {
    let addrs = resolve_local(host, port, Family::Any, true)?;
    let backlog = if backlog < 0 {
        DEFAULT_BACKLOG
    } else {
        backlog
    };
    listen_on(&addrs, backlog, Some(true))
}

/// Moonbridge's `tcplisten(host, port)`: a listening TCP socket with `reuseaddr` set.
/// "::1" or "127.0.0.1" listen on loopback, "::" or "0.0.0.0" on every interface ("::"
/// takes IPv4 connections too where the system allows it); "*" is "0.0.0.0". A negative
/// backlog means the default, 32.
pub fn listen(host: &str, port: u16, backlog: i32) -> Result<Socket> {
    let addrs = resolve_local(host, port, Family::Any, true)?;
    let backlog = if backlog < 0 {
        DEFAULT_BACKLOG
    } else {
        backlog
    };
    listen_on(&addrs, backlog, None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::io::stream::{Pattern, Wait};
    use crate::net::socket::State;
    use std::time::{Duration, Instant};

    /// A loopback port nobody listens on (bound once, then released).
    pub(crate) fn closed_port(ip: &str) -> u16 {
        let l = std::net::TcpListener::bind((ip, 0)).unwrap();
        l.local_addr().unwrap().port()
    }

    fn forever() -> Timeout {
        Timeout::default()
    }

    #[test]
    fn refused_names_host_and_port() {
        let port = closed_port("127.0.0.1");
        let e = connect("127.0.0.1", port, None, Family::Any, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused);
        assert_eq!(
            e.msg,
            format!("connect 127.0.0.1:{port}: connection refused")
        );
        let e = connect("localhost", port, None, Family::Inet, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused);
        assert!(
            e.msg.starts_with(&format!("connect localhost:{port} (")),
            "{}",
            e.msg
        );
        let port6 = closed_port("::1");
        let e = connect("::1", port6, None, Family::Any, &forever()).unwrap_err();
        assert_eq!(e.msg, format!("connect [::1]:{port6}: connection refused"));
    }

    #[test]
    fn every_address_is_tried_in_turn() {
        // Only IPv4 listens; IPv6 comes first in the list, then IPv4 (and the reverse).
        let l4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l4.local_addr().unwrap().port();
        let v6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
        let v4: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        // Hold [::1]:port without listening, so that connecting there is refused.
        let hold = new_socket(Domain::IPV6).unwrap();
        hold.bind(&SockAddr::from(v6)).unwrap();
        let (_, reached) = connect_addrs("localhost", port, &[v6, v4], None, &forever()).unwrap();
        assert_eq!(reached, v4);
        let l6 = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port6 = l6.local_addr().unwrap().port();
        let v6b: SocketAddr = format!("[::1]:{port6}").parse().unwrap();
        let v4b: SocketAddr = format!("127.0.0.1:{}", closed_port("127.0.0.1"))
            .parse()
            .unwrap();
        let (_, reached) = connect_addrs("both", port6, &[v4b, v6b], None, &forever()).unwrap();
        assert_eq!(reached, v6b);
        // All fail: the last attempt's error is reported.
        let p4 = closed_port("127.0.0.1");
        let a: SocketAddr = format!("127.0.0.1:{p4}").parse().unwrap();
        let b: SocketAddr = format!("[::1]:{}", closed_port("::1")).parse().unwrap();
        let e = connect_addrs("h", p4, &[a, b], None, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused);
        assert!(e.msg.contains(&b.to_string()), "{}", e.msg);
        // "localhost" by name, whatever it resolves to here.
        let s = connect("localhost", port, None, Family::Inet, &forever()).unwrap();
        assert_eq!(s.state(), State::Client);
    }

    #[test]
    fn local_address_is_bound_first() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let s = connect(
            "127.0.0.1",
            port,
            Some(("127.0.0.1", 0)),
            Family::Any,
            &forever(),
        )
        .unwrap();
        let (_, peer) = l.accept().unwrap();
        assert_eq!(s.sockname().unwrap().port(), peer.port());
        // A local address of another family than every remote one.
        let e = connect("127.0.0.1", port, Some(("::1", 0)), Family::Any, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
    }

    #[test]
    fn bind_star_listens_everywhere_with_reuseaddr() {
        let mut server = bind("*", 0, -1).unwrap();
        assert_eq!(server.state(), State::Server);
        let a = server.sockname().unwrap();
        assert_eq!(a.text(), "0.0.0.0");
        assert_ne!(a.port(), 0);
        assert_eq!(
            server.get_option("reuseaddr").unwrap(),
            crate::net::options::OptValue::Bool(true)
        );
        let mut c = connect("127.0.0.1", a.port(), None, Family::Any, &forever()).unwrap();
        let mut s = server.accept().unwrap();
        c.stream().unwrap().send(b"ping\n").1.unwrap();
        let mut line = Vec::new();
        s.stream()
            .unwrap()
            .receive(
                Pattern::Line(crate::io::stream::LineMode::StripAllCr),
                &mut line,
            )
            .unwrap();
        assert_eq!(line, b"ping");
        // The same port again: in use.
        let e = bind("*", a.port(), -1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AddrInUse);
        assert!(e.msg.contains(&a.port().to_string()), "{}", e.msg);
    }

    #[test]
    fn moonbridge_listen_on_loopback_of_both_families() {
        for host in ["127.0.0.1", "::1"] {
            let mut l = listen(host, 0, 8).unwrap();
            let a = l.sockname().unwrap();
            assert_eq!(a.text(), host);
            let _c = connect(host, a.port(), None, Family::Any, &forever()).unwrap();
            let s = l.accept().unwrap();
            assert_eq!(s.peername().unwrap().text(), host);
        }
    }

    #[test]
    fn connect_nb_reports_failure_on_first_read() {
        let port = closed_port("127.0.0.1");
        let mut s = connect_nb("127.0.0.1", port).unwrap();
        let mut out = Vec::new();
        let t = Instant::now();
        let e = s
            .stream()
            .unwrap()
            .read(None, None, Wait::Timeout, &mut out)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused, "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(5));
        // And succeeds against a listener.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut s = connect_nb("127.0.0.1", port).unwrap();
        s.stream().unwrap().send(b"hi").1.unwrap();
        let (mut p, _) = l.accept().unwrap();
        let mut buf = [0u8; 2];
        std::io::Read::read_exact(&mut p, &mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn unresolvable_and_malformed_hosts() {
        let e = connect("no-such-host.invalid", 80, None, Family::Any, &forever()).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::HostNotFound | ErrorKind::DnsAgain | ErrorKind::DnsFail
            ),
            "{e:?}"
        );
        let e = connect("1.2.3.4.5", 80, None, Family::Inet, &forever()).unwrap_err();
        assert_ne!(e.kind, ErrorKind::Refused);
        let e = connect("", 80, None, Family::Any, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        let e = connect("::1", 80, None, Family::Inet, &forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
    }

    #[test]
    fn descriptors_are_nonblocking_and_cloexec() {
        let mut l = bind("127.0.0.1", 0, 4).unwrap();
        let port = l.sockname().unwrap().port();
        let c = connect("127.0.0.1", port, None, Family::Any, &forever()).unwrap();
        let s = l.accept().unwrap();
        for sock in [&l, &c, &s] {
            let fd = sock.fd().unwrap();
            // SAFETY: fcntl on a descriptor we own.
            let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            let fdf = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            assert!(fl & libc::O_NONBLOCK != 0, "O_NONBLOCK on {sock:?}");
            assert!(fdf & libc::FD_CLOEXEC != 0, "FD_CLOEXEC on {sock:?}");
        }
    }
}

//! The stream socket object shared by TCP and Unix-domain sockets, with LuaSocket 3's
//! states:
//! - *master*: created, not yet connected or listening; options can be set, it can be
//!   bound, then connected (becoming a client) or made to listen (becoming a server);
//! - *connecting*: a connect is in progress (it was started with a zero timeout, or its
//!   timeout ran out); the next `connect` continues it (LuaSocket's non-blocking
//!   connect), and reads and writes wait for it as a client's would;
//! - *client*: connected; all I/O goes through its buffered `Stream`;
//! - *server*: listening; `accept` hands out clients;
//! - *closed*: after `close`; only `close` (again) succeeds.
//!
//! `set_fd` (LuaSocket's `setfd`) swaps the descriptor under any state; detaching it
//! (`None`) leaves the object reading as closed until it gets a new one.
//!
//! Every descriptor is non-blocking and close-on-exec; blocking calls wait in poll(2)
//! within the socket's timeouts (block and total, LuaSocket style).

use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Shutdown, Stream, StreamKind};
use crate::io::timeout::{Deadline, Timeout, TimeoutMode};
use crate::net::addr::{resolve, resolve_local, Family};
use crate::net::options::{get_opt, set_opt, Opt, OptValue};
use crate::net::tcp::{connect_what, finish_connect, host_port, new_socket, start_connect};
use crate::net::unix::{connect_sock, new_unix_socket, unix_addr};
use crate::net::Pollable;
use crate::sys::poll::{wait_fd, POLLIN};
use socket2::{Domain, SockAddr};
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The state of a socket object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Master,
    /// A client whose connect is still in progress.
    Connecting,
    Client,
    Server,
    Closed,
}

impl State {
    /// LuaSocket's class suffix: "master", "client", "server", "closed".
    pub fn name(self) -> &'static str {
        match self {
            State::Master => "master",
            State::Connecting => "connecting",
            State::Client => "client",
            State::Server => "server",
            State::Closed => "closed",
        }
    }
}

/// The address family of a socket or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrFamily {
    Inet,
    Inet6,
    Unix,
}

impl AddrFamily {
    /// The family of an IP socket address.
    pub fn of(addr: &SocketAddr) -> AddrFamily {
        match addr {
            SocketAddr::V4(_) => AddrFamily::Inet,
            SocketAddr::V6(_) => AddrFamily::Inet6,
        }
    }

    /// LuaSocket's name: "inet", "inet6", "unix".
    pub fn name(self) -> &'static str {
        match self {
            AddrFamily::Inet => "inet",
            AddrFamily::Inet6 => "inet6",
            AddrFamily::Unix => "unix",
        }
    }

    fn resolver_family(self) -> Family {
        match self {
            AddrFamily::Inet => Family::Inet,
            AddrFamily::Inet6 => Family::Inet6,
            AddrFamily::Unix => Family::Any,
        }
    }
}

/// A socket's local or peer address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Ip(SocketAddr),
    /// A Unix socket's path; empty for an unnamed socket.
    Unix(PathBuf),
}

impl Address {
    /// The address as text: the IP address without port ("127.0.0.1", "::1") or the path.
    pub fn text(&self) -> String {
        match self {
            Address::Ip(a) => a.ip().to_string(),
            Address::Unix(p) => p.to_string_lossy().into_owned(),
        }
    }

    /// The port (0 for Unix sockets).
    pub fn port(&self) -> u16 {
        match self {
            Address::Ip(a) => a.port(),
            Address::Unix(_) => 0,
        }
    }

    /// The family.
    pub fn family(&self) -> AddrFamily {
        match self {
            Address::Ip(a) => AddrFamily::of(a),
            Address::Unix(_) => AddrFamily::Unix,
        }
    }

    /// The IP address, for Moonbridge's raw `local_ip4` / `local_ip6` (None for Unix).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Address::Ip(a) => Some(a.ip()),
            Address::Unix(_) => None,
        }
    }

    fn from_sockaddr(sa: &SockAddr) -> Address {
        if let Some(ip) = sa.as_socket() {
            Address::Ip(ip)
        } else {
            Address::Unix(sa.as_pathname().map(Path::to_path_buf).unwrap_or_default())
        }
    }
}

enum Inner {
    /// `None` until the family is known (a TCP master of family "any" gets its socket at
    /// bind or connect, as LuaSocket's `socket.tcp()` does).
    Master(Option<socket2::Socket>),
    Client(Stream),
    Server(socket2::Socket),
    /// No descriptor after `set_fd(None)`: reads as closed, but `set_fd` with a
    /// descriptor brings back the state kept here.
    Detached(State),
    Closed,
}

/// The result of `set_fd`: the descriptor the object held before (now the caller's, not
/// closed), or on failure the error together with the descriptor that was given (still
/// the caller's, not closed).
pub type SetFdResult = std::result::Result<Option<OwnedFd>, (Error, Option<OwnedFd>)>;

/// The address family of a socket's local address, if it has a known one.
fn family_of(sock: &socket2::Socket) -> Option<AddrFamily> {
    let domain = sock.local_addr().ok()?.domain();
    if domain == Domain::IPV4 {
        Some(AddrFamily::Inet)
    } else if domain == Domain::IPV6 {
        Some(AddrFamily::Inet6)
    } else if domain == Domain::UNIX {
        Some(AddrFamily::Unix)
    } else {
        None
    }
}

/// A connect in progress: what a `connect` that could not finish within its timeout
/// leaves behind, and what the next `connect` continues. The socket is a client over a
/// stream whose connect(2) is in flight; this holds what the attempt needs to go on to
/// the next address when that one fails.
#[derive(Debug)]
struct PendingConnect {
    host: String,
    port: u16,
    /// Names the address in flight in messages ("connect localhost:80 ([::1]:80)").
    what: String,
    /// The resolved addresses not tried yet, in resolver order.
    rest: VecDeque<SocketAddr>,
    /// The master had its family before connect (made for it, or bound): a failed
    /// attempt gives it a fresh socket of that family.
    fixed: bool,
}

/// The error of a failed attempt, when the master could not get a fresh socket after it.
fn remake_failed(attempt: &Error, remade: &Error) -> Error {
    Error::new(
        attempt.kind,
        format!(
            "{}; the socket could not be remade: {}",
            attempt.msg, remade.msg
        ),
    )
}

/// A TCP or Unix stream socket in any state.
pub struct Socket {
    kind: StreamKind,
    /// `None` only for a TCP master of family "any" that has no socket yet.
    family: Option<AddrFamily>,
    inner: Inner,
    /// Set while the client's connect is in progress (state `Connecting`).
    pending: Option<Box<PendingConnect>>,
    /// Timeouts of master and server sockets; a client's live in its stream.
    timeout: Timeout,
    /// Every option set on a master, applied to each socket it makes (the first, made
    /// late for family "any", and the fresh one after a failed connect attempt).
    options: Vec<(Opt, OptValue)>,
    /// Where a TCP master is bound, so that a fresh socket can be bound there again.
    bound: Option<SocketAddr>,
    /// When the object was made, for the age in `stats` before it is a client.
    born: Instant,
    /// Byte counts set with `set_stats` before the object is a client.
    counts: (u64, u64),
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Socket({:?} {} fd {:?})",
            self.kind,
            self.state().name(),
            self.fd()
        )
    }
}

fn new_object(kind: StreamKind, family: Option<AddrFamily>, inner: Inner) -> Socket {
    Socket {
        kind,
        family,
        inner,
        pending: None,
        timeout: Timeout::default(),
        options: Vec::new(),
        bound: None,
        born: Instant::now(),
        counts: (0, 0),
    }
}

fn domain_of(family: AddrFamily) -> Domain {
    match family {
        AddrFamily::Inet => Domain::IPV4,
        AddrFamily::Inet6 => Domain::IPV6,
        AddrFamily::Unix => Domain::UNIX,
    }
}

impl Socket {
    /// A TCP master (LuaSocket's `socket.tcp()`, `tcp4()`, `tcp6()`). With `Family::Any`
    /// the descriptor is made at bind or connect, for the family of the address used;
    /// `Inet6` sockets are IPv6-only, as LuaSocket's `tcp6`.
    pub fn tcp(family: Family) -> Result<Socket> {
        let mut s = new_object(StreamKind::Tcp, None, Inner::Master(None));
        let fam = match family {
            Family::Any => return Ok(s),
            Family::Inet => AddrFamily::Inet,
            Family::Inet6 => {
                s.options.push((Opt::Ipv6V6Only, OptValue::Bool(true)));
                AddrFamily::Inet6
            }
        };
        let sock = s.make_socket(fam)?;
        s.family = Some(fam);
        s.inner = Inner::Master(Some(sock));
        Ok(s)
    }

    /// A Unix-domain stream master (LuaSocket's `socket.unix()`).
    pub fn unix() -> Result<Socket> {
        Ok(new_object(
            StreamKind::Unix,
            Some(AddrFamily::Unix),
            Inner::Master(Some(new_unix_socket()?)),
        ))
    }

    /// A client around a connected (or connecting) stream.
    pub(crate) fn client(stream: Stream, family: AddrFamily) -> Socket {
        let kind = stream.kind();
        new_object(kind, Some(family), Inner::Client(stream))
    }

    /// A server around a listening socket.
    pub(crate) fn server(sock: socket2::Socket, family: AddrFamily) -> Socket {
        let kind = if family == AddrFamily::Unix {
            StreamKind::Unix
        } else {
            StreamKind::Tcp
        };
        new_object(kind, Some(family), Inner::Server(sock))
    }

    /// The object's state.
    pub fn state(&self) -> State {
        match self.inner {
            Inner::Master(_) => State::Master,
            Inner::Client(_) if self.pending.is_some() => State::Connecting,
            Inner::Client(_) => State::Client,
            Inner::Server(_) => State::Server,
            Inner::Detached(_) | Inner::Closed => State::Closed,
        }
    }

    /// TCP or Unix.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The address family; `None` for a TCP master of family "any" before bind/connect.
    pub fn family(&self) -> Option<AddrFamily> {
        self.family
    }

    /// An error for calling `op` in the wrong state: `Closed` on a closed socket,
    /// `Invalid` otherwise.
    fn wrong_state(&self, op: &str, wanted: &str) -> Error {
        match self.state() {
            State::Closed => Error::new(ErrorKind::Closed, format!("{op}: socket is closed")),
            s => Error::invalid(format!(
                "{op}: socket is a {} socket, not a {wanted} one",
                s.name()
            )),
        }
    }

    /// The connected stream of a client; for other states `Closed` (closed socket) or
    /// `Invalid` (master or server). All client I/O goes through it.
    pub fn stream(&mut self) -> Result<&mut Stream> {
        if !matches!(self.inner, Inner::Client(_)) {
            return Err(self.wrong_state("I/O", "client"));
        }
        if self.pending.is_some() {
            self.settle_connect();
        }
        match &mut self.inner {
            Inner::Client(s) => Ok(s),
            _ => unreachable!("checked above"),
        }
    }

    /// The descriptor of a master, server or client; `None` when closed (or for a master
    /// that has no socket yet).
    pub fn fd(&self) -> Option<RawFd> {
        match &self.inner {
            Inner::Master(s) => s.as_ref().map(|s| s.as_raw_fd()),
            Inner::Client(s) => s.fd(),
            Inner::Server(s) => Some(s.as_raw_fd()),
            Inner::Detached(_) | Inner::Closed => None,
        }
    }

    /// The socket2 socket, whatever the state (None when closed or not yet made).
    fn raw(&self) -> Option<&socket2::Socket> {
        match &self.inner {
            Inner::Master(s) => s.as_ref(),
            Inner::Client(s) => s.socket(),
            Inner::Server(s) => Some(s),
            Inner::Detached(_) | Inner::Closed => None,
        }
    }

    /// True when a client has input buffered in user space (LuaSocket's `dirty`).
    pub fn dirty(&self) -> bool {
        match &self.inner {
            Inner::Client(s) => s.has_buffered_input(),
            _ => false,
        }
    }

    // ----- timeouts -------------------------------------------------------------------

    /// Sets the block or total timeout in seconds (negative = forever, 0 = never wait).
    pub fn set_timeout(&mut self, mode: TimeoutMode, secs: f64) {
        self.timeout.set(mode, secs);
        if let Inner::Client(s) = &mut self.inner {
            s.timeout = self.timeout;
        }
    }

    /// The current timeouts.
    pub fn timeout(&self) -> Timeout {
        match &self.inner {
            Inner::Client(s) => s.timeout,
            _ => self.timeout,
        }
    }

    // ----- becoming a client ----------------------------------------------------------

    fn become_client(&mut self, stream: Stream) {
        let mut stream = stream;
        stream.timeout = self.timeout;
        let age = self.born.elapsed().as_secs_f64();
        stream.set_stats(self.counts.0, self.counts.1, age);
        self.inner = Inner::Client(stream);
    }

    /// A fresh socket for `family` with the master's options applied.
    fn make_socket(&self, family: AddrFamily) -> Result<socket2::Socket> {
        let sock = new_socket(domain_of(family))?;
        for (opt, value) in &self.options {
            set_opt(&sock, *opt, *value)?;
        }
        Ok(sock)
    }

    /// After a failed connect attempt: a TCP master of fixed family gets a fresh socket
    /// with its options, bound where the old one was (a socket whose connect failed is
    /// not reliably usable again); a master of family "any" that was not bound goes back
    /// to having no socket.
    fn renew_master(&mut self, fixed: bool) -> Result<()> {
        let Inner::Master(slot) = &mut self.inner else {
            return Ok(());
        };
        // The old socket goes first, releasing its address.
        *slot = None;
        if !fixed {
            self.family = None;
            return Ok(());
        }
        let family = self.family.expect("a fixed family");
        let sock = self.make_socket(family)?;
        if let Some(addr) = self.bound {
            sock.bind(&SockAddr::from(addr))
                .map_err(|e| Error::io(&format!("bind {addr}"), &e))?;
        }
        self.inner = Inner::Master(Some(sock));
        Ok(())
    }

    /// Connects a TCP master to `host`:`port` (LuaSocket's `tcp:connect`), trying every
    /// resolved address (of the socket's family once it has one) in turn within the
    /// socket's timeouts (the clock restarts for each address). On success the socket is
    /// a client.
    ///
    /// Each attempt uses a fresh socket with the options set so far (and bound where the
    /// master was bound); after all attempts failed the master is still a master.
    ///
    /// When the time runs out while an attempt is in flight (at once with a zero timeout,
    /// which tries only the first address; otherwise on the last address) the socket is
    /// left *connecting* and `Timeout` is returned: select it for writing to learn when
    /// the attempt is over, then call `connect` again. That call continues the same
    /// attempt (its arguments are only used if the attempt has to start over): `Ok` once
    /// connected, the attempt's error when it failed and no address is left (the socket
    /// is a master again), `Timeout` while it is still in progress; on a connected
    /// client `connect` fails with `IsConn` ("already connected"). Reads and writes on a
    /// connecting socket wait for the connect as their timeouts allow and report its
    /// failure.
    pub fn connect(&mut self, host: &str, port: u16) -> Result<()> {
        if self.kind != StreamKind::Tcp {
            return Err(Error::invalid(
                "connect: use connect_path for a unix socket",
            ));
        }
        match self.inner {
            Inner::Client(_) if self.pending.is_some() => return self.continue_connect(host, port),
            Inner::Client(_) => {
                return Err(Error::new(ErrorKind::IsConn, "connect: already connected"))
            }
            Inner::Master(_) => {}
            _ => return Err(self.wrong_state("connect", "master")),
        }
        // A master whose family is known (made for it, or bound) keeps it.
        let fixed = self.family.is_some();
        let family = self.family.map_or(Family::Any, AddrFamily::resolver_family);
        let addrs = resolve(host, port, family, true)?;
        let plan = Box::new(PendingConnect {
            host: host.to_string(),
            port,
            what: String::new(),
            rest: addrs.into(),
            fixed,
        });
        self.try_addresses(plan, Error::invalid("connect: no address"))
    }

    /// The next `connect` on a connecting socket: waits for the attempt in flight, goes
    /// on to the next address when it failed, starts over when a read or write had
    /// already seen it fail.
    fn continue_connect(&mut self, host: &str, port: u16) -> Result<()> {
        let Inner::Client(stream) = &self.inner else {
            unreachable!("a connecting socket is a client")
        };
        if !stream.is_connecting() {
            // A read or write completed the connect; it reported a failure, if any.
            if stream.socket().is_some_and(|s| s.peer_addr().is_ok()) {
                self.pending = None;
                return Ok(());
            }
            let plan = self.pending.take().expect("connecting");
            self.abandon_attempt(plan.fixed)?;
            return self.connect(host, port);
        }
        match self.wait_connect() {
            Ok(()) => Ok(()),
            Err(e) if e.kind == ErrorKind::Timeout => Err(e),
            Err(e) => {
                let plan = self.pending.take().expect("connecting");
                self.abandon_attempt(plan.fixed)
                    .map_err(|remade| remake_failed(&e, &remade))?;
                self.try_addresses(plan, e)
            }
        }
    }

    /// Starts connecting to the plan's addresses in turn from a master, waiting for each
    /// within the timeouts (see `connect`); `last` is the error returned when none is
    /// left.
    fn try_addresses(&mut self, mut plan: Box<PendingConnect>, mut last: Error) -> Result<()> {
        let zero = self.timeout.start().next_wait_ms() == 0;
        while let Some(addr) = plan.rest.pop_front() {
            plan.what = connect_what(&plan.host, plan.port, &addr);
            if let Inner::Master(None) = self.inner {
                match self.make_socket(AddrFamily::of(&addr)) {
                    Ok(s) => {
                        self.family = Some(AddrFamily::of(&addr));
                        self.inner = Inner::Master(Some(s));
                    }
                    Err(e) => {
                        last = e;
                        continue;
                    }
                }
            }
            let Inner::Master(Some(sock)) = &self.inner else {
                unreachable!("made above")
            };
            let started = start_connect(sock, &SockAddr::from(addr));
            if let Err(e) = started {
                last = Error::io(&plan.what, &e);
                self.renew_master(plan.fixed)
                    .map_err(|remade| remake_failed(&last, &remade))?;
                continue;
            }
            let Inner::Master(slot) = &mut self.inner else {
                unreachable!()
            };
            let sock = slot.take().expect("made above");
            if let Ok(true) = started {
                self.become_client(Stream::new(sock, StreamKind::Tcp)?);
                return Ok(());
            }
            self.become_client(Stream::connecting(sock, StreamKind::Tcp));
            let out_of_time = Error::new(ErrorKind::Timeout, format!("{}: timeout", plan.what));
            let more = !plan.rest.is_empty();
            let fixed = plan.fixed;
            self.pending = Some(plan);
            if zero {
                return Err(out_of_time);
            }
            match self.wait_connect() {
                Ok(()) => return Ok(()),
                Err(e) if e.kind == ErrorKind::Timeout && !more => return Err(e),
                Err(e) => {
                    last = e;
                    plan = self.pending.take().expect("set above");
                    self.abandon_attempt(fixed)
                        .map_err(|remade| remake_failed(&last, &remade))?;
                }
            }
        }
        Err(last)
    }

    /// Waits within the timeouts for the connect in flight: `Ok` once connected (the
    /// socket is then a plain client), `Timeout` while it goes on, or its error.
    fn wait_connect(&mut self) -> Result<()> {
        let deadline = self.timeout().start();
        let (Inner::Client(stream), Some(plan)) = (&mut self.inner, &self.pending) else {
            unreachable!("called while connecting")
        };
        let sock = stream
            .socket()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "connect: socket is closed"))?;
        finish_connect(sock, &deadline, &plan.what)?;
        stream.set_connected();
        self.pending = None;
        Ok(())
    }

    /// A connecting socket whose attempt a read or write has completed becomes a plain
    /// client when the attempt succeeded (a failed one stays for `connect` to retry).
    fn settle_connect(&mut self) {
        if let Inner::Client(stream) = &self.inner {
            if !stream.is_connecting() && stream.socket().is_some_and(|s| s.peer_addr().is_ok()) {
                self.pending = None;
            }
        }
    }

    /// Drops the attempt in flight: the socket is a master again, with a fresh socket of
    /// its family when that was fixed (see `renew_master`).
    fn abandon_attempt(&mut self, fixed: bool) -> Result<()> {
        self.pending = None;
        if let Inner::Client(stream) = &mut self.inner {
            self.timeout = stream.timeout;
        }
        self.inner = Inner::Master(None);
        self.renew_master(fixed)
    }

    /// Connects a Unix master to the socket at `path`, waiting within the socket's
    /// timeouts while the listener's queue is full. On success the socket is a client.
    pub fn connect_path(&mut self, path: &Path) -> Result<()> {
        if self.kind != StreamKind::Unix {
            return Err(Error::invalid(
                "connect_path: the socket is not a unix socket",
            ));
        }
        let deadline = self.timeout.start();
        let Inner::Master(Some(sock)) = &self.inner else {
            return Err(self.wrong_state("connect", "master"));
        };
        connect_sock(sock, path, &deadline, "connect")?;
        let Inner::Master(slot) = &mut self.inner else {
            unreachable!()
        };
        let sock = slot.take().expect("checked above");
        self.become_client(Stream::new(sock, StreamKind::Unix)?);
        Ok(())
    }

    // ----- binding and listening ------------------------------------------------------

    /// Binds a TCP master to `host`:`port` ("*" = every interface of the socket's family,
    /// IPv4 for family "any"), trying each resolved address in turn. A master of family
    /// "any" gets a socket of the family of the address that binds.
    pub fn bind(&mut self, host: &str, port: u16) -> Result<()> {
        if self.kind != StreamKind::Tcp {
            return Err(Error::invalid("bind: use bind_path for a unix socket"));
        }
        if !matches!(self.inner, Inner::Master(_)) {
            return Err(self.wrong_state("bind", "master"));
        }
        let family = self.family.map_or(Family::Any, AddrFamily::resolver_family);
        let addrs = resolve_local(host, port, family, true)?;
        let mut last = Error::invalid("bind: no address");
        for addr in &addrs {
            let what = format!("bind {}", host_port(&addr.ip().to_string(), port));
            let fresh = match &self.inner {
                Inner::Master(None) => Some(self.make_socket(AddrFamily::of(addr))),
                _ => None,
            };
            let result = match fresh {
                Some(Err(e)) => Err(e),
                Some(Ok(s)) => match s.bind(&SockAddr::from(*addr)) {
                    Ok(()) => {
                        self.family = Some(AddrFamily::of(addr));
                        self.inner = Inner::Master(Some(s));
                        Ok(())
                    }
                    Err(e) => Err(Error::io(&what, &e)),
                },
                None => match &self.inner {
                    Inner::Master(Some(s)) => s
                        .bind(&SockAddr::from(*addr))
                        .map_err(|e| Error::io(&what, &e)),
                    _ => unreachable!(),
                },
            };
            match result {
                Ok(()) => {
                    self.bound = self.raw().and_then(|s| s.local_addr().ok()?.as_socket());
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Binds a Unix master to `path` (which must not exist yet).
    pub fn bind_path(&mut self, path: &Path) -> Result<()> {
        if self.kind != StreamKind::Unix {
            return Err(Error::invalid("bind_path: the socket is not a unix socket"));
        }
        let Inner::Master(Some(sock)) = &self.inner else {
            return Err(self.wrong_state("bind", "master"));
        };
        let addr = unix_addr(path)?;
        sock.bind(&addr)
            .map_err(|e| Error::io(&format!("bind {}", path.display()), &e))
    }

    /// Makes a master listen (LuaSocket's `listen`, default backlog 32 for a negative
    /// value); it becomes a server. A TCP master that has no socket yet gets an IPv4 one.
    pub fn listen(&mut self, backlog: i32) -> Result<()> {
        let backlog = if backlog < 0 {
            crate::net::tcp::DEFAULT_BACKLOG
        } else {
            backlog
        };
        match &self.inner {
            Inner::Master(None) => {
                let s = self.make_socket(AddrFamily::Inet)?;
                self.family = Some(AddrFamily::Inet);
                self.inner = Inner::Master(Some(s));
            }
            Inner::Master(Some(_)) => {}
            _ => return Err(self.wrong_state("listen", "master")),
        }
        let Inner::Master(slot) = &mut self.inner else {
            unreachable!()
        };
        let sock = slot.as_ref().expect("made above");
        sock.listen(backlog).map_err(|e| Error::io("listen", &e))?;
        let sock = slot.take().expect("made above");
        self.inner = Inner::Server(sock);
        Ok(())
    }

    // ----- accepting ------------------------------------------------------------------

    /// Waits for a connection on a server within the socket's timeouts and returns it as
    /// a client (non-blocking, close-on-exec, default timeouts). EINTR and connections
    /// aborted before they were accepted are retried. Fails with `Timeout` when the time
    /// runs out.
    pub fn accept(&mut self) -> Result<Socket> {
        let deadline = self.timeout.start();
        self.accept_until(Some(&deadline))
    }

    /// Accepts a waiting connection without waiting; `WouldBlock` when there is none
    /// (Moonbridge's `accept_nb`).
    pub fn accept_nb(&mut self) -> Result<Socket> {
        self.accept_until(None)
    }

    fn accept_until(&mut self, deadline: Option<&Deadline>) -> Result<Socket> {
        let s = self.accept_raw(deadline)?;
        // The stream makes it non-blocking.
        let family = self.family.unwrap_or(AddrFamily::Inet);
        Ok(Socket::client(Stream::new(s, self.kind)?, family))
    }

    /// Accepts a waiting connection without waiting and without making a stream of it:
    /// the bare close-on-exec descriptor (for a prefork master that hands it to a worker
    /// process). `WouldBlock` when there is none.
    pub(crate) fn accept_raw_nb(&mut self) -> Result<socket2::Socket> {
        self.accept_raw(None)
    }

    fn accept_raw(&mut self, deadline: Option<&Deadline>) -> Result<socket2::Socket> {
        let Inner::Server(sock) = &self.inner else {
            return Err(self.wrong_state("accept", "server"));
        };
        loop {
            match sock.accept() {
                // accept4(SOCK_CLOEXEC) by socket2.
                Ok((s, _)) => return Ok(s),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let Some(deadline) = deadline else {
                        return Err(Error::new(
                            ErrorKind::WouldBlock,
                            "accept: no connection is waiting",
                        ));
                    };
                    if wait_fd(sock.as_raw_fd(), POLLIN, deadline).is_err() {
                        return Err(Error::new(ErrorKind::Timeout, "accept: timeout"));
                    }
                }
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EINTR) | Some(libc::ECONNABORTED)
                    ) => {}
                Err(e) => return Err(Error::io("accept", &e)),
            }
        }
    }

    // ----- names ----------------------------------------------------------------------

    /// The local address (LuaSocket's `getsockname`).
    pub fn sockname(&self) -> Result<Address> {
        let sock = self.raw().ok_or_else(|| self.no_socket("getsockname"))?;
        let sa = sock
            .local_addr()
            .map_err(|e| Error::io("getsockname", &e))?;
        Ok(Address::from_sockaddr(&sa))
    }

    /// The peer's address (LuaSocket's `getpeername`); fails with `Closed` ("not
    /// connected") for a socket that is not connected.
    pub fn peername(&self) -> Result<Address> {
        let sock = self.raw().ok_or_else(|| self.no_socket("getpeername"))?;
        let sa = sock.peer_addr().map_err(|e| Error::io("getpeername", &e))?;
        Ok(Address::from_sockaddr(&sa))
    }

    fn no_socket(&self, op: &str) -> Error {
        match self.state() {
            State::Closed => Error::new(ErrorKind::Closed, format!("{op}: socket is closed")),
            // A finished Unix stream has given up its descriptor (Moonbridge's finish).
            State::Client | State::Connecting => Error::new(
                ErrorKind::Closed,
                format!("{op}: the socket was closed by finish"),
            ),
            _ => Error::invalid(format!(
                "{op}: the socket has no address family yet; bind or connect it first"
            )),
        }
    }

    // ----- options --------------------------------------------------------------------

    /// Sets an option by LuaSocket's name ("keepalive", "reuseaddr", "tcp-nodelay",
    /// "linger", ...). A master remembers its options: one of family "any" that has no
    /// socket yet applies them when it makes one, and every master applies them to the
    /// fresh socket of each connect attempt.
    pub fn set_option(&mut self, name: &str, value: OptValue) -> Result<()> {
        let opt = Opt::parse(name)?;
        let value = opt.check(value)?;
        if let Inner::Master(slot) = &self.inner {
            if let Some(sock) = slot {
                set_opt(sock, opt, value)?;
            }
            self.options.retain(|(o, _)| *o != opt);
            self.options.push((opt, value));
            return Ok(());
        }
        let sock = self.raw().ok_or_else(|| self.no_socket("setoption"))?;
        set_opt(sock, opt, value)
    }

    /// Reads an option by LuaSocket's name. On a TCP master that has no socket yet, the
    /// value set earlier is returned, or the system default of a new IPv4 socket.
    pub fn get_option(&self, name: &str) -> Result<OptValue> {
        let opt = Opt::parse(name)?;
        if let Inner::Master(None) = self.inner {
            if let Some((_, v)) = self.options.iter().find(|(o, _)| *o == opt) {
                return Ok(*v);
            }
            return get_opt(&new_socket(Domain::IPV4)?, opt);
        }
        let sock = self.raw().ok_or_else(|| self.no_socket("getoption"))?;
        get_opt(sock, opt)
    }

    // ----- swapping the descriptor ---------------------------------------------------

    /// LuaSocket's `setfd`: the object now uses `fd` and owns it (it is made non-blocking
    /// and closed by `close` or drop later). The descriptor held before is handed back
    /// WITHOUT being closed, together with its buffered input and output being dropped.
    /// `None` detaches: the object has no descriptor and reads as closed until a later
    /// `set_fd` gives it one. The state stays: a client stays a client (a new stream on
    /// `fd` with the same timeouts and statistics), a server a server, a master a master.
    /// A closed object takes no descriptor (`Closed`; `None` does nothing); `fd` is then
    /// handed back, as when it cannot be made non-blocking.
    pub fn set_fd(&mut self, fd: Option<OwnedFd>) -> SetFdResult {
        let state = match &self.inner {
            Inner::Closed => {
                return match fd {
                    None => Ok(None),
                    Some(fd) => Err((
                        Error::new(ErrorKind::Closed, "setfd: socket is closed"),
                        Some(fd),
                    )),
                }
            }
            Inner::Detached(state) => *state,
            _ => self.state(),
        };
        let new = match fd {
            None => None,
            Some(fd) => {
                let sock = socket2::Socket::from(fd);
                if let Err(e) = sock.set_nonblocking(true) {
                    return Err((Error::io("setfd", &e), Some(sock.into())));
                }
                Some(sock)
            }
        };
        let old = self.take_socket(state);
        if let Some(sock) = new {
            if self.family.is_none() {
                self.family = family_of(&sock);
            }
            match state {
                State::Master => self.inner = Inner::Master(Some(sock)),
                State::Server => self.inner = Inner::Server(sock),
                // A connect in progress is not the new descriptor's: it becomes a client.
                State::Client | State::Connecting => {
                    self.become_client(Stream::from_nonblocking(sock, self.kind))
                }
                State::Closed => unreachable!("a closed object returned above"),
            }
        }
        Ok(old.map(OwnedFd::from))
    }

    /// Takes the descriptor out without closing it, leaving the object detached in
    /// `state`; a client's timeouts and statistics move to the object.
    fn take_socket(&mut self, state: State) -> Option<socket2::Socket> {
        self.pending = None;
        match std::mem::replace(&mut self.inner, Inner::Detached(state)) {
            Inner::Master(s) => s,
            Inner::Server(s) => Some(s),
            Inner::Client(mut stream) => {
                self.timeout = stream.timeout;
                let (received, sent, age) = stream.stats();
                self.set_stats(received, sent, age);
                stream.detach()
            }
            Inner::Detached(_) | Inner::Closed => None,
        }
    }

    // ----- shutting down and closing --------------------------------------------------

    /// Shuts down one or both directions of a client's connection.
    pub fn shutdown(&mut self, how: Shutdown) -> Result<()> {
        match &mut self.inner {
            Inner::Client(s) => s.shutdown(how),
            _ => Err(self.wrong_state("shutdown", "client")),
        }
    }

    /// Closes the socket; a client first flushes its write buffer (Moonbridge). Closing a
    /// closed socket does nothing. The socket is closed afterwards even when the flush
    /// failed (that error is returned). A Unix listener's file is never unlinked.
    pub fn close(&mut self) -> Result<()> {
        self.pending = None;
        match std::mem::replace(&mut self.inner, Inner::Closed) {
            Inner::Client(mut s) => {
                let r = s.close();
                self.keep_stats(&s);
                r
            }
            _ => Ok(()),
        }
    }

    /// A closed client still answers `stats` with its counts, as LuaSocket's does.
    fn keep_stats(&mut self, s: &Stream) {
        let (received, sent, age) = s.stats();
        self.set_stats(received, sent, age);
    }

    /// Closes a client abruptly (SO_LINGER 0: the peer sees a reset; buffered output is
    /// dropped); other states just close.
    pub fn reset(&mut self) -> Result<()> {
        self.pending = None;
        match std::mem::replace(&mut self.inner, Inner::Closed) {
            Inner::Client(mut s) => {
                let r = s.reset();
                self.keep_stats(&s);
                r
            }
            _ => Ok(()),
        }
    }

    // ----- statistics -----------------------------------------------------------------

    /// Bytes received, bytes sent, and the object's age in seconds (LuaSocket's
    /// `getstats`).
    pub fn stats(&self) -> (u64, u64, f64) {
        match &self.inner {
            Inner::Client(s) => s.stats(),
            _ => (
                self.counts.0,
                self.counts.1,
                self.born.elapsed().as_secs_f64(),
            ),
        }
    }

    /// Resets the statistics (LuaSocket's `setstats`): byte counts and age in seconds (a
    /// negative or NaN age leaves the age alone).
    pub fn set_stats(&mut self, received: u64, sent: u64, age: f64) {
        match &mut self.inner {
            Inner::Client(s) => s.set_stats(received, sent, age),
            _ => {
                self.counts = (received, sent);
                // A negative or NaN age leaves the age alone (as the stream does).
                if age >= 0.0 {
                    let age = Duration::try_from_secs_f64(age).unwrap_or(Duration::MAX);
                    self.born = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                }
            }
        }
    }
}

impl Pollable for Socket {
    fn poll_fd(&self) -> Option<RawFd> {
        self.fd()
    }
    fn has_buffered_input(&self) -> bool {
        self.dirty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::stream::{LineMode, Pattern, Wait};
    use crate::net::select::{select, Events, PollSet};
    use crate::net::tcp;

    fn pair() -> (Socket, Socket, Socket) {
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        let port = server.sockname().unwrap().port();
        let client =
            tcp::connect("127.0.0.1", port, None, Family::Any, &Timeout::default()).unwrap();
        let accepted = server.accept().unwrap();
        (server, client, accepted)
    }

    #[test]
    fn accept_times_out_and_accept_nb_would_block() {
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        server.set_timeout(TimeoutMode::Block, 0.05);
        let t = Instant::now();
        let e = server.accept().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.msg, "accept: timeout");
        assert!(t.elapsed() >= Duration::from_millis(45));
        assert!(t.elapsed() < Duration::from_secs(2));
        let e = server.accept_nb().unwrap_err();
        assert_eq!(e.kind, ErrorKind::WouldBlock);
        // A listener is readable in select exactly when accept would succeed.
        let (r, _) = select(&[&server], &[], 0.0).unwrap();
        assert_eq!(r, vec![false]);
        let port = server.sockname().unwrap().port();
        let _c = tcp::connect_nb("127.0.0.1", port).unwrap();
        let (r, _) = select(&[&server], &[], 5.0).unwrap();
        assert_eq!(r, vec![true]);
        let a = server.accept_nb().unwrap();
        assert_eq!(a.state(), State::Client);
        assert_eq!(a.timeout(), Timeout::default());
    }

    #[test]
    fn master_with_options_binds_listens_and_connects() {
        let mut m = Socket::tcp(Family::Any).unwrap();
        assert_eq!(m.state(), State::Master);
        assert_eq!(m.fd(), None);
        assert_eq!(m.family(), None);
        m.set_option("reuseaddr", OptValue::Bool(true)).unwrap();
        assert_eq!(m.get_option("reuseaddr").unwrap(), OptValue::Bool(true));
        assert_eq!(m.sockname().unwrap_err().kind, ErrorKind::Invalid);
        m.bind("127.0.0.1", 0).unwrap();
        assert_eq!(m.family(), Some(AddrFamily::Inet));
        assert_eq!(m.get_option("reuseaddr").unwrap(), OptValue::Bool(true));
        m.listen(-1).unwrap();
        assert_eq!(m.state(), State::Server);
        let port = m.sockname().unwrap().port();

        let mut c = Socket::tcp(Family::Inet).unwrap();
        assert!(c.fd().is_some());
        c.set_option("tcp-nodelay", OptValue::Bool(true)).unwrap();
        c.bind("127.0.0.1", 0).unwrap();
        let local = c.sockname().unwrap().port();
        c.connect("127.0.0.1", port).unwrap();
        assert_eq!(c.state(), State::Client);
        assert_eq!(c.sockname().unwrap().port(), local);
        assert_eq!(c.get_option("tcp-nodelay").unwrap(), OptValue::Bool(true));
        let s = m.accept().unwrap();
        assert_eq!(s.peername().unwrap().port(), local);
        // Wrong states.
        assert_eq!(c.listen(1).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(
            m.connect("127.0.0.1", port).unwrap_err().kind,
            ErrorKind::Invalid
        );
        assert_eq!(m.stream().unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(c.accept().unwrap_err().kind, ErrorKind::Invalid);
    }

    #[test]
    fn master_of_any_family_tries_every_address_with_fresh_sockets() {
        let mut m = Socket::tcp(Family::Any).unwrap();
        m.set_option("keepalive", OptValue::Bool(true)).unwrap();
        let port = crate::net::tcp::tests::closed_port("127.0.0.1");
        let e = m.connect("127.0.0.1", port).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Refused);
        assert_eq!(m.state(), State::Master);
        let (_srv, l) = {
            let mut s = tcp::listen("::1", 0, 4).unwrap();
            let p = s.sockname().unwrap().port();
            let _ = s.accept_nb();
            (s, p)
        };
        m.connect("::1", l).unwrap();
        assert_eq!(m.family(), Some(AddrFamily::Inet6));
        assert_eq!(m.get_option("keepalive").unwrap(), OptValue::Bool(true));
    }

    #[test]
    fn bound_master_keeps_its_address_and_options_across_failed_attempts() {
        let mut m = Socket::tcp(Family::Inet).unwrap();
        m.set_option("tcp-nodelay", OptValue::Bool(true)).unwrap();
        m.bind("127.0.0.1", 0).unwrap();
        let local = m.sockname().unwrap().port();
        let port = crate::net::tcp::tests::closed_port("127.0.0.1");
        assert_eq!(
            m.connect("127.0.0.1", port).unwrap_err().kind,
            ErrorKind::Refused
        );
        assert_eq!(m.state(), State::Master);
        assert!(m.fd().is_some());
        assert_eq!(m.sockname().unwrap().port(), local);
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        let sport = server.sockname().unwrap().port();
        m.connect("127.0.0.1", sport).unwrap();
        assert_eq!(m.sockname().unwrap().port(), local);
        assert_eq!(m.get_option("tcp-nodelay").unwrap(), OptValue::Bool(true));
        let a = server.accept().unwrap();
        assert_eq!(a.peername().unwrap().port(), local);
        // An IPv6 master stays IPv6-only on its fresh sockets.
        let mut m6 = Socket::tcp(Family::Inet6).unwrap();
        let p6 = crate::net::tcp::tests::closed_port("::1");
        assert_eq!(m6.connect("::1", p6).unwrap_err().kind, ErrorKind::Refused);
        assert_eq!(m6.get_option("ipv6-v6only").unwrap(), OptValue::Bool(true));
    }

    #[test]
    fn zero_timeout_connect_goes_on_in_the_background() {
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        let port = server.sockname().unwrap().port();
        let mut m = Socket::tcp(Family::Inet).unwrap();
        m.set_timeout(TimeoutMode::Block, 0.0);
        let first = m.connect("127.0.0.1", port);
        match &first {
            Ok(()) => assert_eq!(m.state(), State::Client),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Timeout);
                assert_eq!(m.state(), State::Connecting);
            }
        }
        let (_, w) = select(&[], &[&m], 5.0).unwrap();
        assert_eq!(w, vec![true]);
        // The next connect completes the same attempt, the one after says so.
        if first.is_err() {
            m.connect("127.0.0.1", port).unwrap();
        }
        assert_eq!(m.state(), State::Client);
        assert_eq!(
            m.connect("127.0.0.1", port).unwrap_err().kind,
            ErrorKind::IsConn
        );
        let (_, w) = select(&[], &[&m], 5.0).unwrap();
        assert_eq!(w, vec![true]);
        m.set_timeout(TimeoutMode::Block, -1.0);
        assert_eq!(m.stream().unwrap().send(b"x"), (1, Ok(())));
        let mut a = server.accept().unwrap();
        let mut out = Vec::new();
        a.stream()
            .unwrap()
            .receive(Pattern::Count(1), &mut out)
            .unwrap();
        assert_eq!(out, b"x");
    }

    #[test]
    fn zero_timeout_connect_reports_refusal_then_starts_over() {
        let port = {
            let l = tcp::bind("127.0.0.1", 0, 8).unwrap();
            l.sockname().unwrap().port()
        };
        let mut m = Socket::tcp(Family::Any).unwrap();
        m.set_timeout(TimeoutMode::Block, 0.0);
        let first = m.connect("127.0.0.1", port).unwrap_err();
        if first.kind == ErrorKind::Timeout {
            assert_eq!(m.state(), State::Connecting);
            let (_, w) = select(&[], &[&m], 5.0).unwrap();
            assert_eq!(w, vec![true]);
            let e = m.connect("127.0.0.1", port).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Refused, "{}", e.msg);
        } else {
            assert_eq!(first.kind, ErrorKind::Refused);
        }
        assert_eq!(m.state(), State::Master);
        // A new attempt on the same object, this time to a listener, with a timeout.
        let mut server = tcp::bind("127.0.0.1", 0, 8).unwrap();
        let port = server.sockname().unwrap().port();
        m.set_timeout(TimeoutMode::Block, 5.0);
        m.connect("127.0.0.1", port).unwrap();
        assert_eq!(m.state(), State::Client);
        server.accept().unwrap();
    }

    #[test]
    fn connect_still_in_progress_stays_connecting() {
        // A listener with a full queue does not answer the SYN: the connect stays in
        // progress until the listener accepts.
        let mut l = Socket::tcp(Family::Inet).unwrap();
        l.bind("127.0.0.1", 0).unwrap();
        l.listen(0).unwrap();
        let port = l.sockname().unwrap().port();
        let mut fillers = Vec::new();
        let mut waiting = None;
        for _ in 0..8 {
            let mut c = Socket::tcp(Family::Inet).unwrap();
            c.set_timeout(TimeoutMode::Block, 0.0);
            let _ = c.connect("127.0.0.1", port);
            if c.state() == State::Connecting && c.connect("127.0.0.1", port).is_err() {
                waiting = Some(c);
                break;
            }
            fillers.push(c);
        }
        let mut c = waiting.expect("a connect that stays in progress");
        assert_eq!(
            c.connect("127.0.0.1", port).unwrap_err().kind,
            ErrorKind::Timeout
        );
        c.set_timeout(TimeoutMode::Block, 0.2);
        let t = Instant::now();
        assert_eq!(
            c.connect("127.0.0.1", port).unwrap_err().kind,
            ErrorKind::Timeout
        );
        assert!(t.elapsed() >= Duration::from_millis(150));
        assert_eq!(c.state(), State::Connecting);
        // The listener takes everyone: the attempt completes.
        l.set_timeout(TimeoutMode::Block, 0.5);
        c.set_timeout(TimeoutMode::Block, 5.0);
        let mut accepted = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.state() == State::Connecting && Instant::now() < deadline {
            if let Ok(a) = l.accept() {
                accepted.push(a);
            }
            let _ = c.connect("127.0.0.1", port);
        }
        assert_eq!(c.state(), State::Client);
    }

    #[test]
    fn names_and_raw_addresses() {
        let (server, client, accepted) = pair();
        let sa = server.sockname().unwrap();
        let cl = client.sockname().unwrap();
        let cp = client.peername().unwrap();
        assert_eq!(cp, sa);
        assert_eq!(accepted.peername().unwrap(), cl);
        assert_eq!(cl.text(), "127.0.0.1");
        assert_eq!(cl.family(), AddrFamily::Inet);
        assert_eq!(cl.ip(), Some(IpAddr::from([127, 0, 0, 1])));
        let e = server.peername().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed, "{e:?}");
        let m = Socket::tcp(Family::Inet6).unwrap();
        assert_eq!(m.sockname().unwrap().text(), "::");
        assert_eq!(m.get_option("ipv6-v6only").unwrap(), OptValue::Bool(true));
    }

    #[test]
    fn options_round_trip_on_every_state() {
        let (mut server, mut client, _a) = pair();
        for (name, v) in [
            ("keepalive", OptValue::Bool(true)),
            ("tcp-nodelay", OptValue::Bool(true)),
            ("linger", OptValue::Linger { on: true, secs: 3 }),
            ("keepalive", OptValue::Bool(false)),
        ] {
            client.set_option(name, v).unwrap();
            assert_eq!(client.get_option(name).unwrap(), v, "{name}");
        }
        server
            .set_option("reuseaddr", OptValue::Bool(false))
            .unwrap();
        assert_eq!(
            server.get_option("reuseaddr").unwrap(),
            OptValue::Bool(false)
        );
        let e = client
            .set_option("no-such-option", OptValue::Bool(true))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        client.close().unwrap();
        let e = client.get_option("keepalive").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
    }

    #[test]
    fn close_is_idempotent_and_final() {
        let (mut server, mut client, mut accepted) = pair();
        client.close().unwrap();
        client.close().unwrap();
        assert_eq!(client.state(), State::Closed);
        assert_eq!(client.fd(), None);
        assert!(!client.dirty());
        assert_eq!(client.stream().unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(client.sockname().unwrap_err().kind, ErrorKind::Closed);
        accepted.reset().unwrap();
        accepted.reset().unwrap();
        server.close().unwrap();
        assert_eq!(server.accept().unwrap_err().kind, ErrorKind::Closed);
        assert_eq!(server.listen(1).unwrap_err().kind, ErrorKind::Closed);
    }

    #[test]
    fn set_fd_moves_a_client_and_detaches_without_closing() {
        let (_s1, mut c1, _a1) = pair();
        let (_s2, mut c2, mut a2) = pair();
        c1.set_timeout(TimeoutMode::Block, 2.0);
        c1.set_stats(7, 8, -1.0);
        let fd1 = c1.fd().unwrap();
        let fd2 = c2.set_fd(None).unwrap().unwrap();
        assert_eq!(c2.state(), State::Closed);
        assert_eq!(c2.fd(), None);
        assert_eq!(c2.stream().unwrap_err().kind, ErrorKind::Closed);
        let raw2 = fd2.as_raw_fd();
        let old = c1.set_fd(Some(fd2)).unwrap().unwrap();
        assert_eq!(old.as_raw_fd(), fd1);
        assert_eq!(c1.state(), State::Client);
        assert_eq!(c1.fd(), Some(raw2));
        assert_eq!(c1.timeout().block, Some(Duration::from_secs(2)));
        assert_eq!(c1.stats().0, 7);
        a2.stream().unwrap().send(b"moved\n").1.unwrap();
        let mut line = Vec::new();
        c1.stream()
            .unwrap()
            .receive(Pattern::Line(LineMode::StripAllCr), &mut line)
            .unwrap();
        assert_eq!(line, b"moved");
        // Detach, then take the descriptor back: still a client.
        let back = c1.set_fd(None).unwrap().unwrap();
        assert_eq!(back.as_raw_fd(), raw2);
        assert_eq!(c1.fd(), None);
        assert!(c1.set_fd(None).unwrap().is_none());
        assert!(c1.set_fd(Some(back)).unwrap().is_none());
        assert_eq!(c1.state(), State::Client);
        // A closed object refuses a descriptor and hands it back.
        c2.close().unwrap();
        let (e, given) = c2.set_fd(Some(old)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert_eq!(given.unwrap().as_raw_fd(), fd1);
        assert!(c2.set_fd(None).unwrap().is_none());
    }

    #[test]
    fn set_fd_keeps_masters_and_servers() {
        let mut m = Socket::tcp(Family::Any).unwrap();
        let (mut server, _c, _a) = pair();
        let lfd = server.set_fd(None).unwrap().unwrap();
        assert_eq!(server.state(), State::Closed);
        assert!(m.set_fd(Some(lfd)).unwrap().is_none());
        assert_eq!(m.state(), State::Master);
        assert_eq!(m.family(), Some(AddrFamily::Inet));
        let lfd = m.set_fd(None).unwrap().unwrap();
        assert!(server.set_fd(Some(lfd)).unwrap().is_none());
        assert_eq!(server.state(), State::Server);
        let port = server.sockname().unwrap().port();
        let _c2 = tcp::connect("127.0.0.1", port, None, Family::Any, &Timeout::default()).unwrap();
        server.set_timeout(TimeoutMode::Block, 2.0);
        assert_eq!(server.accept().unwrap().state(), State::Client);
    }

    #[test]
    fn timeouts_and_stats() {
        let (server, mut client, mut accepted) = pair();
        assert_eq!(server.stats().0, 0);
        client.set_timeout(TimeoutMode::Total, 1.5);
        assert_eq!(client.timeout().total, Some(Duration::from_secs_f64(1.5)));
        assert_eq!(client.timeout().block, None);
        accepted.set_timeout(TimeoutMode::Block, 0.05);
        let mut out = b"partial:".to_vec();
        client.stream().unwrap().send(b"abc").1.unwrap();
        let e = accepted
            .stream()
            .unwrap()
            .receive(Pattern::Count(10), &mut out)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(out, b"partial:abc");
        assert_eq!(accepted.stats().0, 3);
        assert_eq!(client.stats().1, 3);
        client.set_stats(10, 20, 100.0);
        let (r, s, age) = client.stats();
        assert_eq!((r, s), (10, 20));
        assert!((100.0..101.0).contains(&age), "{age}");
        let mut m = Socket::tcp(Family::Any).unwrap();
        m.set_stats(1, 2, 50.0);
        let (r, s, age) = m.stats();
        assert_eq!((r, s), (1, 2));
        assert!((50.0..51.0).contains(&age));
    }

    #[test]
    fn select_returns_at_once_for_dirty_sockets_and_ignores_closed_ones() {
        let (_server, mut client, mut accepted) = pair();
        client.stream().unwrap().send(b"one\ntwo\n").1.unwrap();
        let mut line = Vec::new();
        accepted
            .stream()
            .unwrap()
            .receive(Pattern::Line(LineMode::StripAllCr), &mut line)
            .unwrap();
        assert_eq!(line, b"one");
        assert!(accepted.dirty());
        // Drain what the kernel still holds, so only the buffer makes it readable.
        let t = Instant::now();
        let (r, _) = select(&[&accepted], &[], 10.0).unwrap();
        assert_eq!(r, vec![true]);
        assert!(t.elapsed() < Duration::from_secs(1));
        // A closed socket is never ready, even with a long timeout cut short by another.
        let mut dead = pair().1;
        dead.close().unwrap();
        let mut set = PollSet::new();
        let i = set.add(&dead, Events::IN | Events::OUT);
        let j = set.add(&accepted, Events::IN);
        assert_eq!(set.wait(10.0).unwrap(), 1);
        assert!(set.ready(i).is_empty());
        assert!(set.readable(j));
        // Not dirty once the buffered line is read and nothing else is there.
        line.clear();
        accepted
            .stream()
            .unwrap()
            .receive(Pattern::Line(LineMode::StripAllCr), &mut line)
            .unwrap();
        assert_eq!(line, b"two");
        assert!(!accepted.dirty());
        let (r, _) = select(&[&accepted], &[], 0.02).unwrap();
        assert_eq!(r, vec![false]);
    }

    #[test]
    fn moonbridge_io_through_the_socket() {
        let (_server, mut client, mut accepted) = pair();
        let c = client.stream().unwrap();
        c.write(b"hello world\n", Wait::Timeout).unwrap();
        assert_eq!(c.flush(Wait::NonBlocking).unwrap(), 0);
        c.finish(Wait::Timeout).unwrap();
        let a = accepted.stream().unwrap();
        let mut out = Vec::new();
        assert_eq!(
            a.read(None, Some(b' '), Wait::Timeout, &mut out).unwrap(),
            ReadEnd::Term
        );
        assert_eq!(out, b"hello ");
        let (n, end) = a.drain(None, None, Wait::Timeout).unwrap();
        assert_eq!((n, end), (6, ReadEnd::Eof));
    }

    use crate::io::stream::ReadEnd;
}

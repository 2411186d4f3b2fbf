//! Unix-domain stream sockets (Moonbridge's "local sockets", LuaSocket's `socket.unix`):
//! connecting, listening, and the stale-socket-file rule of Moonbridge's `locallisten`.

use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Stream, StreamKind};
use crate::io::timeout::Deadline;
use crate::net::socket::{AddrFamily, Socket};
use crate::net::tcp::new_socket;
use socket2::{Domain, SockAddr};
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The longest path a Unix socket address holds (sun_path less its NUL).
pub const MAX_PATH: usize = 107;

/// A new non-blocking, close-on-exec Unix stream socket.
pub(crate) fn new_unix_socket() -> Result<socket2::Socket> {
    new_socket(Domain::UNIX)
}

/// The socket address of `path`; an empty or too long path is `Invalid`.
pub(crate) fn unix_addr(path: &Path) -> Result<SockAddr> {
    let len = path.as_os_str().len();
    if len == 0 {
        return Err(Error::invalid("unix socket path is empty"));
    }
    if len > MAX_PATH {
        return Err(Error::invalid(format!(
            "unix socket path {} is {len} bytes long; at most {MAX_PATH} fit",
            path.display()
        )));
    }
    SockAddr::unix(path).map_err(|e| Error::io(&format!("{}", path.display()), &e))
}

/// Connects `sock` to the socket at `path`, waiting within `deadline` while the
/// listener's queue is full. A Unix connect never stays "in progress": it succeeds, fails,
/// or finds the queue full (EAGAIN), in which case the wait is done by a blocking connect
/// bounded with SO_SNDTIMEO; the socket is non-blocking again afterwards.
pub(crate) fn connect_sock(
    sock: &socket2::Socket,
    path: &Path,
    deadline: &Deadline,
    op: &str,
) -> Result<()> {
    let addr = unix_addr(path)?;
    let what = format!("{op} {}", path.display());
    match sock.connect(&addr) {
        Ok(()) => return Ok(()),
        Err(e) if is_again(&e) => {}
        Err(e) => return Err(Error::io(&what, &e)),
    }
    let timed_out = || Error::new(ErrorKind::Timeout, format!("{what}: timeout"));
    if deadline.next_wait_ms() == 0 {
        return Err(timed_out());
    }
    let set_mode = |blocking: bool| {
        sock.set_nonblocking(!blocking)
            .map_err(|e| Error::io("fcntl O_NONBLOCK", &e))
    };
    set_mode(true)?;
    let result = loop {
        let wait = deadline.next_wait();
        if wait.is_some_and(|w| w.is_zero()) {
            break Err(timed_out());
        }
        // SO_SNDTIMEO of None (0) waits forever, as the deadline does.
        if let Err(e) = sock.set_write_timeout(wait) {
            break Err(Error::io("setsockopt SO_SNDTIMEO", &e));
        }
        match sock.connect(&addr) {
            Ok(()) => break Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if is_again(&e) => break Err(timed_out()),
            Err(e) => break Err(Error::io(&what, &e)),
        }
    };
    let _ = sock.set_write_timeout(None);
    set_mode(false)?;
    result
}

fn is_again(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::EINPROGRESS)
    )
}

/// Moonbridge's `localconnect(path)`: a client connected to the Unix socket at `path`,
/// waiting as long as `deadline` allows while the listener's queue is full.
pub fn connect(path: &Path, deadline: &Deadline) -> Result<Socket> {
    let sock = new_unix_socket()?;
    connect_sock(&sock, path, deadline, "localconnect")?;
    Ok(Socket::client(
        Stream::new(sock, StreamKind::Unix)?,
        AddrFamily::Unix,
    ))
}

/// Moonbridge's `localconnect_nb(path)`: connects without waiting. A Unix connect
/// completes at once, so errors show here: a full listen queue is `WouldBlock`.
pub fn connect_nb(path: &Path) -> Result<Socket> {
    let sock = new_unix_socket()?;
    let addr = unix_addr(path)?;
    let what = format!("localconnect {}", path.display());
    match sock.connect(&addr) {
        Ok(()) => Ok(Socket::client(
            Stream::new(sock, StreamKind::Unix)?,
            AddrFamily::Unix,
        )),
        Err(e) if is_again(&e) => Err(Error::new(
            ErrorKind::WouldBlock,
            format!("{what}: the listen queue is full"),
        )),
        Err(e) => Err(Error::io(&what, &e)),
    }
}

/// Removes `path` if it is a socket (a stale one from an earlier listener); leaves every
/// other kind of file alone and reports it as `AddrInUse`. A missing file is fine.
pub fn remove_stale_socket(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| Error::io(&format!("remove stale socket {}", path.display()), &e)),
        Ok(_) => Err(Error::new(
            ErrorKind::AddrInUse,
            format!(
                "locallisten {}: address already in use (a file that is not a socket is there)",
                path.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&format!("locallisten {}", path.display()), &e)),
    }
}

/// Binds `sock` to `path` (which must not exist) and listens.
pub(crate) fn bind_listen(sock: &socket2::Socket, path: &Path, backlog: i32) -> Result<()> {
    let addr = unix_addr(path)?;
    sock.bind(&addr)
        .map_err(|e| Error::io(&format!("bind {}", path.display()), &e))?;
    sock.listen(backlog)
        .map_err(|e| Error::io(&format!("listen {}", path.display()), &e))
}

/// Moonbridge's `locallisten(path)`: a listening Unix socket at `path`. An existing file
/// there is deleted first only when it is a socket; any other file makes this fail with
/// `AddrInUse`. Closing the listener never unlinks the file. A negative backlog means the
/// default, 32.
pub fn listen(path: &Path, backlog: i32) -> Result<Socket> {
    unix_addr(path)?;
    remove_stale_socket(path)?;
    let sock = new_unix_socket()?;
    let backlog = if backlog < 0 {
        crate::net::tcp::DEFAULT_BACKLOG
    } else {
        backlog
    };
    bind_listen(&sock, path, backlog)?;
    Ok(Socket::server(sock, AddrFamily::Unix))
}

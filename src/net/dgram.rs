//! What the datagram sockets (UDP, Unix datagram) share: sizes, the send and receive
//! loops that wait under a socket's timeouts, and LuaSocket's `setfd`.

use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::Timeout;
use crate::net::socket::SetFdResult;
use crate::sys::poll::{wait_fd, POLLIN};
use socket2::{SockAddr, Socket};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// LuaSocket's default receive size.
pub const DEFAULT_SIZE: usize = 8192;
/// The largest receive size honoured; larger requests are treated as this.
pub const MAX_DATAGRAM: usize = 65536;

/// Runs the send operation `op` until it succeeds, waiting for `events` under `timeout`
/// whenever the kernel says it would block (the clock starts at the first wait).
/// Interrupted calls are retried; errors are reported with `what()` as context.
pub(crate) fn send_wait(
    sock: &Socket,
    timeout: &Timeout,
    events: i16,
    what: impl Fn() -> String,
    mut op: impl FnMut(&Socket) -> io::Result<usize>,
) -> Result<usize> {
    let mut deadline = None;
    loop {
        match op(sock) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let dl = deadline.get_or_insert_with(|| timeout.start());
                wait_fd(sock.as_raw_fd(), events, dl).map_err(|e| e.context(&what()))?;
            }
            Err(e) => return Err(Error::io(&what(), &e)),
        }
    }
}

/// Receives one datagram into `out` (cleared first; at most `size` bytes, capped at
/// `MAX_DATAGRAM`, the rest discarded), waiting for input under `timeout`. With `from`
/// the sender's address is returned too.
pub(crate) fn recv_wait(
    sock: &Socket,
    timeout: &Timeout,
    size: usize,
    out: &mut Vec<u8>,
    from: bool,
    what: &str,
) -> Result<Option<SockAddr>> {
    out.clear();
    let size = size.min(MAX_DATAGRAM);
    out.reserve(size);
    let mut deadline = None;
    loop {
        let spare = &mut out.spare_capacity_mut()[..size];
        let r = if from {
            sock.recv_from(spare).map(|(n, a)| (n, Some(a)))
        } else {
            sock.recv(spare).map(|n| (n, None))
        };
        match r {
            Ok((n, a)) => {
                // SAFETY: the kernel initialised the first n bytes of the spare capacity.
                unsafe { out.set_len(n) };
                return Ok(a);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let dl = deadline.get_or_insert_with(|| timeout.start());
                wait_fd(sock.as_raw_fd(), POLLIN, dl).map_err(|e| e.context(what))?;
            }
            Err(e) => return Err(Error::io(what, &e)),
        }
    }
}

/// LuaSocket's `setfd` for a datagram socket whose state is `sock`, `closed` and
/// `detached`: it now uses and owns `fd` (made non-blocking; `adopt` sees it first, to
/// update what depends on the descriptor) and hands back the one held before WITHOUT
/// closing it. `None` detaches: no descriptor, reads as closed until a later `set_fd`.
/// A closed socket takes no descriptor (`Closed`; `None` does nothing); `fd` is then
/// handed back, as when it cannot be made non-blocking (and nothing changes).
pub(crate) fn set_fd(
    sock: &mut Option<Socket>,
    closed: &mut bool,
    detached: &mut bool,
    fd: Option<OwnedFd>,
    adopt: impl FnOnce(&Socket),
) -> SetFdResult {
    if *closed && !*detached {
        return match fd {
            None => Ok(None),
            Some(fd) => Err((Error::new(ErrorKind::Closed, "setfd: closed"), Some(fd))),
        };
    }
    let old = sock.take().map(OwnedFd::from);
    match fd {
        None => {
            *closed = true;
            *detached = true;
        }
        Some(fd) => {
            let new = Socket::from(fd);
            if let Err(e) = new.set_nonblocking(true) {
                // Put the old descriptor back: nothing changed.
                *sock = old.map(Socket::from);
                return Err((Error::io("setfd", &e), Some(new.into())));
            }
            adopt(&new);
            *sock = Some(new);
            *closed = false;
            *detached = false;
        }
    }
    Ok(old)
}

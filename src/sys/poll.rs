//! poll(2), retried on EINTR with the remaining time, and single-descriptor waits.

use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::Deadline;
use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

pub use libc::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI};

/// Calls poll(2) on `fds` until something is ready or the deadline passes, retrying on
/// EINTR with the time that is left. Returns how many entries have events (0 = timeout).
///
/// The end of this one wait is fixed before the first call, so a block timeout is not
/// restarted by each interruption: signals arriving faster than the timeout cannot make
/// the wait last forever.
pub fn poll(fds: &mut [libc::pollfd], deadline: &Deadline) -> Result<usize> {
    let this_wait = Deadline::until(deadline.next_wait().map(|d| Instant::now() + d));
    loop {
        let ms = this_wait.next_wait_ms();
        // SAFETY: fds is a valid slice of pollfd for its whole length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::io("poll", &e));
        }
        if ms == 0 {
            return Ok(0);
        }
    }
}

/// One poll(2) call of at most `timeout_ms` (negative: no limit) that gives up on a
/// signal: `Ok(None)` after EINTR (so the caller can look at flags its handlers set),
/// else how many entries have events.
pub fn poll_once(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<Option<usize>> {
    // SAFETY: fds is a valid slice of pollfd for its whole length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINTR) {
        return Ok(None);
    }
    Err(Error::io("poll", &e))
}

/// Waits until `fd` has one of `events` (POLLIN / POLLOUT), or fails with
/// `Timeout` when the deadline passes first. Error and hang-up conditions count as ready,
/// so the caller's next read or write reports them.
pub fn wait_fd(fd: RawFd, events: i16, deadline: &Deadline) -> Result<()> {
    let mut p = [libc::pollfd {
        fd,
        events,
        revents: 0,
    }];
    match poll(&mut p, deadline)? {
        0 => Err(Error::kind(ErrorKind::Timeout)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn waits_until_readable_or_timeout() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let e = wait_fd(a.as_raw_fd(), POLLIN, &Deadline::after_secs(0.02)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(wait_fd(a.as_raw_fd(), POLLOUT, &Deadline::now()).is_ok());
        std::io::Write::write_all(&mut b, b"x").unwrap();
        assert!(wait_fd(a.as_raw_fd(), POLLIN, &Deadline::forever()).is_ok());
    }
}

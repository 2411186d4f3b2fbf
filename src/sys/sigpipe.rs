//! write(2) that never raises SIGPIPE in the host.
//!
//! Sockets have MSG_NOSIGNAL, but pipes, FIFOs and terminals do not: a write whose reader
//! has gone raises SIGPIPE, which kills a process that keeps the default disposition (C
//! programs do). [`write`] blocks SIGPIPE for the calling thread around the write(2),
//! and when that write failed with EPIPE it consumes the SIGPIPE it raised (a signal
//! raised by a write is directed at the writing thread, so it is pending right there)
//! with a zero-timeout sigtimedwait — unless a SIGPIPE was already pending before, which
//! belongs to the host and is left alone. The thread's signal mask is then restored.
//! This is the technique libcurl and others use to stay signal-neutral in a library.
//!
//! A descriptor that is a socket is written with send(MSG_NOSIGNAL) instead (one system
//! call, no mask dance).

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

/// A sigset holding only SIGPIPE.
fn sigpipe_set() -> libc::sigset_t {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset with a valid signal cannot fail.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
        set.assume_init()
    }
}

/// True when SIGPIPE is pending for this thread or the process.
fn sigpipe_pending() -> bool {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending fills the set (it only fails for a bad pointer).
    unsafe {
        if libc::sigpending(set.as_mut_ptr()) != 0 {
            return false;
        }
        libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

/// Blocks SIGPIPE for the calling thread while it lives; restores the mask on drop.
struct BlockSigpipe {
    old: libc::sigset_t,
    /// SIGPIPE was already blocked: nothing to restore.
    was_blocked: bool,
    /// A SIGPIPE was pending before we blocked it (the host's own).
    was_pending: bool,
}

impl BlockSigpipe {
    fn new() -> BlockSigpipe {
        let set = sigpipe_set();
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: valid sets; pthread_sigmask only fails for a bad `how`.
        let old = unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, old.as_mut_ptr());
            old.assume_init()
        };
        // SAFETY: `old` was filled by pthread_sigmask.
        let was_blocked = unsafe { libc::sigismember(&old, libc::SIGPIPE) } == 1;
        BlockSigpipe {
            old,
            was_blocked,
            was_pending: sigpipe_pending(),
        }
    }

    /// Consumes a SIGPIPE raised since `new` (one the host had pending before is kept).
    fn consume(&self) {
        if self.was_pending {
            return;
        }
        let set = sigpipe_set();
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // Bounded: EINTR is the only reason to try again.
        for _ in 0..100 {
            // SAFETY: valid set and timespec; no siginfo wanted.
            let r = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
            if r >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return;
            }
        }
    }
}

impl Drop for BlockSigpipe {
    fn drop(&mut self) {
        if !self.was_blocked {
            // SAFETY: `old` is the mask this thread had before `new`.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut()) };
        }
    }
}

/// True when `fd` is a socket (then send(MSG_NOSIGNAL) does the job).
pub fn is_socket(fd: RawFd) -> bool {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat fills `st` when it returns 0.
    unsafe {
        libc::fstat(fd, st.as_mut_ptr()) == 0
            && (st.assume_init().st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
}

/// One write(2) of `buf` to `fd` (a file, pipe, FIFO, terminal) that never raises
/// SIGPIPE: a reader that has gone gives `Err` with EPIPE. EINTR is returned as it is
/// (the caller retries). Costs three system calls besides the write.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let guard = BlockSigpipe::new();
    // SAFETY: `buf` is valid for `buf.len()` bytes.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    let r = if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    };
    if matches!(&r, Err(e) if e.raw_os_error() == Some(libc::EPIPE)) {
        guard.consume();
    }
    drop(guard);
    r
}

/// One send(2) with MSG_NOSIGNAL on socket `fd`: a peer that has gone gives EPIPE (or
/// ECONNRESET), never SIGPIPE.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for `buf.len()` bytes.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::thread;

    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut p = [0; 2];
        // SAFETY: `p` has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        // SAFETY: pipe(2) made both; each is owned once.
        unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) }
    }

    fn blocked_now() -> bool {
        let mut cur = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: query only.
        unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), cur.as_mut_ptr());
            libc::sigismember(cur.as_ptr(), libc::SIGPIPE) == 1
        }
    }

    // The Rust runtime ignores SIGPIPE, so these tests look at what a host with the
    // default disposition would see: the pending set and the mask (the C tests run with
    // the default disposition). Each runs in its own thread, whose mask it may change.

    #[test]
    fn epipe_without_a_leftover_signal_and_the_mask_restored() {
        thread::spawn(|| {
            let (r, w) = pipe();
            assert_eq!(write(w.as_raw_fd(), b"hi").unwrap(), 2);
            drop(r);
            assert!(!blocked_now());
            let e = write(w.as_raw_fd(), b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
            assert!(!blocked_now(), "mask restored");
            assert!(!sigpipe_pending());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_host_sigpipe_pending_before_is_kept() {
        thread::spawn(|| {
            let set = sigpipe_set();
            // SAFETY: this thread's own mask; it ends with the thread.
            unsafe {
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                libc::pthread_kill(libc::pthread_self(), libc::SIGPIPE);
            }
            assert!(sigpipe_pending());
            let (r, w) = pipe();
            drop(r);
            let e = write(w.as_raw_fd(), b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
            assert!(blocked_now(), "the host's block stays");
            assert!(sigpipe_pending(), "the host's signal stays");
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: consume it so the thread ends clean.
            let got = unsafe { libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) };
            assert_eq!(got, libc::SIGPIPE);
            assert!(!sigpipe_pending());
            // Blocked by the host and nothing pending: ours is consumed.
            let e = write(w.as_raw_fd(), b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
            assert!(!sigpipe_pending());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn sockets_are_recognised_and_sent_to_without_signal() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(is_socket(a.as_raw_fd()));
        let (r, _w) = pipe();
        assert!(!is_socket(r.as_raw_fd()));
        assert_eq!(send(a.as_raw_fd(), b"ok").unwrap(), 2);
        drop(b);
        let e = send(a.as_raw_fd(), b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }
}

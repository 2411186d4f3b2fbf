//! Every signal the prefork server handles, in one place.
//!
//! The master (`SignalWatch`) catches SIGTERM, SIGINT, SIGHUP and SIGCHLD: the handler
//! only records the signal in an atomic mask and writes one byte to a self-pipe, so a
//! master waiting in poll(2) wakes up (the pipe closes the race between checking the
//! mask and starting to wait). The master reads the mask with `take`.
//!
//! A worker (`enter_worker`, right after fork) gets the default dispositions back for
//! SIGINT, SIGHUP, SIGCHLD and SIGALRM (so `timeout()` kills it and Ctrl-C ends it), and
//! a SIGTERM handler that only sets a flag (`worker_terminating`): the worker finishes
//! the connection in hand and then ends. SIGTERM is installed with SA_RESTART, so a
//! blocking read in a handler is not disturbed by it.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

/// The signals a master handles, as bits of `Signals`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals(u32);

impl Signals {
    pub const TERM: u32 = 1;
    pub const INT: u32 = 2;
    pub const HUP: u32 = 4;
    pub const CHLD: u32 = 8;

    /// True when any of the `bits` arrived.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits != 0
    }

    /// True when nothing arrived.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

fn bit_of(sig: libc::c_int) -> u32 {
    match sig {
        libc::SIGTERM => Signals::TERM,
        libc::SIGINT => Signals::INT,
        libc::SIGHUP => Signals::HUP,
        libc::SIGCHLD => Signals::CHLD,
        _ => 0,
    }
}

const MASTER_SIGNALS: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD];

static PENDING: AtomicU32 = AtomicU32::new(0);
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
static WATCHING: AtomicBool = AtomicBool::new(false);
static WORKER_TERM: AtomicBool = AtomicBool::new(false);

extern "C" fn on_master_signal(sig: libc::c_int) {
    // Only async-signal-safe work: an atomic or and a write(2); errno is preserved.
    // SAFETY: __errno_location is the thread's errno, valid in a handler.
    let saved = unsafe { *libc::__errno_location() };
    PENDING.fetch_or(bit_of(sig), Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = 1u8;
        // SAFETY: one byte from a valid buffer; a full pipe (EAGAIN) is fine.
        unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

extern "C" fn on_worker_term(_sig: libc::c_int) {
    WORKER_TERM.store(true, Ordering::SeqCst);
}

fn action(handler: libc::sighandler_t) -> libc::sigaction {
    // SAFETY: a zeroed sigaction is a valid starting point; the mask is emptied below.
    let mut sa: libc::sigaction = unsafe { MaybeUninit::zeroed().assume_init() };
    sa.sa_sigaction = handler;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: valid pointer.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    sa
}

fn set_action(sig: libc::c_int, sa: &libc::sigaction) -> io::Result<libc::sigaction> {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: valid pointers and a catchable signal.
    if unsafe { libc::sigaction(sig, sa, old.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sigaction filled it.
    Ok(unsafe { old.assume_init() })
}

fn unblock(sigs: &[libc::c_int]) {
    let mut set = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: the set is initialised by sigemptyset before use.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for &s in sigs {
            libc::sigaddset(set.as_mut_ptr(), s);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, set.as_ptr(), std::ptr::null_mut());
    }
}

fn pipe_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut p = [0; 2];
    // SAFETY: `p` has room for two descriptors.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 made both; each is owned once.
    Ok(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) })
}

/// The master's signal handlers; dropping it puts the previous ones back. One exists at
/// a time in a process.
pub struct SignalWatch {
    read: OwnedFd,
    _write: OwnedFd,
    old: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalWatch {
    /// Installs the master's handlers. Fails when another watch is active.
    pub fn install() -> io::Result<SignalWatch> {
        if WATCHING.swap(true, Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "a server is already running in this process",
            ));
        }
        let (read, write) = match pipe_nonblocking() {
            Ok(p) => p,
            Err(e) => {
                WATCHING.store(false, Ordering::SeqCst);
                return Err(e);
            }
        };
        PENDING.store(0, Ordering::SeqCst);
        WAKE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        let mut watch = SignalWatch {
            read,
            _write: write,
            old: Vec::new(),
        };
        let sa = action(on_master_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        for sig in MASTER_SIGNALS {
            let old = set_action(sig, &sa)?;
            watch.old.push((sig, old));
        }
        unblock(&MASTER_SIGNALS);
        Ok(watch)
    }

    /// The descriptor that becomes readable when a signal arrived.
    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// The signals that arrived since the last call (and empties the pipe).
    pub fn take(&self) -> Signals {
        let mut buf = [0u8; 64];
        // SAFETY: reading into a valid buffer from a non-blocking pipe; bounded by the
        // pipe's content (each signal wrote at most one byte).
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {
        }
        Signals(PENDING.swap(0, Ordering::SeqCst))
    }

    /// For a forked worker: forgets the watch without touching the handlers
    /// (`enter_worker` sets the worker's own) and closes the pipe.
    pub fn forget_in_child(mut self) {
        // With no old actions to restore, dropping only closes the pipe and the flags.
        self.old.clear();
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        WAKE_FD.store(-1, Ordering::SeqCst);
        for (sig, old) in self.old.drain(..) {
            // Best effort: the old action was valid when it was read.
            let _ = set_action(sig, &old);
        }
        PENDING.store(0, Ordering::SeqCst);
        WATCHING.store(false, Ordering::SeqCst);
    }
}

/// In a freshly forked worker: default dispositions for SIGINT, SIGHUP, SIGCHLD and
/// SIGALRM, the flag-setting SIGTERM handler, those signals unblocked.
pub fn enter_worker() {
    WORKER_TERM.store(false, Ordering::SeqCst);
    let dfl = action(libc::SIG_DFL);
    for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGCHLD, libc::SIGALRM] {
        let _ = set_action(sig, &dfl);
    }
    let _ = set_action(
        libc::SIGTERM,
        &action(on_worker_term as extern "C" fn(libc::c_int) as libc::sighandler_t),
    );
    unblock(&[
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGALRM,
        libc::SIGCHLD,
    ]);
}

/// True in a worker once SIGTERM arrived.
pub fn worker_terminating() -> bool {
    WORKER_TERM.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_wakes_the_watch_and_is_taken_once() {
        let watch = SignalWatch::install().unwrap();
        assert!(SignalWatch::install().is_err(), "one watch at a time");
        assert!(watch.take().is_empty());
        // SIGCHLD is harmless to raise in a test process.
        // SAFETY: raise has no preconditions.
        unsafe { libc::raise(libc::SIGCHLD) };
        let mut p = [libc::pollfd {
            fd: watch.fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: valid pollfd array.
        assert_eq!(unsafe { libc::poll(p.as_mut_ptr(), 1, 1000) }, 1);
        let got = watch.take();
        assert!(got.has(Signals::CHLD));
        assert!(!got.has(Signals::TERM | Signals::INT));
        assert!(watch.take().is_empty());
        drop(watch);
        let again = SignalWatch::install().unwrap();
        drop(again);
    }
}

//! Processes: fork, reaping with resource usage, kill, exit, the parent-death signal,
//! the real-time interval timer (SIGALRM) and the resident set size. Used by the
//! prefork server (`crate::server`).

use std::io;
use std::mem::MaybeUninit;
use std::time::Duration;

/// A process id.
pub type Pid = libc::pid_t;

/// What `fork` returned in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// In the parent: the child's pid.
    Parent(Pid),
    /// In the child.
    Child,
}

/// fork(2). Standard I/O buffers are flushed first, so that output the parent had not
/// written yet is not written twice.
///
/// Only the calling thread exists in the child: call it from a single-threaded process
/// (the prefork server documents this).
pub fn fork() -> io::Result<Forked> {
    flush_stdio();
    // SAFETY: fork has no memory-safety preconditions; the caller keeps the
    // single-thread rule above.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// fflush(NULL): writes out every C stdio stream's buffer.
pub fn flush_stdio() {
    // SAFETY: fflush(NULL) flushes all open output streams.
    unsafe {
        libc::fflush(std::ptr::null_mut());
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit(code).
    Exited(i32),
    /// Killed by a signal; `core` when it dumped core.
    Signaled { signal: i32, core: bool },
}

impl ExitStatus {
    /// True for exit(0).
    pub fn success(self) -> bool {
        self == ExitStatus::Exited(0)
    }
}

/// A reaped child: its status and peak resident set size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    pub status: ExitStatus,
    pub max_rss: u64,
}

fn decode(status: libc::c_int) -> ExitStatus {
    if libc::WIFSIGNALED(status) {
        ExitStatus::Signaled {
            signal: libc::WTERMSIG(status),
            core: libc::WCOREDUMP(status),
        }
    } else {
        ExitStatus::Exited(libc::WEXITSTATUS(status))
    }
}

/// Reaps `pid` if it has ended (wait4 with WNOHANG): `Ok(None)` while it runs.
pub fn try_reap(pid: Pid) -> io::Result<Option<Reaped>> {
    loop {
        let mut status: libc::c_int = 0;
        let mut usage = MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, usage.as_mut_ptr()) };
        if r == 0 {
            return Ok(None);
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        // SAFETY: wait4 filled the usage record for the reaped child.
        let usage = unsafe { usage.assume_init() };
        return Ok(Some(Reaped {
            status: decode(status),
            // Linux reports ru_maxrss in KiB.
            max_rss: (usage.ru_maxrss.max(0) as u64) * 1024,
        }));
    }
}

/// Sends `signal` to `pid`. A process that is gone already (ESRCH) is not an error.
pub fn kill(pid: Pid, signal: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(e)
    }
}

/// True while `pid` exists (as a process or an unreaped zombie).
pub fn exists(pid: Pid) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// exit(3): flushes stdio and runs atexit handlers, then ends the process.
pub fn exit(code: i32) -> ! {
    // SAFETY: ends the process.
    unsafe { libc::exit(code) }
}

/// This process's id.
pub fn getpid() -> Pid {
    // SAFETY: always succeeds.
    unsafe { libc::getpid() }
}

/// The parent's id.
pub fn getppid() -> Pid {
    // SAFETY: always succeeds.
    unsafe { libc::getppid() }
}

/// Asks the kernel to send `signal` to this process when its parent ends (Linux's
/// PR_SET_PDEATHSIG; elsewhere nothing happens and the caller relies on its control
/// channel reaching end of file).
pub fn set_parent_death_signal(signal: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = signal;
}

fn to_timeval(d: Duration) -> libc::timeval {
    libc::timeval {
        tv_sec: d.as_secs() as libc::time_t,
        tv_usec: d.subsec_micros() as libc::suseconds_t,
    }
}

fn from_timeval(t: &libc::timeval) -> Duration {
    Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000)
}

/// Arms the real-time timer (ITIMER_REAL, which raises SIGALRM) to fire once after `d`;
/// `Duration::ZERO` disarms it. Returns the time that was left on it before.
pub fn set_alarm(d: Duration) -> io::Result<Duration> {
    let new = libc::itimerval {
        it_interval: to_timeval(Duration::ZERO),
        it_value: to_timeval(d),
    };
    let mut old = MaybeUninit::<libc::itimerval>::zeroed();
    // SAFETY: valid pointers.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &new, old.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: setitimer filled it.
    Ok(from_timeval(&unsafe { old.assume_init() }.it_value))
}

/// The time left on the real-time timer (zero when it is not armed).
pub fn alarm_left() -> Duration {
    let mut cur = MaybeUninit::<libc::itimerval>::zeroed();
    // SAFETY: valid pointer; getitimer only fails for a bad timer id.
    unsafe {
        libc::getitimer(libc::ITIMER_REAL, cur.as_mut_ptr());
        from_timeval(&cur.assume_init().it_value)
    }
}

/// The resident set size of this process in bytes (Linux: /proc/self/statm), if known.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(1) as u64)
}

/// The local time as "YYYY-MM-DD HH:MM:SS TZ", for log lines.
pub fn log_timestamp() -> String {
    // SAFETY: time/localtime_r/strftime with valid buffers; strftime returns the length
    // written (0 on overflow, then the stamp is empty).
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm = MaybeUninit::<libc::tm>::zeroed();
        if libc::localtime_r(&now, tm.as_mut_ptr()).is_null() {
            return String::new();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            b"%Y-%m-%d %H:%M:%S %Z\0".as_ptr().cast(),
            tm.as_ptr(),
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_dates() {
        let t = log_timestamp();
        assert!(
            t.len() >= 19 && t.as_bytes()[4] == b'-' && t.as_bytes()[13] == b':',
            "{t}"
        );
    }

    #[test]
    fn resident_size_is_known() {
        let rss = resident_bytes().unwrap();
        assert!(rss > 100 * 1024, "{rss}");
    }

    #[test]
    fn status_decoding() {
        assert_eq!(decode(0), ExitStatus::Exited(0));
        assert_eq!(decode(3 << 8), ExitStatus::Exited(3));
        assert_eq!(
            decode(libc::SIGKILL),
            ExitStatus::Signaled {
                signal: libc::SIGKILL,
                core: false
            }
        );
        assert!(ExitStatus::Exited(0).success());
        assert!(!ExitStatus::Exited(1).success());
        assert!(!exists(-12345) || exists(getpid()));
        assert!(exists(getpid()));
    }
}

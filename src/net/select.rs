//! select/poll over sockets and raw descriptors, built on poll(2): no FD_SETSIZE cap.
//!
//! A `PollSet` is filled with entries (a `Pollable` object or a raw descriptor, each with
//! the events of interest), then `wait` reports which are ready. The rules follow
//! LuaSocket's `socket.select` and Moonbridge's `io.poll`:
//! - an object with input already buffered in user space is readable at once, without
//!   asking the kernel (LuaSocket's "dirty"); the kernel is still polled, without waiting,
//!   for the other entries;
//! - a closed object (no descriptor, nothing buffered) is ignored: it is never ready;
//! - a negative timeout waits forever, 0 only polls; EINTR is retried with the time left;
//! - error and hang-up conditions count as ready for whatever was asked, because the next
//!   read or write will not block (it reports the condition);
//! - a listening socket is readable when `accept` would succeed.
//!
//! The set keeps its vectors between rounds, so a steady-state event loop does not allocate.
//! Objects are only looked at while they are added (their descriptor and "dirty" state are
//! copied), so no lock on them is held while waiting.

use crate::error::Result;
use crate::io::timeout::Deadline;
use crate::net::Pollable;
use crate::sys::poll::{poll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI};
use std::os::fd::RawFd;

/// A small set of poll events: `IN`, `OUT`, `ERR`, `HUP` (the same bits as the C API's
/// `SOCKIT_POLL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Events(pub u8);

impl Events {
    pub const NONE: Events = Events(0);
    /// Readable (or, for a listener, a connection is waiting).
    pub const IN: Events = Events(1);
    /// Writable.
    pub const OUT: Events = Events(2);
    /// An error is pending on the descriptor (or the descriptor is not open).
    pub const ERR: Events = Events(4);
    /// The peer hung up.
    pub const HUP: Events = Events(8);

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// True when no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of both sets.
    pub fn union(self, other: Events) -> Events {
        Events(self.0 | other.0)
    }
}

impl std::ops::BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        self.union(rhs)
    }
}

/// One entry of a set, as copied when it was added.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The descriptor, or `None` for a closed object (never ready).
    fd: Option<RawFd>,
    /// Input already buffered in user space.
    buffered: bool,
    interest: Events,
    ready: Events,
}

/// A reusable set of entries to wait on.
#[derive(Debug, Default)]
pub struct PollSet {
    entries: Vec<Entry>,
    fds: Vec<libc::pollfd>,
    /// For each pollfd, the entry it belongs to.
    owners: Vec<usize>,
}

impl PollSet {
    /// An empty set.
    pub fn new() -> PollSet {
        PollSet::default()
    }

    /// Removes every entry, keeping the memory for the next round.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.fds.clear();
        self.owners.clear();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an object, copying its descriptor and "dirty" state now, and returns the
    /// entry's index. Only `IN` and `OUT` of `interest` matter; errors and hang-ups are
    /// always reported.
    pub fn add(&mut self, obj: &dyn Pollable, interest: Events) -> usize {
        self.push(obj.poll_fd(), obj.has_buffered_input(), interest)
    }

    /// Adds a raw descriptor (negative descriptors are ignored, like closed objects) and
    /// returns the entry's index.
    pub fn add_fd(&mut self, fd: RawFd, interest: Events) -> usize {
        self.push((fd >= 0).then_some(fd), false, interest)
    }

    /// Adds an entry from parts: a descriptor (`None`: not polled) and whether input is
    /// already buffered for it (then it is readable without polling; an object with
    /// neither, such as a closed one, is never ready). This is what `add` does after
    /// looking at the object.
    pub fn push(&mut self, fd: Option<RawFd>, buffered: bool, interest: Events) -> usize {
        let interest = Events(interest.0 & (Events::IN.0 | Events::OUT.0));
        self.entries.push(Entry {
            fd,
            buffered,
            interest,
            ready: Events::NONE,
        });
        self.entries.len() - 1
    }

    /// What entry `index` was found ready for in the last `wait` (`NONE` before any wait
    /// or for an index out of range).
    pub fn ready(&self, index: usize) -> Events {
        self.entries.get(index).map_or(Events::NONE, |e| e.ready)
    }

    /// True when entry `index` can be read from (or accepted on) without blocking: it is
    /// readable, dirty, or in error / hung up while read interest was asked.
    pub fn readable(&self, index: usize) -> bool {
        self.entries.get(index).is_some_and(|e| {
            e.interest.contains(Events::IN)
                && e.ready.0 & (Events::IN.0 | Events::ERR.0 | Events::HUP.0) != 0
        })
    }

    /// True when entry `index` can be written to without blocking (or the write would
    /// fail at once with the pending error), while write interest was asked.
    pub fn writable(&self, index: usize) -> bool {
        self.entries.get(index).is_some_and(|e| {
            e.interest.contains(Events::OUT)
                && e.ready.0 & (Events::OUT.0 | Events::ERR.0 | Events::HUP.0) != 0
        })
    }

    /// Waits until at least one entry is ready or `timeout` seconds pass (negative =
    /// forever, 0 = just look). Returns how many entries are ready; 0 means the time ran
    /// out. Entries with buffered input and read interest are ready at once, and then the
    /// kernel is asked without waiting. Entries whose descriptor is not open are reported
    /// as `ERR`.
    pub fn wait(&mut self, timeout: f64) -> Result<usize> {
        self.wait_until(&Deadline::after_secs(timeout))
    }

    /// `wait` with a deadline.
    pub fn wait_until(&mut self, deadline: &Deadline) -> Result<usize> {
        self.fds.clear();
        self.owners.clear();
        let mut dirty = 0usize;
        for (i, e) in self.entries.iter_mut().enumerate() {
            e.ready = Events::NONE;
            if e.buffered && e.interest.contains(Events::IN) {
                e.ready = Events::IN;
                dirty += 1;
            }
            let Some(fd) = e.fd else { continue };
            let mut events: i16 = 0;
            if e.interest.contains(Events::IN) && !e.buffered {
                events |= POLLIN | POLLPRI;
            }
            if e.interest.contains(Events::OUT) {
                events |= POLLOUT;
            }
            // An entry with no interest is still polled for errors and hang-ups.
            self.fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            self.owners.push(i);
        }
        let deadline = if dirty > 0 {
            Deadline::now()
        } else {
            *deadline
        };
        let n = poll(&mut self.fds, &deadline)?;
        if n > 0 {
            for (p, &i) in self.fds.iter().zip(&self.owners) {
                if p.revents == 0 {
                    continue;
                }
                let mut r = 0u8;
                if p.revents & (POLLIN | POLLPRI) != 0 {
                    r |= Events::IN.0;
                }
                if p.revents & POLLOUT != 0 {
                    r |= Events::OUT.0;
                }
                if p.revents & (POLLERR | POLLNVAL) != 0 {
                    r |= Events::ERR.0;
                }
                if p.revents & POLLHUP != 0 {
                    r |= Events::HUP.0;
                }
                let e = &mut self.entries[i];
                e.ready = e.ready | Events(r);
            }
        }
        Ok(self.entries.iter().filter(|e| !e.ready.is_empty()).count())
    }
}

/// LuaSocket's `socket.select` over objects: waits until one of `reads` is readable or one
/// of `writes` is writable, or `timeout` seconds pass (negative = forever). Returns two
/// vectors of flags, one per object. When nothing is ready the flags are all false
/// (the caller reports "timeout").
pub fn select(
    reads: &[&dyn Pollable],
    writes: &[&dyn Pollable],
    timeout: f64,
) -> Result<(Vec<bool>, Vec<bool>)> {
    let mut set = PollSet::new();
    for r in reads {
        set.add(*r, Events::IN);
    }
    for w in writes {
        set.add(*w, Events::OUT);
    }
    set.wait(timeout)?;
    let rd = (0..reads.len()).map(|i| set.readable(i)).collect();
    let wr = (0..writes.len())
        .map(|i| set.writable(reads.len() + i))
        .collect();
    Ok((rd, wr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    struct Fake {
        fd: Option<RawFd>,
        dirty: bool,
    }
    impl Pollable for Fake {
        fn poll_fd(&self) -> Option<RawFd> {
            self.fd
        }
        fn has_buffered_input(&self) -> bool {
            self.dirty
        }
    }

    #[test]
    fn readable_writable_and_timeout() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut set = PollSet::new();
        let i = set.add_fd(a.as_raw_fd(), Events::IN);
        let t = Instant::now();
        assert_eq!(set.wait(0.05).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(45));
        assert!(!set.readable(i));
        b.write_all(b"x").unwrap();
        assert_eq!(set.wait(-1.0).unwrap(), 1);
        assert!(set.readable(i));
        assert!(set.ready(i).contains(Events::IN));
        set.clear();
        let j = set.add_fd(a.as_raw_fd(), Events::OUT);
        assert_eq!(set.wait(0.0).unwrap(), 1);
        assert!(set.writable(j));
        assert!(!set.readable(j), "no read interest was asked");
    }

    #[test]
    fn dirty_objects_are_ready_without_waiting() {
        let (a, _b) = UnixStream::pair().unwrap();
        let dirty = Fake {
            fd: Some(a.as_raw_fd()),
            dirty: true,
        };
        let t = Instant::now();
        let (r, w) = select(&[&dirty], &[], 5.0).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!(r, vec![true]);
        assert!(w.is_empty());
    }

    #[test]
    fn closed_objects_and_negative_fds_are_ignored() {
        let closed = Fake {
            fd: None,
            dirty: false,
        };
        let mut set = PollSet::new();
        let i = set.add(&closed, Events::IN | Events::OUT);
        let k = set.add_fd(-1, Events::IN);
        let t = Instant::now();
        assert_eq!(set.wait(0.03).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(25));
        assert!(set.ready(i).is_empty() && set.ready(k).is_empty());
    }

    #[test]
    fn hangup_counts_as_readable() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut set = PollSet::new();
        let i = set.add_fd(a.as_raw_fd(), Events::IN);
        assert_eq!(set.wait(1.0).unwrap(), 1);
        assert!(set.readable(i));
    }

    #[test]
    fn not_open_descriptors_report_err() {
        // A descriptor number far above anything open.
        let mut set = PollSet::new();
        let i = set.add_fd(1_000_000, Events::IN);
        assert_eq!(set.wait(0.0).unwrap(), 1);
        assert!(set.ready(i).contains(Events::ERR));
    }

    #[test]
    fn empty_set_sleeps() {
        let mut set = PollSet::new();
        let t = Instant::now();
        assert_eq!(set.wait(0.02).unwrap(), 0);
        assert!(t.elapsed() >= Duration::from_millis(15));
    }

    /// Raises the soft descriptor limit to at least `want` (as far as the hard limit
    /// allows) and returns the new soft limit.
    pub(crate) fn raise_nofile(want: u64) -> u64 {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: rl is a valid rlimit to fill in and then pass back.
        unsafe {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
            if rl.rlim_cur < want as libc::rlim_t {
                rl.rlim_cur = (want as libc::rlim_t).min(rl.rlim_max);
                libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
            }
        }
        rl.rlim_cur
    }

    #[test]
    fn five_thousand_descriptors() {
        const N: usize = 5_000;
        let limit = raise_nofile(2 * N as u64 + 200);
        assert!(
            limit >= 2 * N as u64 + 100,
            "descriptor limit {limit} is too low"
        );
        let pairs: Vec<(UnixStream, UnixStream)> =
            (0..N).map(|_| UnixStream::pair().unwrap()).collect();
        let mut set = PollSet::new();
        for (a, _) in &pairs {
            set.add_fd(a.as_raw_fd(), Events::IN);
        }
        let t = Instant::now();
        assert_eq!(set.wait(0.01).unwrap(), 0);
        (&pairs[N - 1].1).write_all(b"!").unwrap();
        (&pairs[N / 2].1).write_all(b"!").unwrap();
        assert_eq!(set.wait(5.0).unwrap(), 2);
        assert!(set.readable(N - 1) && set.readable(N / 2) && !set.readable(0));
        assert!(pairs[N - 1].0.as_raw_fd() >= 1024, "beyond FD_SETSIZE");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}

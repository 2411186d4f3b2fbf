//! `sockit_pollset` and `sockit_select`: waiting on many sockets and descriptors at once
//! with poll(2) (no FD_SETSIZE limit).

use super::boundary::{guard, out_arg, put};
use super::handle::{impl_handle, Shell};
use super::socket::sockit_socket;
use super::status::sockit_status;
use super::udp::sockit_udp;
use super::unix_dgram::sockit_unixdgram;
use crate::error::{Error, ErrorKind, Result};
use crate::net::select::{Events, PollSet};
use std::ffi::c_int;

/// Readable: data (or a connection, for a listening socket) is waiting, or buffered input
/// makes a read return at once.
pub const SOCKIT_POLL_IN: c_int = 1;
/// Writable.
pub const SOCKIT_POLL_OUT: c_int = 2;
/// An error is pending (reported whether asked or not; also for a descriptor that is not
/// open).
pub const SOCKIT_POLL_ERR: c_int = 4;
/// The peer hung up (reported whether asked or not).
pub const SOCKIT_POLL_HUP: c_int = 8;

/// What a poll set entry watches.
#[derive(Clone, Copy)]
enum Source {
    /// A socket handle (its address), looked at afresh on every wait.
    Socket(usize),
    /// A UDP socket handle (its address), looked at afresh on every wait.
    Udp(usize),
    /// A Unix datagram socket handle (its address), looked at afresh on every wait.
    UnixDgram(usize),
    Fd(c_int),
}

/// The poll set behind `sockit_pollset`.
pub struct PollSetHandle {
    items: Vec<(Source, Events)>,
    set: PollSet,
}

/// A reusable set of sockets and descriptors to wait on, each with the events of interest
/// (Moonbridge's `poll`, LuaSocket's `select`, without a size limit). Owned by the
/// caller: create with `sockit_pollset_new`, release with `sockit_pollset_free`. The set
/// does not own the sockets added to it; free a socket only after removing it (with
/// `sockit_pollset_clear`) or not waiting on the set any more.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_pollset(Shell<PollSetHandle>);
impl_handle!(sockit_pollset, PollSetHandle, "pollset");

fn events_arg(events: c_int) -> Result<Events> {
    if events & !(SOCKIT_POLL_IN | SOCKIT_POLL_OUT | SOCKIT_POLL_ERR | SOCKIT_POLL_HUP) != 0 {
        return Err(Error::invalid(format!(
            "events {events:#x} has bits other than SOCKIT_POLL_*"
        )));
    }
    Ok(Events(events as u8))
}

/// A new empty poll set, owned by the caller (free it with `sockit_pollset_free`).
/// Never returns NULL. Never blocks.
#[no_mangle]
pub extern "C" fn sockit_pollset_new() -> *mut sockit_pollset {
    sockit_pollset::new(PollSetHandle {
        items: Vec::new(),
        set: PollSet::new(),
    })
}

/// Frees a poll set (not the sockets in it). NULL or an already freed set is ignored.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_free(set: *mut sockit_pollset) {
    sockit_pollset::free(set)
}

/// Removes every entry (the memory is kept for the next round). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_clear(set: *mut sockit_pollset) -> sockit_status {
    guard(|| {
        sockit_pollset::with(set, |p| {
            p.items.clear();
            p.set.clear();
            Ok(())
        })
    })
}

/// Adds socket `s` with `events` (`SOCKIT_POLL_IN` and / or `SOCKIT_POLL_OUT`);
/// `*index` (may be NULL) gets the entry's index for `sockit_pollset_revents`. The socket
/// is not owned by the set and is looked at on every wait: a closed socket is never
/// ready, a client with buffered input is readable at once, a listening socket is
/// readable when a connection is waiting. `SOCKIT_INVALID` for a NULL or freed socket.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_add_socket(
    set: *mut sockit_pollset,
    s: *mut sockit_socket,
    events: c_int,
    index: *mut usize,
) -> sockit_status {
    guard(|| {
        let ev = events_arg(events)?;
        // Checks the handle now (and releases it before the set is locked).
        sockit_socket::with(s, |_| Ok(()))?;
        let i = sockit_pollset::with(set, |p| {
            p.items.push((Source::Socket(s as usize), ev));
            Ok(p.items.len() - 1)
        })?;
        put(index, i);
        Ok(())
    })
}

/// Adds UDP socket `u` with `events`, as `sockit_pollset_add_socket` does for stream
/// sockets: `*index` (may be NULL) gets the entry's index; the socket is not owned by the
/// set and is looked at on every wait (closed: never ready). Readable means a datagram
/// is waiting. `SOCKIT_INVALID` for a NULL or freed socket. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_add_udp(
    set: *mut sockit_pollset,
    u: *mut sockit_udp,
    events: c_int,
    index: *mut usize,
) -> sockit_status {
    guard(|| {
        let ev = events_arg(events)?;
        sockit_udp::with(u, |_| Ok(()))?;
        let i = sockit_pollset::with(set, |p| {
            p.items.push((Source::Udp(u as usize), ev));
            Ok(p.items.len() - 1)
        })?;
        put(index, i);
        Ok(())
    })
}

/// Adds Unix datagram socket `u` with `events`, as `sockit_pollset_add_udp` does for UDP
/// sockets: `*index` (may be NULL) gets the entry's index; the socket is not owned by the
/// set and is looked at on every wait (closed: never ready). Readable means a datagram
/// is waiting. `SOCKIT_INVALID` for a NULL or freed socket. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_add_unixdgram(
    set: *mut sockit_pollset,
    u: *mut sockit_unixdgram,
    events: c_int,
    index: *mut usize,
) -> sockit_status {
    guard(|| {
        let ev = events_arg(events)?;
        sockit_unixdgram::with(u, |_| Ok(()))?;
        let i = sockit_pollset::with(set, |p| {
            p.items.push((Source::UnixDgram(u as usize), ev));
            Ok(p.items.len() - 1)
        })?;
        put(index, i);
        Ok(())
    })
}

/// Adds a raw descriptor `fd` with `events`; `*index` (may be NULL) gets the entry's
/// index. A negative `fd` is accepted and never ready. A descriptor that is not open is
/// reported as `SOCKIT_POLL_ERR`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_add_fd(
    set: *mut sockit_pollset,
    fd: c_int,
    events: c_int,
    index: *mut usize,
) -> sockit_status {
    guard(|| {
        let ev = events_arg(events)?;
        let i = sockit_pollset::with(set, |p| {
            p.items.push((Source::Fd(fd), ev));
            Ok(p.items.len() - 1)
        })?;
        put(index, i);
        Ok(())
    })
}

/// Waits until at least one entry is ready or `timeout` seconds pass (negative = no
/// limit, 0 = just look). `*nready` (may be NULL) gets the number of ready entries; read
/// each with `sockit_pollset_revents`. Returns `SOCKIT_TIMEOUT` (with `*nready` 0) when
/// nothing became ready. Entries with buffered input make the call return at once.
/// Signals (EINTR) are retried with the time left. Blocks up to `timeout`; no socket is
/// locked while it waits. An empty set just sleeps. Do not call it from a wait callback
/// of a socket that is in the set (that socket is locked then): add the callback's `fd`.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_wait(
    set: *mut sockit_pollset,
    timeout: f64,
    nready: *mut usize,
) -> sockit_status {
    put(nready, 0);
    guard(|| {
        // The set stays locked for the whole call (calls on one set are serialised);
        // each socket is locked only for a moment, one at a time, to read its descriptor
        // and whether it has buffered input, and none is locked while waiting.
        let result = sockit_pollset::with(set, |p| {
            p.set.clear();
            for &(src, ev) in &p.items {
                match src {
                    Source::Fd(fd) => {
                        p.set.push((fd >= 0).then_some(fd), false, ev);
                    }
                    Source::Udp(addr) => {
                        // A UDP socket has no user-space input buffer.
                        let fd = sockit_udp::with(addr as *const sockit_udp, |u| Ok(u.fd()))
                            .unwrap_or(None);
                        p.set.push(fd, false, ev);
                    }
                    Source::UnixDgram(addr) => {
                        let fd =
                            sockit_unixdgram::with(addr as *const sockit_unixdgram, |u| Ok(u.fd()))
                                .unwrap_or(None);
                        p.set.push(fd, false, ev);
                    }
                    Source::Socket(addr) => {
                        // A socket freed since it was added counts as closed.
                        let (fd, dirty) = sockit_socket::with(addr as *const sockit_socket, |s| {
                            Ok((s.fd(), s.dirty()))
                        })
                        .unwrap_or((None, false));
                        p.set.push(fd, dirty, ev);
                    }
                }
            }
            p.set.wait(timeout)
        });
        let n = result?;
        put(nready, n);
        if n == 0 {
            return Err(Error::new(ErrorKind::Timeout, "poll: timeout"));
        }
        Ok(())
    })
}

/// The events entry `index` was found ready for in the last wait (`SOCKIT_POLL_*` bits,
/// 0 when not ready). `SOCKIT_INVALID` for an index out of range. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_pollset_revents(
    set: *mut sockit_pollset,
    index: usize,
    events: *mut c_int,
) -> sockit_status {
    guard(|| {
        let events = out_arg(events, "events")?;
        *events = sockit_pollset::with(set, |p| {
            if index >= p.items.len() {
                return Err(Error::invalid(format!(
                    "index {index} is out of range (the set has {} entries)",
                    p.items.len()
                )));
            }
            Ok(p.set.ready(index).0 as c_int)
        })?;
        Ok(())
    })
}

/// LuaSocket's `socket.select(recvt, sendt, timeout)`: waits until one of the `nreads`
/// sockets in `reads` is readable or one of the `nwrites` in `writes` is writable, or
/// `timeout` seconds pass (negative = no limit). `read_ready[i]` / `write_ready[i]` get
/// whether `reads[i]` / `writes[i]` is ready (arrays of `nreads` / `nwrites` bools; may
/// be NULL when the count is 0). NULL entries and closed sockets are ignored (never
/// ready; a freed socket is `SOCKIT_INVALID`); a client with buffered input is readable
/// at once; an error or hang-up counts as ready. Returns `SOCKIT_TIMEOUT` when nothing became ready. No size limit. Blocks up
/// to `timeout`; no socket is locked while it waits.
#[no_mangle]
pub unsafe extern "C" fn sockit_select(
    reads: *const *mut sockit_socket,
    nreads: usize,
    writes: *const *mut sockit_socket,
    nwrites: usize,
    timeout: f64,
    read_ready: *mut bool,
    write_ready: *mut bool,
) -> sockit_status {
    guard(|| {
        let reads = socket_list(reads, nreads, "reads")?;
        let writes = socket_list(writes, nwrites, "writes")?;
        let read_ready = flag_list(read_ready, nreads, "read_ready")?;
        let write_ready = flag_list(write_ready, nwrites, "write_ready")?;
        read_ready.fill(false);
        write_ready.fill(false);
        let mut set = PollSet::new();
        for (list, ev) in [(reads, Events::IN), (writes, Events::OUT)] {
            for &s in list {
                let (fd, dirty) = if s.is_null() {
                    (None, false)
                } else {
                    sockit_socket::with(s, |s| Ok((s.fd(), s.dirty())))?
                };
                set.push(fd, dirty, ev);
            }
        }
        let n = set.wait(timeout)?;
        for (i, r) in read_ready.iter_mut().enumerate() {
            *r = set.readable(i);
        }
        for (i, w) in write_ready.iter_mut().enumerate() {
            *w = set.writable(nreads + i);
        }
        if n == 0 {
            return Err(Error::new(ErrorKind::Timeout, "select: timeout"));
        }
        Ok(())
    })
}

unsafe fn socket_list<'a>(
    p: *const *mut sockit_socket,
    n: usize,
    name: &str,
) -> Result<&'a [*mut sockit_socket]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::invalid(format!(
            "{name} is NULL but its count is {n}"
        )));
    }
    if n > isize::MAX as usize / std::mem::size_of::<*mut sockit_socket>() {
        return Err(Error::invalid(format!("{name}: count {n} is too large")));
    }
    Ok(std::slice::from_raw_parts(p, n))
}

unsafe fn flag_list<'a>(p: *mut bool, n: usize, name: &str) -> Result<&'a mut [bool]> {
    if n == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Error::invalid(format!(
            "{name} is NULL but its count is {n}"
        )));
    }
    if n > isize::MAX as usize {
        return Err(Error::invalid(format!("{name}: count {n} is too large")));
    }
    Ok(std::slice::from_raw_parts_mut(p, n))
}

//! `sockit_unixdgram`: Unix-domain datagram sockets (see `crate::net::unix_dgram`).

use super::boundary::{
    bytes_arg, guard, handle_out, opt_str_arg, out_arg, put, put_text, put_timeout, str_arg,
    timeout_mode_arg,
};
use super::buffer::{sockit_buffer, with_buffer};
use super::handle::{impl_handle, Shell};
use super::options as opts;
use super::socket::{check_fd_arg, set_fd_with};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::net::unix_dgram::UnixDgram;
use std::ffi::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A Unix-domain datagram socket (LuaSocket 3.1's `socket.unix.dgram()`). Create with
/// `sockit_unixdgram_new`, release with `sockit_unixdgram_free`. Addresses are
/// file-system paths of at most 107 bytes (longer or empty paths are `SOCKIT_INVALID`;
/// abstract names are not supported). Datagrams are atomic: a receive returns at most the
/// size asked for and discards the rest of a longer datagram. Receiving honours the
/// socket's timeouts (`sockit_unixdgram_settimeout`); sending waits only when the
/// kernel has no room (the receiver's queue is full), under the same timeouts.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_unixdgram(Shell<UnixDgram>);
impl_handle!(sockit_unixdgram, UnixDgram, "unixdgram");

unsafe fn path_arg<'a>(p: *const c_char, name: &str) -> Result<&'a Path> {
    Ok(Path::new(str_arg(p, name)?))
}

/// Creates an unbound, unconnected Unix datagram socket (non-blocking, close-on-exec).
/// On success `*out` is a new handle the caller owns (free with
/// `sockit_unixdgram_free`); on failure `*out` is NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_new(out: *mut *mut sockit_unixdgram) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_unixdgram::new(UnixDgram::new()?);
        Ok(())
    })
}

/// Closes the socket (if open) and frees the handle. The socket file of a bound socket is
/// not removed. NULL or an already freed handle is ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_free(u: *mut sockit_unixdgram) {
    sockit_unixdgram::free(u)
}

/// Closes the socket's descriptor (the socket file of a bound socket stays); the handle
/// stays valid until `sockit_unixdgram_free` and every later call on it (but close and
/// free) fails with `SOCKIT_CLOSED`. Closing twice is fine. `SOCKIT_INVALID` for a NULL
/// or freed handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_close(u: *mut sockit_unixdgram) -> sockit_status {
    guard(|| {
        sockit_unixdgram::with(u, |u| {
            u.close();
            Ok(())
        })
    })
}

/// Binds the socket to `path`, creating the socket file there; an existing file at
/// `path` gives `SOCKIT_ADDRINUSE` (no stale file is removed). A NULL,
/// empty or too long `path` is `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_bind(
    u: *mut sockit_unixdgram,
    path: *const c_char,
) -> sockit_status {
    guard(|| {
        let path = path_arg(path, "path")?;
        sockit_unixdgram::with(u, |u| u.bind(path))
    })
}

/// Sets the socket's peer to the socket bound at `path`: afterwards
/// `sockit_unixdgram_send` sends to it and only its datagrams are received. NULL or ""
/// removes the peer (Linux supports dissolving a Unix datagram association; the socket is
/// then unconnected again; a no-op when it has none). A too long `path` is
/// `SOCKIT_INVALID`; no socket at `path` is a failure status with the system's message
/// (the socket stays as it was). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_connect(
    u: *mut sockit_unixdgram,
    path: *const c_char,
) -> sockit_status {
    guard(|| {
        let path = opt_str_arg(path, "path")?.unwrap_or("");
        sockit_unixdgram::with(u, |u| {
            if path.is_empty() {
                u.disconnect()
            } else {
                u.connect(Path::new(path))
            }
        })
    })
}

/// Sends `len` bytes from `data` (copied; may be empty; NULL only with `len` 0) as one
/// datagram to the peer set with `sockit_unixdgram_connect`; `*sent` (may be NULL) gets
/// the bytes sent (0 on failure). Without a peer this is `SOCKIT_INVALID`. Waits (under
/// the socket's timeouts) only while the receiver's queue is full: `SOCKIT_TIMEOUT` then.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_send(
    u: *mut sockit_unixdgram,
    data: *const u8,
    len: usize,
    sent: *mut usize,
) -> sockit_status {
    guard(|| {
        put(sent, 0);
        let data = bytes_arg(data, len, "data")?;
        let n = sockit_unixdgram::with(u, |u| u.send(data))?;
        put(sent, n);
        Ok(())
    })
}

/// Sends `len` bytes from `data` as one datagram to the socket bound at `path`; `*sent`
/// (may be NULL) gets the bytes sent (0 on failure). On a socket with a peer this is
/// `SOCKIT_ISCONN`; a NULL, empty or too long `path` is `SOCKIT_INVALID`; no socket at
/// `path` is a failure status with the system's message. Waits as `sockit_unixdgram_send`.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_sendto(
    u: *mut sockit_unixdgram,
    data: *const u8,
    len: usize,
    path: *const c_char,
    sent: *mut usize,
) -> sockit_status {
    guard(|| {
        put(sent, 0);
        let data = bytes_arg(data, len, "data")?;
        let path = path_arg(path, "path")?;
        let n = sockit_unixdgram::with(u, |u| u.sendto(data, path))?;
        put(sent, n);
        Ok(())
    })
}

/// Receives the next datagram into `out` (cleared first; caller-owned): at most `size`
/// bytes; the rest of a longer datagram is discarded. `size` 0 discards one datagram;
/// sizes above 65536 count as 65536 (LuaSocket's default is 8192). Blocks under the
/// socket's timeouts: `SOCKIT_TIMEOUT` with `out` empty when none arrived in time.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_receive(
    u: *mut sockit_unixdgram,
    size: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        out_arg(out, "out")?;
        sockit_unixdgram::with(u, |u| with_buffer(out, |v| u.receive(size, v)))
    })
}

/// As `sockit_unixdgram_receive`, and writes the sender's path as text into `path` (may
/// be NULL; an unbound sender gives ""). `path` must not be `out`.
/// Blocks like `sockit_unixdgram_receive`, within the socket's timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_receivefrom(
    u: *mut sockit_unixdgram,
    size: usize,
    out: *mut sockit_buffer,
    path: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        if !out.is_null() && out == path {
            return Err(Error::invalid("path and out must be different buffers"));
        }
        out_arg(out, "out")?;
        let from = sockit_unixdgram::with(u, |u| with_buffer(out, |v| u.receivefrom(size, v)))?;
        put_text(path, from.as_os_str().as_bytes())
    })
}

/// The bound path as text into `path` (caller-owned; "" before
/// `sockit_unixdgram_bind`). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_getsockname(
    u: *mut sockit_unixdgram,
    path: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        out_arg(path, "path")?;
        let p = sockit_unixdgram::with(u, |u| u.getsockname())?;
        put_text(path, p.as_os_str().as_bytes())
    })
}

/// The peer's path as text into `path` (caller-owned). `SOCKIT_INVALID` when the socket
/// has no peer. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_getpeername(
    u: *mut sockit_unixdgram,
    path: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        out_arg(path, "path")?;
        let p = sockit_unixdgram::with(u, |u| u.getpeername())?;
        put_text(path, p.as_os_str().as_bytes())
    })
}

/// Sets the socket's timeout, LuaSocket style: `mode` "b" (or NULL) sets the block
/// timeout (each wait), "t" (or "r") the total timeout (the whole call). `secs` negative
/// or NaN means no limit, 0 means never wait. By default the socket waits forever. An
/// unknown mode is `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_settimeout(
    u: *mut sockit_unixdgram,
    secs: f64,
    mode: *const c_char,
) -> sockit_status {
    guard(|| {
        let mode = timeout_mode_arg(mode)?;
        sockit_unixdgram::with(u, |u| {
            u.settimeout(secs, mode);
            Ok(())
        })
    })
}

/// The socket's block and total timeouts in seconds (-1 = no limit); either out pointer
/// may be NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_gettimeout(
    u: *mut sockit_unixdgram,
    block: *mut f64,
    total: *mut f64,
) -> sockit_status {
    guard(|| {
        let t = sockit_unixdgram::with(u, |u| Ok(u.timeout()))?;
        put_timeout(&t, block, total);
        Ok(())
    })
}

/// Sets a socket option by its LuaSocket name ("reuseaddr", "sndbuf", "rcvbuf", ...) to
/// an integer (0 / 1 for boolean options), as `sockit_udp_setoption_int`. Unknown names
/// and values of the wrong kind are `SOCKIT_INVALID`; an option Unix sockets lack (IP and
/// TCP options) fails with the system's status. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_setoption_int(
    u: *mut sockit_unixdgram,
    name: *const c_char,
    value: i64,
) -> sockit_status {
    guard(|| {
        let opt = opts::option_arg(name)?;
        let value = opts::int_to_value(opt, value)?;
        sockit_unixdgram::with(u, |u| u.setoption(opt.name(), value))
    })
}

/// Reads a socket option as an integer into `*value` (as
/// `sockit_unixdgram_setoption_int` describes). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_getoption_int(
    u: *mut sockit_unixdgram,
    name: *const c_char,
    value: *mut i64,
) -> sockit_status {
    guard(|| {
        let out = out_arg(value, "value")?;
        let opt = opts::option_arg(name)?;
        let v = sockit_unixdgram::with(u, |u| u.getoption(opt.name()))?;
        *out = opts::value_to_int(v);
        Ok(())
    })
}

/// The socket's descriptor into `*fd`: -1 when closed or detached. The descriptor stays
/// owned by the handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_getfd(
    u: *mut sockit_unixdgram,
    fd: *mut i32,
) -> sockit_status {
    guard(|| {
        let out = out_arg(fd, "fd")?;
        *out = -1;
        *out = sockit_unixdgram::with(u, |u| Ok(u.fd().unwrap_or(-1)))?;
        Ok(())
    })
}

/// LuaSocket's `setfd`, with the semantics of `sockit_udp_setfd`: the socket now uses
/// descriptor `fd`, which it takes over (made non-blocking and closed by
/// `sockit_unixdgram_close`/`sockit_unixdgram_free` later). The descriptor it held before
/// is released WITHOUT being closed: the caller keeps it and closes it. `fd` -1 detaches:
/// the socket no longer has a descriptor and reads as closed (`sockit_unixdgram_getfd`
/// gives -1, I/O `SOCKIT_CLOSED`), nothing is closed, and a later `setfd` gives it one
/// again. The connected/unconnected state and timeouts stay. `fd` below -1, or a NULL or
/// freed handle: `SOCKIT_INVALID`; a closed socket: `SOCKIT_CLOSED` (`fd` -1 on it does
/// nothing); an `fd` that cannot be made non-blocking: `SOCKIT_INVALID` or
/// `SOCKIT_SYSTEM`. On failure `fd` is not taken and the socket is unchanged. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_setfd(
    u: *mut sockit_unixdgram,
    fd: i32,
) -> sockit_status {
    guard(|| {
        check_fd_arg(fd)?;
        sockit_unixdgram::with(u, |u| set_fd_with(fd, |f| u.set_fd(f)))
    })
}

/// Whether the socket has a peer: `*connected` is true for LuaSocket's
/// "unixdgram{connected}", false for "unixdgram{unconnected}". Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unixdgram_isconnected(
    u: *mut sockit_unixdgram,
    connected: *mut bool,
) -> sockit_status {
    guard(|| {
        let out = out_arg(connected, "connected")?;
        *out = sockit_unixdgram::with(u, |u| Ok(u.is_connected()))?;
        Ok(())
    })
}

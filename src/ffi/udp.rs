//! `sockit_udp`: UDP sockets (see `crate::net::udp`).

use super::boundary::{
    bytes_arg, guard, handle_out, out_arg, port_arg, put, put_timeout, str_arg, timeout_mode_arg,
};
use super::buffer::{sockit_buffer, terminate, with_buffer};
use super::handle::{impl_handle, Shell};
use super::options::{self as opts, sockit_family};
use super::socket::{check_fd_arg, set_fd_with};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::net::udp::Udp;
use std::ffi::c_char;
use std::io::Write;
use std::net::SocketAddr;

/// A UDP socket (IPv4 or IPv6). Create with `sockit_udp_new`, release with
/// `sockit_udp_free`. Datagrams are atomic: a receive returns at most the size asked for
/// and discards the rest of a longer datagram. Receiving honours the socket's timeouts
/// (`sockit_udp_settimeout`); sending never waits unless the kernel has no room.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_udp(Shell<Udp>);
impl_handle!(sockit_udp, Udp, "udp");

/// Writes an address to the optional out-parameters (text into `addr`).
unsafe fn put_addr(
    a: SocketAddr,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> Result<()> {
    if !addr.is_null() {
        with_buffer(addr, |v| {
            // Formatted straight into the buffer: no allocation once it has room.
            v.clear();
            let _ = write!(v, "{}", a.ip());
            terminate(v);
            Ok(())
        })?;
    }
    put(port, a.port());
    put(family, sockit_family::of_addr(&a));
    Ok(())
}

/// Creates a UDP socket. `family` is a `sockit_family`: `SOCKIT_FAMILY_INET` or
/// `SOCKIT_FAMILY_INET6` create the descriptor now (IPv6 sockets are IPv6-only);
/// `SOCKIT_FAMILY_ANY` (LuaSocket 3's `socket.udp()`) creates it on the first
/// setsockname, setpeername or sendto, with the family of the first address that works.
/// On success `*out` is a new handle the caller owns (free with `sockit_udp_free`); on
/// failure `*out` is NULL. `SOCKIT_FAMILY_UNIX` gives `SOCKIT_FAMILY`, other values
/// `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_new(family: i32, out: *mut *mut sockit_udp) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let family = opts::ip_family_arg(family, "family")?;
        *out = sockit_udp::new(Udp::new(family)?);
        Ok(())
    })
}

/// Closes the socket (if open) and frees the handle. NULL or an already freed handle is
/// ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_free(u: *mut sockit_udp) {
    sockit_udp::free(u)
}

/// Closes the socket's descriptor; the handle stays valid until `sockit_udp_free` and
/// every later call on it (but close and free) fails with `SOCKIT_CLOSED`. Closing twice
/// is fine. Returns `SOCKIT_INVALID` for a NULL or freed handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_close(u: *mut sockit_udp) -> sockit_status {
    guard(|| {
        sockit_udp::with(u, |u| {
            u.close();
            Ok(())
        })
    })
}

/// Binds the socket to a local address. `host` is an address literal, a host name, or
/// "*" for every local interface (the wildcard of the socket's family; IPv4 for a
/// `SOCKIT_FAMILY_ANY` socket); `port` 0 lets the system choose. A port outside 0..65535
/// is `SOCKIT_INVALID`. May block while a host name is resolved.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_setsockname(
    u: *mut sockit_udp,
    host: *const c_char,
    port: i32,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        sockit_udp::with(u, |u| u.setsockname(host, port))
    })
}

/// Sets the socket's peer: afterwards `sockit_udp_send` sends to it and only its
/// datagrams are received. `host` "*" removes the peer (the socket is unconnected again
/// and keeps its local port; `port` is then ignored). A port outside 0..65535 is
/// `SOCKIT_INVALID`. May block while a host name is resolved.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_setpeername(
    u: *mut sockit_udp,
    host: *const c_char,
    port: i32,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = if host == "*" {
            0
        } else {
            port_arg(port, "port")?
        };
        sockit_udp::with(u, |u| u.setpeername(host, port))
    })
}

/// The local address: its text ("127.0.0.1", "::1") into `addr`, the port into `*port`,
/// the `sockit_family` into `*family`. Each out-parameter may be NULL. Before a
/// `SOCKIT_FAMILY_ANY` socket has a descriptor this is `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_getsockname(
    u: *mut sockit_udp,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> sockit_status {
    guard(|| {
        let a = sockit_udp::with(u, |u| u.getsockname())?;
        put_addr(a, addr, port, family)
    })
}

/// The peer's address, as `sockit_udp_getsockname`. `SOCKIT_INVALID` when the socket
/// has no peer. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_getpeername(
    u: *mut sockit_udp,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> sockit_status {
    guard(|| {
        let a = sockit_udp::with(u, |u| u.getpeername())?;
        put_addr(a, addr, port, family)
    })
}

/// Sends `len` bytes from `data` (copied; may be empty) as one datagram to the peer set
/// with `sockit_udp_setpeername`; `*sent` (may be NULL) gets the bytes sent. Without a
/// peer this is `SOCKIT_INVALID`. Waits (under the socket's timeouts) only when the
/// kernel has no room; "connection refused" reports an ICMP error from an earlier
/// datagram.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_send(
    u: *mut sockit_udp,
    data: *const u8,
    len: usize,
    sent: *mut usize,
) -> sockit_status {
    guard(|| {
        put(sent, 0);
        let data = bytes_arg(data, len, "data")?;
        let n = sockit_udp::with(u, |u| u.send(data))?;
        put(sent, n);
        Ok(())
    })
}

/// Sends `len` bytes from `data` as one datagram to `host`:`port` (an address literal,
/// or a name that is resolved first: that may block). `*sent` (may be NULL) gets the
/// bytes sent. On a socket with a peer this is `SOCKIT_ISCONN`; a port outside 0..65535
/// is `SOCKIT_INVALID`; an address of the other family is `SOCKIT_FAMILY`.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_sendto(
    u: *mut sockit_udp,
    data: *const u8,
    len: usize,
    host: *const c_char,
    port: i32,
    sent: *mut usize,
) -> sockit_status {
    guard(|| {
        put(sent, 0);
        let data = bytes_arg(data, len, "data")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        let n = sockit_udp::with(u, |u| u.sendto(data, host, port))?;
        put(sent, n);
        Ok(())
    })
}

/// Receives the next datagram into `out` (cleared first): at most `size` bytes; the rest
/// of a longer datagram is discarded. `size` 0 discards one datagram; sizes above 65536
/// count as 65536 (LuaSocket's default is 8192). Blocks under the socket's timeouts:
/// `SOCKIT_TIMEOUT` with `out` empty when none arrived in time.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_receive(
    u: *mut sockit_udp,
    size: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        out_arg(out, "out")?;
        sockit_udp::with(u, |u| with_buffer(out, |v| u.receive(size, v)))
    })
}

/// As `sockit_udp_receive`, and writes the sender's address text into `addr` and its port
/// into `*port` (each may be NULL). `addr` must not be `out`.
/// Blocks like `sockit_udp_receive`, within the socket's timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_receivefrom(
    u: *mut sockit_udp,
    size: usize,
    out: *mut sockit_buffer,
    addr: *mut sockit_buffer,
    port: *mut u16,
) -> sockit_status {
    guard(|| {
        if !out.is_null() && out == addr {
            return Err(Error::invalid("addr and out must be different buffers"));
        }
        out_arg(out, "out")?;
        let from = sockit_udp::with(u, |u| with_buffer(out, |v| u.receivefrom(size, v)))?;
        put_addr(from, addr, port, std::ptr::null_mut())
    })
}

/// Sets the socket's timeout, LuaSocket style: `mode` "b" (or NULL) sets the block
/// timeout (each wait), "t" (or "r") the total timeout (the whole call). `secs` negative
/// or NaN means no limit, 0 means never wait. By default the socket waits forever.
/// An unknown mode is `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_settimeout(
    u: *mut sockit_udp,
    secs: f64,
    mode: *const c_char,
) -> sockit_status {
    guard(|| {
        let mode = timeout_mode_arg(mode)?;
        sockit_udp::with(u, |u| {
            u.settimeout(secs, mode);
            Ok(())
        })
    })
}

/// The socket's block and total timeouts in seconds (-1 = no limit); either out pointer
/// may be NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_gettimeout(
    u: *mut sockit_udp,
    block: *mut f64,
    total: *mut f64,
) -> sockit_status {
    guard(|| {
        let t = sockit_udp::with(u, |u| Ok(u.timeout()))?;
        put_timeout(&t, block, total);
        Ok(())
    })
}

/// Sets a socket option by its LuaSocket name ("broadcast", "dontroute", "reuseaddr",
/// "reuseport", "rcvbuf", "sndbuf", "ip-multicast-ttl", "ip-multicast-loop",
/// "ipv6-v6only", "ipv6-unicast-hops", "ipv6-multicast-hops", "ipv6-multicast-loop", ...)
/// to an integer: 0 / 1 for boolean options; for "linger" the seconds (on) or -1 (off).
/// Unknown names and values of the wrong kind are `SOCKIT_INVALID`; an option the
/// socket's protocol lacks is `SOCKIT_UNSUPPORTED`. On a `SOCKIT_FAMILY_ANY` socket
/// without a descriptor yet, the option is checked and applied when it is created.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_setoption_int(
    u: *mut sockit_udp,
    name: *const c_char,
    value: i64,
) -> sockit_status {
    guard(|| {
        let opt = opts::option_arg(name)?;
        let value = opts::int_to_value(opt, value)?;
        sockit_udp::with(u, |u| u.setoption(opt.name(), value))
    })
}

/// Reads a socket option as an integer into `*value` (as `sockit_udp_setoption_int`
/// describes; "error" reads and clears the pending socket error, 0 for none). Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_getoption_int(
    u: *mut sockit_udp,
    name: *const c_char,
    value: *mut i64,
) -> sockit_status {
    guard(|| {
        let out = out_arg(value, "value")?;
        let opt = opts::option_arg(name)?;
        let v = sockit_udp::with(u, |u| u.getoption(opt.name()))?;
        *out = opts::value_to_int(v);
        Ok(())
    })
}

/// The socket's descriptor into `*fd`: -1 when closed, or when a `SOCKIT_FAMILY_ANY`
/// socket has none yet. The descriptor stays owned by the handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_getfd(u: *mut sockit_udp, fd: *mut i32) -> sockit_status {
    guard(|| {
        let out = out_arg(fd, "fd")?;
        *out = -1;
        *out = sockit_udp::with(u, |u| Ok(u.fd().unwrap_or(-1)))?;
        Ok(())
    })
}

/// LuaSocket's `setfd`: the socket now uses descriptor `fd`, which it takes over (it is
/// made non-blocking and closed by `sockit_udp_close`/`sockit_udp_free` later). The
/// descriptor it held before is released WITHOUT being closed (as LuaSocket's `setfd`
/// does): the caller keeps it and closes it. `fd` -1 detaches: the socket no longer has a
/// descriptor and reads as closed (`sockit_udp_getfd` gives -1, I/O `SOCKIT_CLOSED`),
/// nothing is closed, and a later `setfd` gives it one again. The connected/unconnected
/// state, timeouts and options stay. `fd` below -1, or a NULL or freed handle:
/// `SOCKIT_INVALID`; a closed socket: `SOCKIT_CLOSED` (`fd` -1 on it does nothing); an
/// `fd` that cannot be made non-blocking (for example one that is not open):
/// `SOCKIT_INVALID` or `SOCKIT_SYSTEM`. On failure `fd` is not taken (the caller still
/// owns it) and the socket is unchanged. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_setfd(u: *mut sockit_udp, fd: i32) -> sockit_status {
    guard(|| {
        check_fd_arg(fd)?;
        sockit_udp::with(u, |u| set_fd_with(fd, |f| u.set_fd(f)))
    })
}

/// Whether the socket has a peer (`setpeername`): `*connected` is true for LuaSocket's
/// "udp{connected}", false for "udp{unconnected}". Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_udp_isconnected(
    u: *mut sockit_udp,
    connected: *mut bool,
) -> sockit_status {
    guard(|| {
        let out = out_arg(connected, "connected")?;
        *out = sockit_udp::with(u, |u| Ok(u.is_connected()))?;
        Ok(())
    })
}

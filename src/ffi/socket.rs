//! `sockit_socket`: TCP and Unix-domain stream sockets in every state (master, client,
//! server, closed), with LuaSocket's and Moonbridge's operations.

use super::boundary::{
    bytes_arg, guard, handle_out, opt_str_arg, out_arg, port_arg, put, put_text, put_timeout,
    str_arg, timeout_mode_arg,
};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::options::{self as opts, sockit_family};
use super::status::sockit_status;
use crate::error::{Error, ErrorKind, Result};
use crate::io::pattern::{Pattern, ReadEnd};
use crate::io::readbuf::LineMode;
use crate::io::stream::{Interest, Shutdown, Wait};
use crate::io::timeout::{Deadline, Timeout};
use crate::net::options::OptValue;
use crate::net::socket::{AddrFamily, Address, SetFdResult, Socket, State};
use crate::net::{tcp, unix};
use std::ffi::{c_char, c_int, c_long, c_void, CStr, OsStr};
use std::net::IpAddr;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A TCP or Unix-domain stream socket in any state: master (made, not yet connected or
/// listening), client (connected), server (listening) or closed. Owned by the caller:
/// close it with `sockit_socket_close` (idempotent) and release it with
/// `sockit_socket_free` (which closes it if needed). Calls on one socket are serialised.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_socket(Shell<Socket>);
impl_handle!(sockit_socket, Socket, "socket");

/// The state of a socket (`sockit_state`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_state {
    /// Made but not connected or listening: set options, bind, then connect or listen.
    SOCKIT_STATE_MASTER = 0,
    /// Connected: send, receive, read, write...
    SOCKIT_STATE_CLIENT = 1,
    /// Listening: accept.
    SOCKIT_STATE_SERVER = 2,
    /// Closed: only close and free do anything.
    SOCKIT_STATE_CLOSED = 3,
    /// A client whose connect is in progress (`sockit_socket_connect` ran out of time):
    /// select it for writing, then call `sockit_socket_connect` again to complete it.
    /// Sends and receives wait for the connect as their timeouts allow.
    SOCKIT_STATE_CONNECTING = 4,
}

/// How a Moonbridge read or drain ended (`sockit_read_end`).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_read_end {
    /// "term": the last byte delivered is the terminator.
    SOCKIT_READ_TERM = 0,
    /// "maxlen": maxlen bytes were delivered without the terminator.
    SOCKIT_READ_MAXLEN = 1,
    /// "eof": the peer closed the connection first.
    SOCKIT_READ_EOF = 2,
    /// "block": a non-blocking read stopped because it would block.
    SOCKIT_READ_BLOCK = 3,
}

impl From<ReadEnd> for sockit_read_end {
    fn from(e: ReadEnd) -> Self {
        match e {
            ReadEnd::Term => sockit_read_end::SOCKIT_READ_TERM,
            ReadEnd::MaxLen => sockit_read_end::SOCKIT_READ_MAXLEN,
            ReadEnd::Eof => sockit_read_end::SOCKIT_READ_EOF,
            ReadEnd::Block => sockit_read_end::SOCKIT_READ_BLOCK,
        }
    }
}

/// A LuaSocket receive pattern: one of the `SOCKIT_PATTERN_*` values.
#[allow(non_camel_case_types)]
pub type sockit_pattern = c_int;
/// A line ending at LF, LuaSocket 2/3 "*l": the LF and every CR are dropped.
pub const SOCKIT_PATTERN_LINE: sockit_pattern = 0;
/// A line ending at LF, LuaSocket 1.3b "*l": the LF and a CR right before it are dropped.
pub const SOCKIT_PATTERN_LINE_CRLF13: sockit_pattern = 1;
/// A line ending at LF, LuaSocket 1.3b "*lu": only the LF is dropped.
pub const SOCKIT_PATTERN_LINE_RAW: sockit_pattern = 2;
/// LuaSocket 1.3b "*w": leading white space skipped, then up to the next white space.
pub const SOCKIT_PATTERN_WORD: sockit_pattern = 3;
/// "*a": everything until the peer closes the connection.
pub const SOCKIT_PATTERN_ALL: sockit_pattern = 4;
/// A number: exactly `count` bytes.
pub const SOCKIT_PATTERN_COUNT: sockit_pattern = 5;

/// Which direction `sockit_socket_shutdown` closes: one of `SOCKIT_SHUTDOWN_*`.
#[allow(non_camel_case_types)]
pub type sockit_shutdown_how = c_int;
/// No more receiving.
pub const SOCKIT_SHUTDOWN_READ: sockit_shutdown_how = 0;
/// No more sending (the peer reads end of stream).
pub const SOCKIT_SHUTDOWN_WRITE: sockit_shutdown_how = 1;
/// Both directions.
pub const SOCKIT_SHUTDOWN_BOTH: sockit_shutdown_how = 2;

/// `events` bit of a wait callback: the socket waits until it can read.
pub const SOCKIT_WAIT_READ: c_int = 1;
/// `events` bit of a wait callback: the socket waits until it can write.
pub const SOCKIT_WAIT_WRITE: c_int = 2;

/// Wait callback of the `_call` functions (Moonbridge's `waitfunc`). Called each time the
/// operation would block, with the socket's descriptor and what it waits for
/// (`SOCKIT_WAIT_READ` or `SOCKIT_WAIT_WRITE`); it should wait (for example with poll on
/// `fd`, or by running an event loop) and return 0 to go on, or non-zero to abort the call
/// with `SOCKIT_ABORTED`. It runs while the socket is locked: it must not call sockit
/// functions on the same socket (nor add that socket's handle to a poll set it waits on;
/// use `fd` instead), and the output buffer of the call is being filled: using it from
/// the callback gives `SOCKIT_INVALID`.
#[allow(non_camel_case_types)]
pub type sockit_wait_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, fd: c_int, events: c_int) -> c_int>;

// ----- argument helpers ---------------------------------------------------------------

/// A filesystem path argument (any bytes but NUL).
pub(crate) unsafe fn path_arg<'a>(p: *const c_char, name: &str) -> Result<&'a Path> {
    if p.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    Ok(Path::new(OsStr::from_bytes(CStr::from_ptr(p).to_bytes())))
}

fn family_out(f: Option<AddrFamily>) -> sockit_family {
    match f {
        None => sockit_family::SOCKIT_FAMILY_ANY,
        Some(AddrFamily::Inet) => sockit_family::SOCKIT_FAMILY_INET,
        Some(AddrFamily::Inet6) => sockit_family::SOCKIT_FAMILY_INET6,
        Some(AddrFamily::Unix) => sockit_family::SOCKIT_FAMILY_UNIX,
    }
}

/// A maxlen argument: `SIZE_MAX` means no limit.
fn maxlen_arg(maxlen: usize) -> Option<usize> {
    (maxlen != usize::MAX).then_some(maxlen)
}

/// A terminator argument: -1 for none, else a byte value 0..255.
fn term_arg(term: c_int) -> Result<Option<u8>> {
    match term {
        -1 => Ok(None),
        0..=255 => Ok(Some(term as u8)),
        _ => Err(Error::invalid(format!(
            "terminator {term} is neither -1 nor a byte value 0..255"
        ))),
    }
}

/// Hands a new socket to C through `out`.
fn give(out: &mut *mut sockit_socket, s: Socket) {
    *out = sockit_socket::new(s);
}

/// Runs `f` on the bytes of `out`, cleared first. Buffers are not locked (see
/// `sockit_buffer`), so this adds no lock to a receive; a wait callback that uses `out`
/// while `f` runs gets `SOCKIT_INVALID` ("in use") instead of a second borrow.
unsafe fn with_out<R>(
    out: *mut sockit_buffer,
    f: impl FnOnce(&mut Vec<u8>) -> Result<R>,
) -> Result<R> {
    sockit_buffer::with(out, |v| {
        v.clear();
        f(v)
    })
}

/// Runs `f` with the client stream of `s` and a `Wait` built from the C callback.
fn call_wait<R>(
    wait: sockit_wait_fn,
    userdata: *mut c_void,
    fd: c_int,
    f: impl FnOnce(Wait<'_>) -> Result<R>,
) -> Result<R> {
    let cb = wait.ok_or_else(|| Error::invalid("wait is NULL"))?;
    let mut waiter = |interest: Interest| -> Result<()> {
        let events = match interest {
            Interest::Read => SOCKIT_WAIT_READ,
            Interest::Write => SOCKIT_WAIT_WRITE,
        };
        // SAFETY: the caller passed a valid callback and its userdata.
        if unsafe { cb(userdata, fd, events) } != 0 {
            Err(Error::new(
                ErrorKind::Aborted,
                "aborted: the wait callback returned non-zero",
            ))
        } else {
            Ok(())
        }
    };
    f(Wait::Call(&mut waiter))
}

// ----- constructors -------------------------------------------------------------------

/// A new TCP master socket (LuaSocket's `socket.tcp()`; `tcp4()` and `tcp6()` with
/// `SOCKIT_FAMILY_INET` / `_INET6`; IPv6 sockets are IPv6-only). With
/// `SOCKIT_FAMILY_ANY` the descriptor is made at bind or connect, for the family of the
/// address used; options set before are applied then. On success `*out` is a new socket
/// the caller owns. Never blocks. `SOCKIT_INVALID` for a bad family or NULL `out`.
#[no_mangle]
pub unsafe extern "C" fn sockit_tcp_new(
    family: c_int,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let s = Socket::tcp(opts::ip_family_arg(family, "family")?)?;
        give(out, s);
        Ok(())
    })
}

/// A new Unix-domain stream master socket (LuaSocket's `socket.unix()`): bind it to a
/// path and listen, or connect it to a path. On success `*out` is a new socket the caller
/// owns. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unix_new(out: *mut *mut sockit_socket) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        give(out, Socket::unix()?);
        Ok(())
    })
}

/// Connects to `host`:`port` (LuaSocket's `socket.connect`, Moonbridge's `tcpconnect`).
/// `host` is a name or a literal address. Every resolved address is tried in turn, each
/// with a fresh socket, until one accepts; `family` (`SOCKIT_FAMILY_ANY`, `_INET`,
/// `_INET6`) restricts them. With `local_host` non-NULL the socket is first bound to
/// `local_host`:`local_port` ("*" = any interface). `timeout` bounds each attempt in
/// seconds (negative = no limit; 0 = do not wait, which rarely succeeds: use
/// `sockit_tcp_connect_nb`). Blocks during name resolution and while connecting.
/// On success `*out` is a new connected client the caller owns (its timeouts: none).
/// Errors are those of the last attempt: `SOCKIT_REFUSED`, `SOCKIT_TIMEOUT`,
/// `SOCKIT_HOST_NOT_FOUND`, ..., with a message naming host and port. `SOCKIT_INVALID`
/// for a NULL host or out, a port outside 0..65535 or a bad family.
#[no_mangle]
pub unsafe extern "C" fn sockit_tcp_connect(
    host: *const c_char,
    port: c_int,
    local_host: *const c_char,
    local_port: c_int,
    family: c_int,
    timeout: f64,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        let local = match opt_str_arg(local_host, "local_host")? {
            Some(h) => Some((h, port_arg(local_port, "local_port")?)),
            None => None,
        };
        let family = opts::ip_family_arg(family, "family")?;
        let t = Timeout::from_secs(-1.0, timeout);
        give(out, tcp::connect(host, port, local, family, &t)?);
        Ok(())
    })
}

/// Starts connecting to `host`:`port` without waiting (Moonbridge's `tcpconnect_nb`):
/// only the first resolved address is used. Name resolution still blocks; a literal
/// address does not. On success `*out` is a new client the caller owns, possibly still
/// connecting: a connection failure is reported by its first read or write (select it
/// for writing to learn when it is up). Errors that show at once are returned here.
#[no_mangle]
pub unsafe extern "C" fn sockit_tcp_connect_nb(
    host: *const c_char,
    port: c_int,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        give(out, tcp::connect_nb(host, port)?);
        Ok(())
    })
}

/// A listening TCP socket (LuaSocket's `socket.bind(host, port [, backlog])`): sets
/// `reuseaddr`, binds to `host`:`port` and listens with `backlog` (negative = 32). "*"
/// binds every IPv4 interface; a name is resolved and each address tried in turn; port 0
/// picks an ephemeral port (see `sockit_socket_getsockname`). On success `*out` is a new
/// server the caller owns. Blocks only during name resolution.
/// `SOCKIT_ADDRINUSE` when the address is taken.
#[no_mangle]
pub unsafe extern "C" fn sockit_tcp_bind(
    host: *const c_char,
    port: c_int,
    backlog: c_int,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        give(out, tcp::bind(host, port, backlog)?);
        Ok(())
    })
}

/// A listening TCP socket, Moonbridge's `tcplisten(host, port)`: "127.0.0.1" or "::1"
/// listen on loopback, "0.0.0.0" or "::" on every interface ("::" also takes IPv4
/// connections where the system allows it). `reuseaddr` is set; `backlog` negative = 32.
/// On success `*out` is a new server the caller owns. Blocks only during name resolution.
#[no_mangle]
pub unsafe extern "C" fn sockit_tcp_listen(
    host: *const c_char,
    port: c_int,
    backlog: c_int,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        give(out, tcp::listen(host, port, backlog)?);
        Ok(())
    })
}

/// Connects to the Unix socket at `path` (Moonbridge's `localconnect`). Blocks while the
/// listener's queue is full. On success `*out` is a new client the caller owns. A missing
/// file gives `SOCKIT_SYSTEM` ("No such file or directory"), a file nobody listens on
/// `SOCKIT_REFUSED`, a path longer than 107 bytes `SOCKIT_INVALID`.
#[no_mangle]
pub unsafe extern "C" fn sockit_unix_connect(
    path: *const c_char,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let path = path_arg(path, "path")?;
        give(out, unix::connect(path, &Deadline::forever())?);
        Ok(())
    })
}

/// Connects to the Unix socket at `path` without waiting (Moonbridge's
/// `localconnect_nb`). A Unix connect completes at once, so its errors show here; a full
/// listen queue is `SOCKIT_WOULDBLOCK`. On success `*out` is a new client the caller owns.
#[no_mangle]
pub unsafe extern "C" fn sockit_unix_connect_nb(
    path: *const c_char,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let path = path_arg(path, "path")?;
        give(out, unix::connect_nb(path)?);
        Ok(())
    })
}

/// A listening Unix socket at `path` (Moonbridge's `locallisten`), `backlog` negative =
/// 32. A file already at `path` is removed first only if it is a socket (a stale one);
/// any other file is left alone and the call fails with `SOCKIT_ADDRINUSE`. Closing the
/// listener does not remove the file. On success `*out` is a new server the caller owns.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_unix_listen(
    path: *const c_char,
    backlog: c_int,
    out: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let path = path_arg(path, "path")?;
        give(out, unix::listen(path, backlog)?);
        Ok(())
    })
}

// ----- master operations --------------------------------------------------------------

/// Binds a TCP master to `host`:`port` ("*" = every interface of its family, IPv4 for
/// `SOCKIT_FAMILY_ANY`). Each resolved address is tried in turn. Blocks only during name
/// resolution. `SOCKIT_INVALID` when `s` is not a TCP master; `SOCKIT_ADDRINUSE`, ...
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_bind(
    s: *mut sockit_socket,
    host: *const c_char,
    port: c_int,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        sockit_socket::with(s, |sock| sock.bind(host, port))
    })
}

/// Binds a Unix master to `path`, which must not exist (unlike `sockit_unix_listen`,
/// nothing is removed). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_bind_path(
    s: *mut sockit_socket,
    path: *const c_char,
) -> sockit_status {
    guard(|| {
        let path = path_arg(path, "path")?;
        sockit_socket::with(s, |sock| sock.bind_path(path))
    })
}

/// Makes a master listen with `backlog` (negative = 32); it becomes a server. A TCP
/// master of family any that was not bound gets an IPv4 socket on an ephemeral port.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_listen(
    s: *mut sockit_socket,
    backlog: c_int,
) -> sockit_status {
    guard(|| sockit_socket::with(s, |sock| sock.listen(backlog)))
}

/// Connects a TCP master to `host`:`port` within the socket's timeouts (LuaSocket's
/// `tcp:connect`), trying every resolved address (of the socket's family once it has
/// one) in turn, each with a fresh descriptor that gets the options set so far and the
/// address bound so far; the timeouts restart for each address. On success the socket is
/// a client; when every attempt fails it is still a master (`sockit_socket_getfd` may
/// give a new descriptor).
///
/// Non-blocking connect, as LuaSocket does it: when the time runs out while an attempt
/// is in flight (at once with a zero timeout, which tries only the first address) the
/// call returns `SOCKIT_TIMEOUT` and the socket is `SOCKIT_STATE_CONNECTING`; select it
/// for writing to learn when the attempt is over, then call `sockit_socket_connect`
/// again: it continues the same attempt (`host` and `port` are used only if it must
/// start over, after a read or write saw it fail) and returns `SOCKIT_OK` once connected,
/// `SOCKIT_TIMEOUT` while it is still in progress (waiting as the timeouts allow), or the
/// attempt's error (the next address is tried first, if any; after the last one the
/// socket is a master again). On a connected client it returns `SOCKIT_ISCONN`
/// ("already connected"). Reads and writes on a connecting socket wait for the connect
/// as their timeouts allow and report its failure. Blocks during name resolution and
/// while connecting, within the timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_connect(
    s: *mut sockit_socket,
    host: *const c_char,
    port: c_int,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        sockit_socket::with(s, |sock| sock.connect(host, port))
    })
}

/// Connects a Unix master to the socket at `path`; on success it becomes a client.
/// Waits within the socket's timeouts only while the listener's queue is full.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_connect_path(
    s: *mut sockit_socket,
    path: *const c_char,
) -> sockit_status {
    guard(|| {
        let path = path_arg(path, "path")?;
        sockit_socket::with(s, |sock| sock.connect_path(path))
    })
}

// ----- server operations --------------------------------------------------------------

/// Waits for a connection on a server, within the server's timeouts, and hands it out
/// as a new client in `*client` (owned by the caller; non-blocking, close-on-exec, no
/// timeouts). `SOCKIT_TIMEOUT` when the time runs out. Signals (EINTR) are retried.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_accept(
    s: *mut sockit_socket,
    client: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let client = handle_out(client, "client")?;
        let c = sockit_socket::with(s, |sock| sock.accept())?;
        give(client, c);
        Ok(())
    })
}

/// Accepts a waiting connection without waiting (Moonbridge's `accept_nb`):
/// `SOCKIT_WOULDBLOCK` when none is waiting. Otherwise as `sockit_socket_accept`.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_accept_nb(
    s: *mut sockit_socket,
    client: *mut *mut sockit_socket,
) -> sockit_status {
    guard(|| {
        let client = handle_out(client, "client")?;
        let c = sockit_socket::with(s, |sock| sock.accept_nb())?;
        give(client, c);
        Ok(())
    })
}

// ----- timeouts -----------------------------------------------------------------------

/// Sets one of the socket's timeouts, in seconds (negative = no limit, 0 = never wait).
/// `mode` is LuaSocket's: NULL or "b" for the block timeout (each wait), "t" (LuaSocket
/// 2+) or "r" (1.3b) for the total timeout (the whole call). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_settimeout(
    s: *mut sockit_socket,
    secs: f64,
    mode: *const c_char,
) -> sockit_status {
    guard(|| {
        let mode = timeout_mode_arg(mode)?;
        sockit_socket::with(s, |sock| {
            sock.set_timeout(mode, secs);
            Ok(())
        })
    })
}

/// The socket's block and total timeouts in seconds (-1 = no limit); either out pointer
/// may be NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_gettimeout(
    s: *mut sockit_socket,
    block: *mut f64,
    total: *mut f64,
) -> sockit_status {
    guard(|| {
        let t = sockit_socket::with(s, |sock| Ok(sock.timeout()))?;
        put_timeout(&t, block, total);
        Ok(())
    })
}

// ----- LuaSocket I/O ------------------------------------------------------------------

/// Sends `len` bytes of `data` on a client (LuaSocket's `send`), waiting within the
/// socket's timeouts until the kernel has taken them all. `*sent` (may be NULL) gets the
/// number of bytes taken, also on failure: `SOCKIT_TIMEOUT`, or `SOCKIT_CLOSED` when the
/// peer has gone (never a SIGPIPE).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_send(
    s: *mut sockit_socket,
    data: *const u8,
    len: usize,
    sent: *mut usize,
) -> sockit_status {
    put(sent, 0);
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_socket::with(s, |sock| {
            let (n, r) = sock.stream()?.send(data);
            put(sent, n);
            r
        })
    })
}

/// LuaSocket 2's `send(data, i, j)`: sends bytes `i`..`j` of `data` (1-based,
/// inclusive; negative values count from the end, -1 being the last byte; `i` below 1 is
/// 1, `j` past the end is the end). `*last` (may be NULL) gets the index of the last byte
/// sent, also on failure (`i - 1` when nothing was sent). Blocks like
/// `sockit_socket_send`.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_send_range(
    s: *mut sockit_socket,
    data: *const u8,
    len: usize,
    i: c_long,
    j: c_long,
    last: *mut c_long,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        let size = len as i64;
        // `long` is 32 bits on some targets: widen explicitly.
        #[allow(clippy::useless_conversion)]
        let (mut start, mut end) = (i64::from(i), i64::from(j));
        if start < 0 {
            start += size + 1;
        }
        if end < 0 {
            end += size + 1;
        }
        start = start.max(1);
        end = end.min(size);
        put(last, (start - 1) as c_long);
        sockit_socket::with(s, |sock| {
            let stream = sock.stream()?;
            if start > end {
                return Ok(());
            }
            let (n, r) = stream.send(&data[(start - 1) as usize..end as usize]);
            put(last, (n as i64 + start - 1) as c_long);
            r
        })
    })
}

/// Receives by a LuaSocket pattern into `out`: `out` is cleared, then gets `prefix`
/// (`prefix_len` bytes, may be NULL when 0) followed by the data. Patterns:
/// `SOCKIT_PATTERN_LINE` (2/3 "*l"), `_LINE_CRLF13` (1.3b "*l"), `_LINE_RAW` (1.3b
/// "*lu"), `_WORD` (1.3b "*w"), `_ALL` ("*a"), `_COUNT` (`count` bytes; `count` is
/// ignored by the others). Blocks within the socket's timeouts. On `SOCKIT_TIMEOUT` or
/// `SOCKIT_CLOSED` the data received so far is in `out` (LuaSocket's partial result);
/// "*a" returns `SOCKIT_OK` when the peer closes.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_receive(
    s: *mut sockit_socket,
    pattern: sockit_pattern,
    count: usize,
    prefix: *const u8,
    prefix_len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let prefix = bytes_arg(prefix, prefix_len, "prefix")?;
        let pat = match pattern {
            SOCKIT_PATTERN_LINE => Pattern::Line(LineMode::StripAllCr),
            SOCKIT_PATTERN_LINE_CRLF13 => Pattern::Line(LineMode::StripCrBeforeLf),
            SOCKIT_PATTERN_LINE_RAW => Pattern::Line(LineMode::Raw),
            SOCKIT_PATTERN_WORD => Pattern::Word,
            SOCKIT_PATTERN_ALL => Pattern::All,
            SOCKIT_PATTERN_COUNT => Pattern::Count(count),
            _ => {
                return Err(Error::invalid(format!(
                    "pattern {pattern} is not a SOCKIT_PATTERN_* value"
                )))
            }
        };
        with_out(out, |v| {
            v.extend_from_slice(prefix);
            sockit_socket::with(s, |sock| sock.stream()?.receive(pat, v))
        })
    })
}

/// Looks at the complete lines a client already holds in its read buffer, without
/// consuming them and without reading. For up to `max` lines, in order, line `k` is
/// `data[k]` / `len[k]` as `pattern` (`SOCKIT_PATTERN_LINE`, `_LINE_CRLF13` or
/// `_LINE_RAW`) would return it (no LF; a CR before it dropped as the pattern says), and
/// `size[k]` is the bytes it occupies in the input, its end of line included; `*n` gets
/// the count. It stops early before a line the pattern would have to change in the
/// middle (a CR inside a `SOCKIT_PATTERN_LINE` line, other than one right before the LF)
/// and before an incomplete line; `sockit_socket_receive` returns those. `*n` is 0 when
/// nothing complete is buffered (and after any failure); a closed socket gives
/// `SOCKIT_CLOSED`. Moving past `k` lines is `sockit_socket_consume` of the sum of their
/// sizes.
///
/// This is the zero-copy way to read many short lines: one call hands out every buffered
/// line, where `sockit_socket_receive` takes the socket's lock and copies once per line.
/// (Three arrays rather than an array of structs, so that no struct layout becomes part
/// of the ABI.) The `data` pointers point into the socket's read buffer and stay valid
/// until the next call on `s` other than `sockit_socket_peek_lines` (any call that
/// reads, consumes, closes or frees may move or reuse that memory), so a socket used from
/// several threads needs the caller's own lock around the peek and the use of its lines.
/// The arrays may be NULL when `max` is 0. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_peek_lines(
    s: *mut sockit_socket,
    pattern: sockit_pattern,
    data: *mut *const u8,
    len: *mut usize,
    size: *mut usize,
    max: usize,
    n: *mut usize,
) -> sockit_status {
    guard(|| {
        let n = out_arg(n, "n")?;
        *n = 0;
        let mode = match pattern {
            SOCKIT_PATTERN_LINE => LineMode::StripAllCr,
            SOCKIT_PATTERN_LINE_CRLF13 => LineMode::StripCrBeforeLf,
            SOCKIT_PATTERN_LINE_RAW => LineMode::Raw,
            _ => {
                return Err(Error::invalid(format!(
                    "pattern {pattern} is not a SOCKIT_PATTERN_LINE* value"
                )))
            }
        };
        if max == 0 {
            return sockit_socket::with(s, |sock| sock.stream().map(|_| ()));
        }
        for (p, name) in [
            (data.is_null(), "data"),
            (len.is_null(), "len"),
            (size.is_null(), "size"),
        ] {
            if p {
                return Err(Error::invalid(format!("{name} is NULL but max is {max}")));
            }
        }
        if max > isize::MAX as usize / std::mem::size_of::<usize>() {
            return Err(Error::invalid(format!("max {max} is too large")));
        }
        let data = std::slice::from_raw_parts_mut(data, max);
        let len = std::slice::from_raw_parts_mut(len, max);
        let size = std::slice::from_raw_parts_mut(size, max);
        *n = sockit_socket::with(s, |sock| {
            let mut k = 0;
            Ok(sock.stream()?.peek_lines(mode, max, |line, bytes| {
                data[k] = line.as_ptr();
                len[k] = line.len();
                size[k] = bytes;
                k += 1;
            }))
        })?;
        Ok(())
    })
}

/// Drops the first `n` bytes of a client's read buffer, as if a read had returned them
/// (after `sockit_socket_peek_lines`: the sum of the sizes of the lines used). `n`
/// larger than what is buffered is `SOCKIT_INVALID` and consumes nothing; a closed socket
/// gives `SOCKIT_CLOSED`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_consume(s: *mut sockit_socket, n: usize) -> sockit_status {
    guard(|| {
        sockit_socket::with(s, |sock| {
            let st = sock.stream()?;
            let have = st.buffered().len();
            if n > have {
                return Err(Error::invalid(format!(
                    "cannot consume {n} bytes: {have} are buffered"
                )));
            }
            st.consume(n);
            Ok(())
        })
    })
}

// ----- Moonbridge reads ---------------------------------------------------------------

unsafe fn read_with(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    out: *mut sockit_buffer,
    end: *mut sockit_read_end,
    how: impl FnOnce(
        &mut crate::io::stream::Stream,
        Option<usize>,
        Option<u8>,
        &mut Vec<u8>,
    ) -> Result<ReadEnd>,
) -> sockit_status {
    guard(|| {
        let term = term_arg(terminator)?;
        let end = out_arg(end, "end")?;
        let e = with_out(out, |v| {
            sockit_socket::with(s, |sock| how(sock.stream()?, maxlen_arg(maxlen), term, v))
        })?;
        *end = e.into();
        Ok(())
    })
}

/// Moonbridge's `read(maxlen, terminator)`: `out` is cleared, then gets up to `maxlen`
/// bytes (`SIZE_MAX` = no limit) or up to and including the byte `terminator` (-1 =
/// none), whichever comes first; `*end` says which (`SOCKIT_READ_TERM`,
/// `SOCKIT_READ_MAXLEN`, or `SOCKIT_READ_EOF` when the peer closed first; `SOCKIT_OK` in
/// each case). Blocks within the socket's timeouts; on `SOCKIT_TIMEOUT` or another error
/// the bytes read so far are in `out` (and stay consumed).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_read(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    out: *mut sockit_buffer,
    end: *mut sockit_read_end,
) -> sockit_status {
    read_with(s, maxlen, terminator, out, end, |st, m, t, v| {
        st.read(m, t, Wait::Timeout, v)
    })
}

/// Moonbridge's `read_nb`: as `sockit_socket_read` without blocking; when it would block
/// `*end` is `SOCKIT_READ_BLOCK` and `out` holds what could be read (`SOCKIT_OK`).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_read_nb(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    out: *mut sockit_buffer,
    end: *mut sockit_read_end,
) -> sockit_status {
    read_with(s, maxlen, terminator, out, end, |st, m, t, v| {
        st.read(m, t, Wait::NonBlocking, v)
    })
}

/// Moonbridge's `read_call`: as `sockit_socket_read`, but each time the read would block
/// `wait(userdata, fd, SOCKIT_WAIT_READ)` is called (in a loop) instead of waiting; the
/// socket's timeouts do not apply. A non-zero return aborts with `SOCKIT_ABORTED` (data
/// read so far in `out`). See `sockit_wait_fn` for what the callback may do.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_read_call(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    wait: sockit_wait_fn,
    userdata: *mut c_void,
    out: *mut sockit_buffer,
    end: *mut sockit_read_end,
) -> sockit_status {
    read_with(s, maxlen, terminator, out, end, |st, m, t, v| {
        let fd = st.fd().unwrap_or(-1);
        call_wait(wait, userdata, fd, |w| st.read(m, t, w, v))
    })
}

unsafe fn drain_with(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    count: *mut usize,
    end: *mut sockit_read_end,
    how: impl FnOnce(
        &mut crate::io::stream::Stream,
        Option<usize>,
        Option<u8>,
    ) -> Result<(usize, ReadEnd)>,
) -> sockit_status {
    put(count, 0);
    guard(|| {
        let term = term_arg(terminator)?;
        let end = out_arg(end, "end")?;
        let (n, e) = sockit_socket::with(s, |sock| how(sock.stream()?, maxlen_arg(maxlen), term))?;
        put(count, n);
        *end = e.into();
        Ok(())
    })
}

/// Moonbridge's `drain(maxlen, terminator)`: as `sockit_socket_read` but the bytes are
/// discarded; `*count` (may be NULL) gets how many. Blocks within the socket's timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_drain(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    count: *mut usize,
    end: *mut sockit_read_end,
) -> sockit_status {
    drain_with(s, maxlen, terminator, count, end, |st, m, t| {
        st.drain(m, t, Wait::Timeout)
    })
}

/// Moonbridge's `drain_nb`: as `sockit_socket_drain` without blocking (`*end` may be
/// `SOCKIT_READ_BLOCK`).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_drain_nb(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    count: *mut usize,
    end: *mut sockit_read_end,
) -> sockit_status {
    drain_with(s, maxlen, terminator, count, end, |st, m, t| {
        st.drain(m, t, Wait::NonBlocking)
    })
}

/// Moonbridge's `drain_call`: as `sockit_socket_drain`, calling `wait` whenever it would
/// block (see `sockit_socket_read_call`).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_drain_call(
    s: *mut sockit_socket,
    maxlen: usize,
    terminator: c_int,
    wait: sockit_wait_fn,
    userdata: *mut c_void,
    count: *mut usize,
    end: *mut sockit_read_end,
) -> sockit_status {
    drain_with(s, maxlen, terminator, count, end, |st, m, t| {
        let fd = st.fd().unwrap_or(-1);
        call_wait(wait, userdata, fd, |w| st.drain(m, t, w))
    })
}

// ----- Moonbridge writes --------------------------------------------------------------

/// Moonbridge's `write`: appends `len` bytes of `data` to the socket's write buffer and
/// sends what it can; when the buffer is large it waits (within the socket's timeouts)
/// until the kernel takes more. Call `sockit_socket_flush` (or finish / close) to push the
/// rest out. `SOCKIT_CLOSED` when the peer has gone (never a SIGPIPE).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_write(
    s: *mut sockit_socket,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_socket::with(s, |sock| sock.stream()?.write(data, Wait::Timeout))
    })
}

/// Moonbridge's `write_nb`: appends `data` to the write buffer and sends what the kernel
/// takes now, never blocking. `*pending` (may be NULL) gets the bytes still buffered.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_write_nb(
    s: *mut sockit_socket,
    data: *const u8,
    len: usize,
    pending: *mut usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        let n = sockit_socket::with(s, |sock| sock.stream()?.write_nb(data))?;
        put(pending, n);
        Ok(())
    })
}

/// Moonbridge's `write_call`: as `sockit_socket_write`, calling `wait(userdata, fd,
/// SOCKIT_WAIT_WRITE)` whenever it would block (see `sockit_wait_fn`).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_write_call(
    s: *mut sockit_socket,
    data: *const u8,
    len: usize,
    wait: sockit_wait_fn,
    userdata: *mut c_void,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_socket::with(s, |sock| {
            let st = sock.stream()?;
            let fd = st.fd().unwrap_or(-1);
            call_wait(wait, userdata, fd, |w| st.write(data, w))
        })
    })
}

/// Moonbridge's `flush`: sends everything in the write buffer, waiting within the
/// socket's timeouts. On `SOCKIT_TIMEOUT` the rest stays buffered.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_flush(s: *mut sockit_socket) -> sockit_status {
    guard(|| sockit_socket::with(s, |sock| sock.stream()?.flush(Wait::Timeout).map(|_| ())))
}

/// Moonbridge's `flush_nb`: sends what the kernel takes now, never blocking;
/// `*pending` (may be NULL) gets the bytes still buffered (0 = all sent).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_flush_nb(
    s: *mut sockit_socket,
    pending: *mut usize,
) -> sockit_status {
    guard(|| {
        let n = sockit_socket::with(s, |sock| sock.stream()?.flush(Wait::NonBlocking))?;
        put(pending, n);
        Ok(())
    })
}

/// Moonbridge's `flush_call`: as `sockit_socket_flush`, calling `wait` whenever it would
/// block (see `sockit_wait_fn`).
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_flush_call(
    s: *mut sockit_socket,
    wait: sockit_wait_fn,
    userdata: *mut c_void,
) -> sockit_status {
    guard(|| {
        sockit_socket::with(s, |sock| {
            let st = sock.stream()?;
            let fd = st.fd().unwrap_or(-1);
            call_wait(wait, userdata, fd, |w| st.flush(w).map(|_| ()))
        })
    })
}

/// Moonbridge's `finish`: flushes (within the socket's timeouts), then shuts the sending
/// side down so the peer reads end of stream; reading goes on. (For Unix sockets, as in
/// Moonbridge, input then reads as end of stream.)
/// Blocks while flushing, within the socket's timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_finish(s: *mut sockit_socket) -> sockit_status {
    guard(|| sockit_socket::with(s, |sock| sock.stream()?.finish(Wait::Timeout)))
}

/// Shuts down one or both directions of a client (`SOCKIT_SHUTDOWN_READ`, `_WRITE`,
/// `_BOTH`). Buffered output is not flushed (use `sockit_socket_finish` for that).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_shutdown(
    s: *mut sockit_socket,
    how: sockit_shutdown_how,
) -> sockit_status {
    guard(|| {
        let how = match how {
            SOCKIT_SHUTDOWN_READ => Shutdown::Read,
            SOCKIT_SHUTDOWN_WRITE => Shutdown::Write,
            SOCKIT_SHUTDOWN_BOTH => Shutdown::Both,
            _ => {
                return Err(Error::invalid(format!(
                    "how {how} is not a SOCKIT_SHUTDOWN_* value"
                )))
            }
        };
        sockit_socket::with(s, |sock| sock.shutdown(how))
    })
}

// ----- closing ------------------------------------------------------------------------

/// Closes the socket: a client first flushes its write buffer (waiting within its
/// timeouts). Closing a closed socket returns `SOCKIT_OK`. The socket is closed even when
/// the flush fails (that status is returned). A Unix listener's file is not removed.
/// The handle stays valid until `sockit_socket_free`.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_close(s: *mut sockit_socket) -> sockit_status {
    guard(|| sockit_socket::with(s, |sock| sock.close()))
}

/// Closes a client abruptly (Moonbridge's `reset`): buffered output is dropped and the
/// peer sees a connection reset (SO_LINGER 0). Other states just close. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_reset(s: *mut sockit_socket) -> sockit_status {
    guard(|| sockit_socket::with(s, |sock| sock.reset()))
}

/// Frees the socket, closing it first if needed (without flushing buffered Moonbridge
/// output: call `sockit_socket_close` for that). NULL or an already freed socket is
/// ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_free(s: *mut sockit_socket) {
    sockit_socket::free(s)
}

// ----- names --------------------------------------------------------------------------

fn put_address(
    a: &Address,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> Result<()> {
    // SAFETY: out pointers are checked by the callers' contract (NULL allowed).
    unsafe {
        put_text(addr, a.text().as_bytes())?;
        put(port, a.port());
        put(family, family_out(Some(a.family())));
    }
    Ok(())
}

/// The local address (LuaSocket's `getsockname`): `addr` (may be NULL) gets the address
/// as text ("127.0.0.1", "::1", or a Unix path; read it with `sockit_buffer_cstr`),
/// `*port` the port (0 for Unix), `*family` the family; each out pointer may be NULL.
/// Never blocks. `SOCKIT_CLOSED` on a closed socket.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getsockname(
    s: *mut sockit_socket,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> sockit_status {
    guard(|| {
        let a = sockit_socket::with(s, |sock| sock.sockname())?;
        put_address(&a, addr, port, family)
    })
}

/// The peer's address (LuaSocket's `getpeername`), with out parameters as
/// `sockit_socket_getsockname`. `SOCKIT_CLOSED` ("not connected") for a socket that is
/// not connected. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getpeername(
    s: *mut sockit_socket,
    addr: *mut sockit_buffer,
    port: *mut u16,
    family: *mut sockit_family,
) -> sockit_status {
    guard(|| {
        let a = sockit_socket::with(s, |sock| sock.peername())?;
        put_address(&a, addr, port, family)
    })
}

fn put_raw(a: &Address, raw: *mut sockit_buffer, port: *mut u16) -> Result<()> {
    let ip = a
        .ip()
        .ok_or_else(|| Error::invalid("a unix socket has no IP address"))?;
    // SAFETY: raw is checked by sockit_buffer::with; port may be NULL.
    unsafe {
        sockit_buffer::with(raw, |v| {
            v.clear();
            match ip {
                IpAddr::V4(x) => v.extend_from_slice(&x.octets()),
                IpAddr::V6(x) => v.extend_from_slice(&x.octets()),
            }
            Ok(())
        })?;
        put(port, a.port());
    }
    Ok(())
}

/// Moonbridge's `local_ip4` / `local_ip6` and `local_tcpport`: `raw` gets the local IP
/// address as 4 (IPv4) or 16 (IPv6) raw bytes, `*port` (may be NULL) the port.
/// `SOCKIT_INVALID` for a Unix socket. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_local_ip_raw(
    s: *mut sockit_socket,
    raw: *mut sockit_buffer,
    port: *mut u16,
) -> sockit_status {
    guard(|| {
        let a = sockit_socket::with(s, |sock| sock.sockname())?;
        put_raw(&a, raw, port)
    })
}

/// Moonbridge's `remote_ip4` / `remote_ip6` and `remote_tcpport`: as
/// `sockit_socket_local_ip_raw` for the peer's address. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_remote_ip_raw(
    s: *mut sockit_socket,
    raw: *mut sockit_buffer,
    port: *mut u16,
) -> sockit_status {
    guard(|| {
        let a = sockit_socket::with(s, |sock| sock.peername())?;
        put_raw(&a, raw, port)
    })
}

// ----- options ------------------------------------------------------------------------

/// Sets the option `name` (LuaSocket 3's names: "keepalive", "reuseaddr", "reuseport",
/// "tcp-nodelay", "sndbuf", "rcvbuf", "ipv6-v6only", "dontroute", ...; booleans take 0 or
/// 1; "linger" takes its seconds, negative = off) to `value`. On a TCP master of family
/// any that has no descriptor yet the option is kept and applied at bind or connect.
/// Never blocks. `SOCKIT_INVALID` for an unknown name or a bad value.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_setoption_int(
    s: *mut sockit_socket,
    name: *const c_char,
    value: i64,
) -> sockit_status {
    guard(|| {
        let opt = opts::option_arg(name)?;
        let value = opts::int_to_value(opt, value)?;
        sockit_socket::with(s, |sock| sock.set_option(opt.name(), value))
    })
}

/// Reads the option `name` into `*value`: booleans as 0 / 1, "linger" as its seconds
/// (-1 when off), "error" as the pending errno (reading clears it). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getoption_int(
    s: *mut sockit_socket,
    name: *const c_char,
    value: *mut i64,
) -> sockit_status {
    guard(|| {
        let value = out_arg(value, "value")?;
        let opt = opts::option_arg(name)?;
        *value = opts::value_to_int(sockit_socket::with(s, |sock| sock.get_option(opt.name()))?);
        Ok(())
    })
}

/// Sets SO_LINGER: with `on`, close waits up to `secs` seconds for unsent data (0 =
/// reset at close). Never blocks. `SOCKIT_INVALID` for negative `secs`.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_setoption_linger(
    s: *mut sockit_socket,
    on: bool,
    secs: c_int,
) -> sockit_status {
    guard(|| {
        let value = opts::linger_value(on, secs as i64)?;
        sockit_socket::with(s, |sock| sock.set_option("linger", value))
    })
}

/// Reads SO_LINGER into `*on` and `*secs` (either may be NULL). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getoption_linger(
    s: *mut sockit_socket,
    on: *mut bool,
    secs: *mut c_int,
) -> sockit_status {
    guard(|| {
        let v = sockit_socket::with(s, |sock| sock.get_option("linger"))?;
        let (o, n) = match v {
            OptValue::Linger { on, secs } => (on, secs),
            other => (other.as_int() >= 0, other.as_int().max(0) as u32),
        };
        put(on, o);
        put(secs, n.min(c_int::MAX as u32) as c_int);
        Ok(())
    })
}

// ----- statistics and state -----------------------------------------------------------

/// LuaSocket's `getstats`: bytes received (as LuaSocket counts them: those the receiving
/// calls returned, not those still buffered), bytes sent, and the object's age in
/// seconds; each out pointer may be NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getstats(
    s: *mut sockit_socket,
    received: *mut f64,
    sent: *mut f64,
    age: *mut f64,
) -> sockit_status {
    guard(|| {
        let (r, w, a) = sockit_socket::with(s, |sock| Ok(sock.stats()))?;
        put(received, r as f64);
        put(sent, w as f64);
        put(age, a);
        Ok(())
    })
}

/// LuaSocket's `setstats`: resets the byte counters and the age (seconds).
/// `SOCKIT_INVALID` for negative or non-finite values. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_setstats(
    s: *mut sockit_socket,
    received: f64,
    sent: f64,
    age: f64,
) -> sockit_status {
    guard(|| {
        for (v, n) in [(received, "received"), (sent, "sent"), (age, "age")] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid(format!(
                    "{n} {v} is not a non-negative number"
                )));
            }
        }
        sockit_socket::with(s, |sock| {
            sock.set_stats(received as u64, sent as u64, age);
            Ok(())
        })
    })
}

/// The socket's descriptor in `*fd` (LuaSocket's `getfd`): -1 when closed (or for a TCP
/// master of family any that has no descriptor yet). The socket keeps owning it.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_getfd(
    s: *mut sockit_socket,
    fd: *mut c_int,
) -> sockit_status {
    guard(|| {
        let fd = out_arg(fd, "fd")?;
        *fd = sockit_socket::with(s, |sock| Ok(sock.fd().unwrap_or(-1)))?;
        Ok(())
    })
}

/// Checks the descriptor argument of a setfd: -1 (none) or a descriptor.
pub(crate) fn check_fd_arg(fd: c_int) -> Result<()> {
    if fd < -1 {
        return Err(Error::invalid(format!(
            "fd {fd} is neither a descriptor nor -1"
        )));
    }
    Ok(())
}

/// Lends `fd` (checked by [`check_fd_arg`]) to a core `set_fd` as owned, then releases
/// WITHOUT closing whatever comes back: the object's previous descriptor, or `fd` itself
/// when it was refused. The caller keeps those.
///
/// # Safety
/// `fd` must be -1 or a descriptor the caller hands over.
pub(crate) unsafe fn set_fd_with(
    fd: c_int,
    set: impl FnOnce(Option<OwnedFd>) -> SetFdResult,
) -> Result<()> {
    let given = (fd >= 0).then(|| OwnedFd::from_raw_fd(fd));
    let (result, back) = match set(given) {
        Ok(old) => (Ok(()), old),
        Err((e, given)) => (Err(e), given),
    };
    if let Some(fd) = back {
        let _ = fd.into_raw_fd();
    }
    result
}

/// LuaSocket's `setfd`: the socket now uses descriptor `fd`, which it takes over (it is
/// made non-blocking and closed by `sockit_socket_close`/`sockit_socket_free` later). The
/// descriptor it held before is released WITHOUT being closed (as LuaSocket's `setfd`
/// does): the caller keeps it and closes it. `fd` -1 detaches: the socket no longer has a
/// descriptor and reads as closed (`sockit_socket_getfd` gives -1, I/O
/// `SOCKIT_CLOSED`), nothing is closed, and a later `setfd` gives it one again. Buffered
/// input and output of the old descriptor are dropped. The state stays: a client stays a
/// client (on the new descriptor, with its timeouts and statistics), a server a server, a
/// master a master. `fd` below -1, or a NULL or freed handle: `SOCKIT_INVALID`; a closed
/// socket: `SOCKIT_CLOSED` (`fd` -1 on it does nothing); an `fd` that cannot be made
/// non-blocking (for example one that is not open): `SOCKIT_INVALID` or `SOCKIT_SYSTEM`.
/// On failure `fd` is not taken (the caller still owns it) and the socket is unchanged.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_setfd(s: *mut sockit_socket, fd: c_int) -> sockit_status {
    guard(|| {
        check_fd_arg(fd)?;
        sockit_socket::with(s, |sock| set_fd_with(fd, |f| sock.set_fd(f)))
    })
}

/// LuaSocket's `dirty`: `*dirty` is true when received data is buffered in the socket,
/// so a read returns without asking the kernel (select treats the socket as readable).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_dirty(
    s: *mut sockit_socket,
    dirty: *mut bool,
) -> sockit_status {
    guard(|| {
        let dirty = out_arg(dirty, "dirty")?;
        *dirty = sockit_socket::with(s, |sock| Ok(sock.dirty()))?;
        Ok(())
    })
}

/// The socket's state in `*state` (master, client, server, closed). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_state(
    s: *mut sockit_socket,
    state: *mut sockit_state,
) -> sockit_status {
    guard(|| {
        let state = out_arg(state, "state")?;
        *state = match sockit_socket::with(s, |sock| Ok(sock.state()))? {
            State::Master => sockit_state::SOCKIT_STATE_MASTER,
            State::Client => sockit_state::SOCKIT_STATE_CLIENT,
            State::Server => sockit_state::SOCKIT_STATE_SERVER,
            State::Closed => sockit_state::SOCKIT_STATE_CLOSED,
            State::Connecting => sockit_state::SOCKIT_STATE_CONNECTING,
        };
        Ok(())
    })
}

/// The socket's family in `*family`: `SOCKIT_FAMILY_INET`, `_INET6`, `_UNIX`, or
/// `_ANY` for a TCP master that has no descriptor yet. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_socket_family(
    s: *mut sockit_socket,
    family: *mut sockit_family,
) -> sockit_status {
    guard(|| {
        let family = out_arg(family, "family")?;
        *family = family_out(sockit_socket::with(s, |sock| Ok(sock.family()))?);
        Ok(())
    })
}

//! `sockit_tp`: a command/reply connection (LuaSocket's `socket.tp`), the generic interface
//! under FTP and SMTP: send a command, read a (possibly multi-line) reply, check its code.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, opt_str_arg, port_arg, put, put_text, str_arg};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::io::timeout::Timeout;
use crate::proto::conn::{TcpConn, Transport};
use crate::proto::tp::{check_pattern, Reply, Tp};
use std::ffi::{c_char, c_int};

/// A command/reply connection to a line-protocol server (FTP, SMTP, POP...). Owned by the
/// caller: `sockit_tp_close` closes it (idempotent), `sockit_tp_free` releases it.
/// Calls on one connection are serialised.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_tp(Shell<Tp<TcpConn>>);
impl_handle!(sockit_tp, Tp<TcpConn>, "tp");

/// The reply half of `sockit_tp_check` and `sockit_ftp_command`: checks the `expect`
/// pattern (NULL accepts any) before `get` reads the reply, writes the code to `*code`
/// and the text to `reply` (both optional) whether or not it matched, and turns a reply
/// that does not match into its error.
pub(super) unsafe fn checked_reply(
    expect: *const c_char,
    code: *mut c_int,
    reply: *mut sockit_buffer,
    get: impl FnOnce() -> Result<Reply>,
) -> Result<()> {
    let expect = opt_str_arg(expect, "expect")?;
    if let Some(p) = expect {
        check_pattern(p)?;
    }
    let r = get()?;
    put(code, r.code as c_int);
    put_text(reply, r.text.as_bytes())?;
    match expect {
        Some(p) if !r.matches(p) => Err(r.into_error()),
        _ => Ok(()),
    }
}

/// Connects to `host`:`port` (every resolved address in turn) and hands the connection
/// out in `*out` (owned by the caller). `timeout` is in seconds and bounds each wait, the
/// connect included (negative = wait forever). The server's greeting is not read: call
/// `sockit_tp_check`. Blocks while resolving and connecting.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_connect(
    host: *const c_char,
    port: c_int,
    timeout: f64,
    out: *mut *mut sockit_tp,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        let conn = TcpConn::connect(host, port, Timeout::from_secs(timeout, -1.0))?;
        *out = sockit_tp::new(Tp::new(conn));
        Ok(())
    })
}

/// Sets the timeouts in seconds (negative = forever): `block` bounds each wait, `total`
/// every wait from now on together. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_settimeout(
    tp: *mut sockit_tp,
    block: f64,
    total: f64,
) -> sockit_status {
    guard(|| {
        sockit_tp::with(tp, |tp| {
            tp.io().set_timeout(Timeout::from_secs(block, total));
            Ok(())
        })
    })
}

/// Sends the command `verb` (sent upper-cased) with an optional argument `arg` (NULL for
/// none) as one line. `SOCKIT_INVALID` without sending anything when either contains CR,
/// LF or NUL, or the verb is empty or has a space. Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_command(
    tp: *mut sockit_tp,
    verb: *const c_char,
    arg: *const c_char,
) -> sockit_status {
    guard(|| {
        let verb = str_arg(verb, "verb")?;
        let arg = opt_str_arg(arg, "arg")?;
        sockit_tp::with(tp, |tp| tp.command(verb, arg))
    })
}

/// Sends raw bytes (for example a message body already dot-stuffed). Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_send(
    tp: *mut sockit_tp,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_tp::with(tp, |tp| tp.io().send_all(data))
    })
}

/// Reads one reply (all lines of a multi-line reply) and checks its code against
/// `expect`: patterns of three digits or '.' separated by spaces, commas or '|' ("2..",
/// "250", "2.. 3.."); NULL accepts any code. The code goes to `*code` and the reply text
/// (lines joined with "\n") to `reply` (both optional, NULL = not wanted) whether or not
/// it matched. A reply that does not match gives `SOCKIT_PROTOCOL` with the reply text as
/// the error message; a malformed reply `SOCKIT_PROTOCOL` too. Blocks until the reply
/// arrives or the timeout expires.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_check(
    tp: *mut sockit_tp,
    expect: *const c_char,
    code: *mut c_int,
    reply: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        checked_reply(expect, code, reply, || {
            sockit_tp::with(tp, |tp| tp.get_reply())
        })
    })
}

/// The server's address: the IP as text into `ip` (optional) and the port into `*port`
/// (optional). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_peer(
    tp: *mut sockit_tp,
    ip: *mut sockit_buffer,
    port: *mut c_int,
) -> sockit_status {
    guard(|| {
        let peer = sockit_tp::with(tp, |tp| Ok(tp.io().peer()))?;
        put(port, peer.port() as c_int);
        put_text(ip, peer.ip().to_string().as_bytes())
    })
}

/// Closes the connection (idempotent; the handle stays valid until freed). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_close(tp: *mut sockit_tp) -> sockit_status {
    guard(|| {
        sockit_tp::with(tp, |tp| {
            tp.io().close();
            Ok(())
        })
    })
}

/// Closes and releases the connection. NULL or an already freed handle is ignored.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_tp_free(tp: *mut sockit_tp) {
    sockit_tp::free(tp)
}

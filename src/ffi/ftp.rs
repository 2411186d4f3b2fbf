//! `sockit_ftp`: FTP get and put by URL (LuaSocket 1.3b's `ftp_get` / `ftp_put` and
//! their indirect forms, LuaSocket 3's `ftp.get` / `ftp.put`), and sessions for
//! everything else (LuaSocket 3's generic `ftp.command` and data commands).
//!
//! The 1.3b indirect forms pass `sockit_sink_receive_cb` as the sink of `sockit_ftp_get`
//! and `sockit_source_send_cb` as the source of `sockit_ftp_put_source`.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{
    bytes_arg, guard, handle_out, opt_str_arg, port_arg, put, put_bytes, put_text, str_arg,
};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::ltn12::take_source;
use super::ltn12::{sockit_sink, sockit_source};
use super::status::sockit_status;
use super::tp::checked_reply;
use crate::error::{Error, Result};
use crate::io::timeout::Timeout;
use crate::ltn12::source::BytesSource;
use crate::ltn12::Sink;
use crate::proto::ftp::{self, DataMode, Options, Session, TransferType};
use std::ffi::{c_char, c_int};

/// Flag: active mode (the server connects back: EPRT, then PORT) instead of passive.
pub const SOCKIT_FTP_ACTIVE: c_int = 1;
/// Flag: in passive mode, connect to the address a PASV reply names rather than to the
/// control connection's peer (unsafe with untrusted servers; off by default).
pub const SOCKIT_FTP_TRUST_PASV: c_int = 2;

/// An FTP session (a control connection). Owned by the caller: `sockit_ftp_quit` says
/// goodbye and closes it, `sockit_ftp_free` releases it (closing it if needed). Calls on
/// one session are serialised.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_ftp(Shell<Session>);
impl_handle!(sockit_ftp, Session, "ftp session");

fn options(flags: c_int, timeout: f64) -> Result<Options> {
    if flags & !(SOCKIT_FTP_ACTIVE | SOCKIT_FTP_TRUST_PASV) != 0 {
        return Err(Error::invalid(format!("unknown FTP flags {flags:#x}")));
    }
    Ok(Options {
        mode: if flags & SOCKIT_FTP_ACTIVE != 0 {
            DataMode::Active
        } else {
            DataMode::Passive
        },
        trust_pasv_address: flags & SOCKIT_FTP_TRUST_PASV != 0,
        timeout: Timeout::from_secs(timeout, -1.0),
    })
}

unsafe fn type_arg(t: *const c_char) -> Result<Option<TransferType>> {
    opt_str_arg(t, "type")?.map(TransferType::parse).transpose()
}

/// Runs `f` with the caller's sink (borrowed) or, when it is NULL, a vector that is then
/// copied into `out` (cleared first).
unsafe fn with_sink<R>(
    sink: *mut sockit_sink,
    out: *mut sockit_buffer,
    f: impl FnOnce(&mut dyn Sink) -> Result<R>,
) -> Result<R> {
    if !sink.is_null() {
        return sockit_sink::with(sink, |s| f(s));
    }
    if out.is_null() {
        return Err(Error::invalid("sink and out are both NULL"));
    }
    let mut data = Vec::new();
    let r = f(&mut data);
    put_bytes(out, &data)?;
    r
}

// ----- by URL --------------------------------------------------------------------------

/// Downloads `url` ("ftp://[user[:password]@]host[:port]/path[;type=a|i]", "ftp://"
/// optional; anonymous login without user; a path ending in "/" gives the directory
/// listing). `type` "a" (ASCII, the default; line ends become LF), "i" or "b" (binary),
/// or NULL for the URL's. `flags`: `SOCKIT_FTP_ACTIVE`, `SOCKIT_FTP_TRUST_PASV`.
/// `timeout` bounds each wait in seconds (negative = none). The data goes to `sink`
/// (borrowed; chunks, then its end, or the error) or, when `sink` is NULL, into `out`
/// (cleared first; kept partial on failure). `*received` (optional): bytes received.
/// Blocks until done. Errors carry the server's reply ("550 ...") as message, with
/// `SOCKIT_PROTOCOL`.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_get(
    url: *const c_char,
    type_: *const c_char,
    flags: c_int,
    timeout: f64,
    sink: *mut sockit_sink,
    out: *mut sockit_buffer,
    received: *mut u64,
) -> sockit_status {
    guard(|| {
        let url = str_arg(url, "url")?;
        let t = type_arg(type_)?;
        let opts = options(flags, timeout)?;
        let n = with_sink(sink, out, |s| ftp::get(url, t, opts, s))?;
        put(received, n);
        Ok(())
    })
}

/// Uploads the `len` bytes at `data` to `url` (STOR); arguments as `sockit_ftp_get`.
/// ASCII (the default) sends line ends as CRLF. Blocks until the server confirmed.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_put(
    url: *const c_char,
    type_: *const c_char,
    flags: c_int,
    timeout: f64,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let url = str_arg(url, "url")?;
        let t = type_arg(type_)?;
        let opts = options(flags, timeout)?;
        let data = bytes_arg(data, len, "data")?;
        ftp::put(url, t, opts, &mut BytesSource::new(data)).map(|_| ())
    })
}

/// Uploads what `src` produces to `url` (STOR). TAKES `src` (even on failure). Arguments
/// as `sockit_ftp_get`; `*sent` (optional): bytes sent. Blocks until done.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_put_source(
    url: *const c_char,
    type_: *const c_char,
    flags: c_int,
    timeout: f64,
    src: *mut sockit_source,
    sent: *mut u64,
) -> sockit_status {
    guard(|| {
        let mut source = take_source(src, "source")?;
        let url = str_arg(url, "url")?;
        let t = type_arg(type_)?;
        let opts = options(flags, timeout)?;
        let n = ftp::put(url, t, opts, &mut source)?;
        put(sent, n);
        Ok(())
    })
}

// ----- sessions ------------------------------------------------------------------------

/// Connects to the FTP server at `host`:`port` and reads its greeting (into `greeting`,
/// optional). `timeout` bounds each wait, in seconds (negative = none). The session is
/// in `*out`, owned by the caller; log in next. Blocks while connecting.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_open(
    host: *const c_char,
    port: c_int,
    timeout: f64,
    greeting: *mut sockit_buffer,
    out: *mut *mut sockit_ftp,
) -> sockit_status {
    guard(|| {
        let o = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = port_arg(port, "port")?;
        let s = Session::connect(host, port, options(0, timeout)?)?;
        put_text(greeting, s.greeting.text.as_bytes())?;
        *o = sockit_ftp::new(s);
        Ok(())
    })
}

/// Logs in: USER, then PASS when the server asks. A NULL `user` is "anonymous" (with
/// password "anonymous@" unless one is given). Blocks for the replies.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_login(
    ftp: *mut sockit_ftp,
    user: *const c_char,
    password: *const c_char,
) -> sockit_status {
    guard(|| {
        let user = opt_str_arg(user, "user")?;
        let password = opt_str_arg(password, "password")?;
        sockit_ftp::with(ftp, |s| s.login(user, password))
    })
}

/// Sets the data connection flags (`SOCKIT_FTP_ACTIVE`, `SOCKIT_FTP_TRUST_PASV`) and the
/// timeout of each wait in seconds (negative = none). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_set_options(
    ftp: *mut sockit_ftp,
    flags: c_int,
    timeout: f64,
) -> sockit_status {
    guard(|| {
        let o = options(flags, timeout)?;
        sockit_ftp::with(ftp, |s| {
            s.set_options(o);
            Ok(())
        })
    })
}

/// TYPE: "a" (ASCII), "i" or "b" (binary). Blocks for the reply.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_type(
    ftp: *mut sockit_ftp,
    type_: *const c_char,
) -> sockit_status {
    guard(|| {
        let t = TransferType::parse(str_arg(type_, "type")?)?;
        sockit_ftp::with(ftp, |s| s.set_type(t))
    })
}

/// CWD `dir`. Blocks for the reply.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_cwd(ftp: *mut sockit_ftp, dir: *const c_char) -> sockit_status {
    guard(|| {
        let dir = str_arg(dir, "dir")?;
        sockit_ftp::with(ftp, |s| s.cwd(dir))
    })
}

/// Sends any command (`verb` upper-cased, `arg` optional; CR, LF or NUL refused) and
/// reads the reply, checked against `expect` (patterns such as "2..", "250", "2.. 3..";
/// NULL accepts any). Code and reply text (lines joined with "\n") go to `*code` and
/// `reply` (optional) even when the reply does not match, which gives
/// `SOCKIT_PROTOCOL` with the reply as message. Blocks for the reply. For commands that
/// open a data connection use `sockit_ftp_retrieve` / `sockit_ftp_store`.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_command(
    ftp: *mut sockit_ftp,
    verb: *const c_char,
    arg: *const c_char,
    expect: *const c_char,
    code: *mut c_int,
    reply: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let verb = str_arg(verb, "verb")?;
        let arg = opt_str_arg(arg, "arg")?;
        checked_reply(expect, code, reply, || {
            sockit_ftp::with(ftp, |s| s.command(verb, arg, None))
        })
    })
}

/// Runs a data command that brings data (`verb` "RETR", "LIST", "NLST", ... with `arg`
/// optional) over a new data connection (as the session's flags say). With `ascii`
/// non-zero CRLF line ends become LF. The data goes to `sink` (borrowed: chunks, then its
/// end, or the error) or, when `sink` is NULL, into `out` (cleared first). `*received`
/// (optional): bytes received. Blocks until the server confirmed the transfer.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_retrieve(
    ftp: *mut sockit_ftp,
    verb: *const c_char,
    arg: *const c_char,
    ascii: c_int,
    sink: *mut sockit_sink,
    out: *mut sockit_buffer,
    received: *mut u64,
) -> sockit_status {
    guard(|| {
        let verb = str_arg(verb, "verb")?;
        let arg = opt_str_arg(arg, "arg")?;
        let n = sockit_ftp::with(ftp, |s| {
            with_sink(sink, out, |snk| {
                match s.retrieve(verb, arg, ascii != 0, snk) {
                    Ok(n) => {
                        snk.end()?;
                        Ok(n)
                    }
                    Err(e) => {
                        snk.fail(&e);
                        Err(e)
                    }
                }
            })
        })?;
        put(received, n);
        Ok(())
    })
}

/// Runs a data command that sends data (`verb` "STOR", "APPE", ... with `arg`): the `len`
/// bytes at `data`, or, when `src` is not NULL, what `src` produces (TAKEN, even on
/// failure; `data` is then ignored). With `ascii` non-zero line ends go out as CRLF.
/// `*sent` (optional): bytes sent. Blocks until the server confirmed the transfer.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sockit_ftp_store(
    ftp: *mut sockit_ftp,
    verb: *const c_char,
    arg: *const c_char,
    ascii: c_int,
    data: *const u8,
    len: usize,
    src: *mut sockit_source,
    sent: *mut u64,
) -> sockit_status {
    guard(|| {
        let mut source = if src.is_null() {
            None
        } else {
            Some(take_source(src, "source")?)
        };
        let verb = str_arg(verb, "verb")?;
        let arg = opt_str_arg(arg, "arg")?;
        let n = match &mut source {
            Some(s) => sockit_ftp::with(ftp, |f| f.store(verb, arg, ascii != 0, s))?,
            None => {
                let data = bytes_arg(data, len, "data")?;
                let mut s = BytesSource::new(data);
                sockit_ftp::with(ftp, |f| f.store(verb, arg, ascii != 0, &mut s))?
            }
        };
        put(sent, n);
        Ok(())
    })
}

/// QUIT and close (idempotent; the handle stays valid until freed). Blocks briefly for
/// the goodbye.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_quit(ftp: *mut sockit_ftp) -> sockit_status {
    guard(|| {
        sockit_ftp::with(ftp, |s| {
            s.quit();
            Ok(())
        })
    })
}

/// Closes (without QUIT) and releases a session. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_ftp_free(ftp: *mut sockit_ftp) {
    sockit_ftp::free(ftp)
}

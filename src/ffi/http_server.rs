//! C API of the server side of HTTP connections (`crate::proto::http::server`):
//! `sockit_http_exchange` reads requests off a connected `sockit_socket` and writes the
//! responses, with the limits, timeouts and framing rules of Moonbridge's HTTP module
//! (which is built on it). One exchange object serves one connection, request after
//! request; each call borrows the socket (locking it for the call).

use super::boundary::{bytes_arg, guard, handle_out, out_arg, put, put_bytes, str_arg};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::socket::sockit_socket;
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::io::stream::Stream;
use crate::proto::http::server::{Exchange, Refused, ServerConfig};
use std::ffi::{c_char, c_int};
use std::time::Duration;

/// The server side of one HTTP connection. Made by `sockit_http_exchange_new`, released
/// by `sockit_http_exchange_free` (which does not touch the socket).
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_http_exchange(Shell<Exchange>);
impl_handle!(sockit_http_exchange, Exchange, "http exchange");

fn with_both<R>(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
    f: impl FnOnce(&mut Exchange, &mut Stream) -> Result<R>,
) -> Result<R> {
    // SAFETY: both handles are checked by the handle machinery.
    unsafe { sockit_http_exchange::with(ex, |e| sockit_socket::with(sock, |s| f(e, s.stream()?))) }
}

fn secs(v: f64) -> Option<Duration> {
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(1e9)))
}

fn set_config(ex: *mut sockit_http_exchange, f: impl FnOnce(&mut ServerConfig)) -> Result<()> {
    // SAFETY: checked by the handle machinery.
    unsafe {
        sockit_http_exchange::with(ex, |e| {
            let mut cfg = e.config().clone();
            f(&mut cfg);
            *e = Exchange::new(cfg);
            Ok(())
        })
    }
}

/// Reports a refusal: the status to answer goes to `*refusal`, the error is returned.
unsafe fn refusal(r: Refused, refusal: *mut c_int) -> Error {
    put(refusal, r.status as c_int);
    r.error
}

/// A new exchange with Moonbridge's defaults: request heads up to 1 MiB, bodies up to
/// 64 MiB, 16 KiB input and output chunks, timeouts idle 65 s, stall 60 s, request header
/// 120 s, response 3600 s. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_new(
    out: *mut *mut sockit_http_exchange,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_http_exchange::new(Exchange::new(ServerConfig::default()));
        Ok(())
    })
}

/// Frees an exchange. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_free(ex: *mut sockit_http_exchange) {
    sockit_http_exchange::free(ex);
}

/// Sets the largest request head (`head_bytes`, beyond it 431) and body (`body_bytes`,
/// beyond it 413; negative: no limit). Call before the first request. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_set_limits(
    ex: *mut sockit_http_exchange,
    head_bytes: usize,
    body_bytes: i64,
) -> sockit_status {
    guard(|| {
        if head_bytes < 64 {
            return Err(Error::invalid("head_bytes must be at least 64"));
        }
        set_config(ex, |c| {
            c.head_limit = head_bytes;
            c.body_limit = u64::try_from(body_bytes).ok();
        })
    })
}

/// Sets the largest piece of request body `sockit_http_exchange_read_body` hands out and
/// the smallest piece of response body written before `finish` (smaller writes are
/// gathered; 0 keeps a value). Call before the first request. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_set_chunks(
    ex: *mut sockit_http_exchange,
    max_input: usize,
    min_output: usize,
) -> sockit_status {
    guard(|| {
        set_config(ex, |c| {
            if max_input > 0 {
                c.max_input_chunk = max_input;
            }
            if min_output > 0 {
                c.min_output_chunk = min_output;
            }
        })
    })
}

/// Sets the timeouts in seconds (negative: none): `idle` until the first byte of a
/// request, `stall` for each wait (no progress), `request_header` for the rest of a
/// request head, `response` from the end of the head until the response is finished.
/// Call before the first request. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_set_timeouts(
    ex: *mut sockit_http_exchange,
    idle: f64,
    stall: f64,
    request_header: f64,
    response: f64,
) -> sockit_status {
    guard(|| {
        set_config(ex, |c| {
            c.idle_timeout = secs(idle);
            c.stall_timeout = secs(stall);
            c.request_header_timeout = secs(request_header);
            c.response_timeout = secs(response);
        })
    })
}

/// Adds a field sent with every response (checked: a token name, no CR, LF or NUL in
/// the value). Call before the first request. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_add_static_header(
    ex: *mut sockit_http_exchange,
    name: *const c_char,
    value: *const c_char,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let value = str_arg(value, "value")?;
        crate::proto::headers::check_name(name)?;
        crate::proto::headers::check_value(name, value.as_bytes())?;
        set_config(ex, |c| {
            c.static_headers
                .push_unchecked(name.to_string(), value.as_bytes().to_vec())
        })
    })
}

/// Reads the next request's head from `sock`: its method, request target, minor version
/// (0 for HTTP/1.0, 1 for HTTP/1.1) and fields (into `fields` as name NUL value NUL ...,
/// names lower-cased, in order). Any output may be NULL. BLOCKS within the idle and
/// request-header timeouts. When it fails, `*refusal` (may be NULL) is the status to
/// answer with `sockit_http_exchange_refuse` (400 malformed, 413 body over the limit, 431
/// head over the limit) or 0 when there is nobody to answer (the client closed the
/// connection or went silent); either way the connection is done.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_read_request(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
    method: *mut sockit_buffer,
    target: *mut sockit_buffer,
    version: *mut c_int,
    fields: *mut sockit_buffer,
    refusal: *mut c_int,
) -> sockit_status {
    guard(|| {
        put(refusal, 0);
        let head = with_both(ex, sock, |e, s| Ok(e.read_request(s)))?;
        let head = match head {
            Ok(h) => h,
            Err(r) => return Err(self::refusal(r, refusal)),
        };
        put_bytes(method, head.method.as_bytes())?;
        put_bytes(target, head.target.as_bytes())?;
        put(version, head.version as c_int);
        if !fields.is_null() {
            let mut all = Vec::with_capacity(256);
            for (n, v) in head.headers.iter() {
                all.extend_from_slice(n.as_bytes());
                all.push(0);
                all.extend_from_slice(v);
                all.push(0);
            }
            put_bytes(fields, &all)?;
        }
        Ok(())
    })
}

/// Reads the next piece of the current request's body into `out` (replaced); `*end`
/// becomes true (and `out` empty) once the body is over. Sends "100 Continue" first when
/// the client asked for it. BLOCKS within the stall and response timeouts. On failure
/// `*refusal` (may be NULL) is the status to answer (400 malformed chunks, 413 past the
/// body limit) or 0 (the client vanished or went silent).
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_read_body(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
    out: *mut sockit_buffer,
    end: *mut bool,
    refusal: *mut c_int,
) -> sockit_status {
    guard(|| {
        put(refusal, 0);
        let end = out_arg(end, "end")?;
        let piece = with_both(ex, sock, |e, s| Ok(e.read_body(s)))?;
        match piece {
            Ok(Some(p)) => {
                *end = false;
                put_bytes(out, &p)
            }
            Ok(None) => {
                *end = true;
                put_bytes(out, &[])
            }
            Err(r) => Err(self::refusal(r, refusal)),
        }
    })
}

/// Whether the current request has a body, and whether it has been read to its end
/// (either may be NULL). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_body_state(
    ex: *mut sockit_http_exchange,
    has_body: *mut bool,
    done: *mut bool,
) -> sockit_status {
    guard(|| {
        let (h, d) = sockit_http_exchange::with(ex, |e| Ok((e.has_body(), e.body_done())))?;
        put(has_body, h);
        put(done, d);
        Ok(())
    })
}

/// Starts the response: `code` (100..999) and `reason` (no CR, LF or NUL). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_status(
    ex: *mut sockit_http_exchange,
    code: c_int,
    reason: *const c_char,
) -> sockit_status {
    guard(|| {
        let reason = str_arg(reason, "reason")?;
        let code = u16::try_from(code).map_err(|_| Error::invalid("bad status code"))?;
        sockit_http_exchange::with(ex, |e| e.status(code, reason))
    })
}

/// Adds a response field (checked). Content-Length is used as the body's length and
/// enforced; Transfer-Encoding is refused (the server chunks bodies of unknown length);
/// "Connection: close" closes the connection after the response. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_header(
    ex: *mut sockit_http_exchange,
    name: *const c_char,
    value: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let value = bytes_arg(value, len, "value")?;
        sockit_http_exchange::with(ex, |e| e.header(name, value))
    })
}

/// Ends the response head and writes it out now, with the framing for a body of unknown
/// length (chunked for HTTP/1.1 clients, closing the connection for HTTP/1.0 ones, or
/// the Content-Length that was set). BLOCKS within the stall and response timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_finish_headers(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
) -> sockit_status {
    guard(|| with_both(ex, sock, |e, s| e.finish_headers(s)))
}

/// Adds `len` bytes of response body (dropped for HEAD, 1xx, 204 and 304). Small writes
/// are gathered until the minimum output chunk; a body that stays below it until
/// `finish` goes out with a Content-Length. May BLOCK (stall and response timeouts).
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_send(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        with_both(ex, sock, |e, s| e.send(s, data))
    })
}

/// Writes out everything gathered (the head too) and flushes. BLOCKS within the stall and
/// response timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_flush(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
) -> sockit_status {
    guard(|| with_both(ex, sock, |e, s| e.flush(s)))
}

/// Finishes the response and flushes it; then, when the connection stays open, reads
/// and drops what the handler left of the request body. BLOCKS within the stall and
/// response timeouts. Fails (and the connection is done) when the body does not match a
/// Content-Length that was set.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_finish(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
) -> sockit_status {
    guard(|| with_both(ex, sock, |e, s| e.finish(s)))
}

/// Closes the connection after the current response (it says "Connection: close").
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_close_after(
    ex: *mut sockit_http_exchange,
) -> sockit_status {
    guard(|| {
        sockit_http_exchange::with(ex, |e| {
            e.close_after();
            Ok(())
        })
    })
}

/// After `finish`: whether the connection may carry another request, in `*keep`. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_keep_alive(
    ex: *mut sockit_http_exchange,
    keep: *mut bool,
) -> sockit_status {
    guard(|| {
        let keep = out_arg(keep, "keep")?;
        *keep = sockit_http_exchange::with(ex, |e| Ok(e.keep_alive()))?;
        Ok(())
    })
}

/// Answers with a short complete error response for `status` (400..599, others give
/// 400) that says "Connection: close"; the connection is done afterwards. BLOCKS within
/// the stall timeout.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_exchange_refuse(
    ex: *mut sockit_http_exchange,
    sock: *mut sockit_socket,
    status: c_int,
) -> sockit_status {
    guard(|| {
        let status = u16::try_from(status).unwrap_or(400);
        with_both(ex, sock, |e, s| e.refuse(s, status))
    })
}

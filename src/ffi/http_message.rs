//! `sockit_httpreq` and `sockit_httpres`: the request and response messages of the
//! symmetric HTTP socket (`sockit_httpsock`), owned by the caller and reused across
//! messages. Both kinds have the same field, trailer and body calls.
//!
//! Views: the calls that hand out `const uint8_t **data, size_t *len` point into the
//! message itself, without a copy. A view stays valid until the message is next changed
//! (by a setter or by a socket call that fills it) or freed; use one message from one
//! thread at a time while holding views of it.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, handle_out, out_arg, put, put_text, str_arg};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::proto::headers::Headers;
use crate::proto::http::head::{check_method, check_target};
use crate::proto::http::message::{Message, Request, Response};
use std::ffi::{c_char, c_int};

/// An HTTP request message: method, target, version, header fields, body, trailer
/// fields. Owned by the caller (`sockit_httpreq_free`). A new one is "GET /" HTTP/1.1.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_httpreq(Shell<Request>);
impl_handle!(sockit_httpreq, Request, "http request message");

/// An HTTP response message: status, reason, version, header fields, body, trailer
/// fields. Owned by the caller (`sockit_httpres_free`). A new one is 200.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_httpres(Shell<Response>);
impl_handle!(sockit_httpres, Response, "http response message");

/// Hands out a view of `data` through two optional out-parameters.
unsafe fn put_view(data: &[u8], ptr: *mut *const u8, len: *mut usize) {
    put(ptr, data.as_ptr());
    put(len, data.len());
}

fn fields(m: &mut dyn Message, trailers: c_int) -> &mut Headers {
    if trailers != 0 {
        m.trailers_mut()
    } else {
        m.headers_mut()
    }
}

// The bodies shared by both message kinds; each exported function is one call.

unsafe fn field_count(m: impl MsgHandle, trailers: c_int, count: *mut usize) -> Result<()> {
    let count = out_arg(count, "count")?;
    m.with_msg(&mut |m| {
        *count = fields(m, trailers).len();
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn field_at(
    m: impl MsgHandle,
    trailers: c_int,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> Result<()> {
    m.with_msg(&mut |m| {
        let f = fields(m, trailers);
        let (n, v) = f.at(index).ok_or_else(|| {
            Error::invalid(format!("field index {index} is not below {}", f.len()))
        })?;
        put_view(n.as_bytes(), name, name_len);
        put_view(v, value, value_len);
        Ok(())
    })
}

unsafe fn field_get(
    m: impl MsgHandle,
    trailers: c_int,
    name: *const c_char,
    value: *mut sockit_buffer,
    found: *mut c_int,
) -> Result<()> {
    let name = str_arg(name, "name")?;
    let mut got = None;
    m.with_msg(&mut |m| {
        got = fields(m, trailers).get_joined(name);
        Ok(())
    })?;
    put(found, got.is_some() as c_int);
    put_text(value, got.as_deref().unwrap_or(b""))
}

unsafe fn field_change(
    m: impl MsgHandle,
    trailers: c_int,
    name: *const c_char,
    value: *const u8,
    len: usize,
    replace: bool,
) -> Result<()> {
    let name = str_arg(name, "name")?;
    let value = if value.is_null() && replace {
        None
    } else {
        Some(bytes_arg(value, len, "value")?)
    };
    m.with_msg(&mut |m| {
        let f = fields(m, trailers);
        match value {
            Some(v) if replace => f.set(name, v),
            Some(v) => f.add(name, v),
            None => {
                f.remove(name);
                Ok(())
            }
        }
    })
}

unsafe fn fields_clear(m: impl MsgHandle, trailers: c_int) -> Result<()> {
    m.with_msg(&mut |m| {
        fields(m, trailers).clear();
        Ok(())
    })
}

unsafe fn body_view(m: impl MsgHandle, data: *mut *const u8, len: *mut usize) -> Result<()> {
    m.with_msg(&mut |m| {
        put_view(m.body(), data, len);
        Ok(())
    })
}

unsafe fn body_set(m: impl MsgHandle, data: *const u8, len: usize) -> Result<()> {
    let data = bytes_arg(data, len, "data")?;
    m.with_msg(&mut |m| {
        let b = m.body_mut();
        b.clear();
        b.extend_from_slice(data);
        Ok(())
    })
}

/// Either message handle, for the calls both kinds share.
trait MsgHandle {
    /// Runs `f` on the message behind the handle, locked.
    unsafe fn with_msg(self, f: &mut dyn FnMut(&mut dyn Message) -> Result<()>) -> Result<()>;
}

impl MsgHandle for *mut sockit_httpreq {
    unsafe fn with_msg(self, f: &mut dyn FnMut(&mut dyn Message) -> Result<()>) -> Result<()> {
        sockit_httpreq::with(self, |r| f(r))
    }
}

impl MsgHandle for *mut sockit_httpres {
    unsafe fn with_msg(self, f: &mut dyn FnMut(&mut dyn Message) -> Result<()>) -> Result<()> {
        sockit_httpres::with(self, |r| f(r))
    }
}

// ----- request -------------------------------------------------------------------------

/// A new request message, "GET /" HTTP/1.1 without fields or body, in `*out` (owned by
/// the caller). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_new(out: *mut *mut sockit_httpreq) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_httpreq::new(Request::default());
        Ok(())
    })
}

/// Releases a request message. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_free(req: *mut sockit_httpreq) {
    sockit_httpreq::free(req)
}

/// Sets the method (a token: "GET", "POST", ...; anything else is `SOCKIT_INVALID`).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_set_method(
    req: *mut sockit_httpreq,
    method: *const c_char,
) -> sockit_status {
    guard(|| {
        let method = str_arg(method, "method")?;
        check_method(method)?;
        sockit_httpreq::with(req, |r| {
            r.method.clear();
            r.method.push_str(method);
            Ok(())
        })
    })
}

/// Sets the request target ("/path?query", "*", "host:port", an absolute URL): not
/// empty, no CR, LF, NUL or white space (`SOCKIT_INVALID`); the socket also refuses
/// bytes outside visible ASCII when it sends it. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_set_target(
    req: *mut sockit_httpreq,
    target: *const c_char,
) -> sockit_status {
    guard(|| {
        let target = str_arg(target, "target")?;
        check_target(target)?;
        sockit_httpreq::with(req, |r| {
            r.target.clear();
            r.target.push_str(target);
            Ok(())
        })
    })
}

/// Sets the HTTP version sent: `minor` 1 (HTTP/1.1, the default) or 0 (HTTP/1.0).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_set_version(
    req: *mut sockit_httpreq,
    minor: c_int,
) -> sockit_status {
    guard(|| {
        if !(0..=1).contains(&minor) {
            return Err(Error::invalid(format!("HTTP/1.{minor} is not 1.0 or 1.1")));
        }
        sockit_httpreq::with(req, |r| {
            r.version = minor as u8;
            Ok(())
        })
    })
}

/// The request line's parts as views (each out-parameter optional): the method, the
/// target, and the minor version (1 for HTTP/1.1, 0 for HTTP/1.0) in `*minor`.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_line(
    req: *mut sockit_httpreq,
    method: *mut *const u8,
    method_len: *mut usize,
    target: *mut *const u8,
    target_len: *mut usize,
    minor: *mut c_int,
) -> sockit_status {
    guard(|| {
        sockit_httpreq::with(req, |r| {
            put_view(r.method.as_bytes(), method, method_len);
            put_view(r.target.as_bytes(), target, target_len);
            put(minor, r.version as c_int);
            Ok(())
        })
    })
}

/// The number of header fields (`trailers` zero) or trailer fields (non-zero) in
/// `*count`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_field_count(
    req: *mut sockit_httpreq,
    trailers: c_int,
    count: *mut usize,
) -> sockit_status {
    guard(|| field_count(req, trailers, count))
}

/// Header (or trailer) field number `index` (from 0, in order; repeated fields each
/// have their own index) as views of its name (received names are lower-case) and
/// value; each out-parameter optional. `SOCKIT_INVALID` when `index` is out of range.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_field_at(
    req: *mut sockit_httpreq,
    trailers: c_int,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> sockit_status {
    guard(|| field_at(req, trailers, index, name, name_len, value, value_len))
}

/// The value of header (or trailer) field `name` (any case) copied into `value` (text,
/// optional); repeated fields are joined with ", ". `*found` (optional) tells whether
/// there was one; when not, `value` is emptied and `SOCKIT_OK` returned. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_field(
    req: *mut sockit_httpreq,
    trailers: c_int,
    name: *const c_char,
    value: *mut sockit_buffer,
    found: *mut c_int,
) -> sockit_status {
    guard(|| field_get(req, trailers, name, value, found))
}

/// Appends a header (or trailer) field: `name` a token, the `len` bytes of `value`
/// without CR, LF or NUL (else `SOCKIT_INVALID`, nothing added). Repeats are kept in
/// order. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_add_field(
    req: *mut sockit_httpreq,
    trailers: c_int,
    name: *const c_char,
    value: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| field_change(req, trailers, name, value, len, false))
}

/// Replaces every header (or trailer) field called `name` (any case) by one with
/// `value`; a NULL `value` removes them. Checked as `sockit_httpreq_add_field`.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_set_field(
    req: *mut sockit_httpreq,
    trailers: c_int,
    name: *const c_char,
    value: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| field_change(req, trailers, name, value, len, true))
}

/// Removes every header (or trailer) field. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_clear_fields(
    req: *mut sockit_httpreq,
    trailers: c_int,
) -> sockit_status {
    guard(|| fields_clear(req, trailers))
}

/// A view of the body (`*data` and `*len`, each optional). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_body(
    req: *mut sockit_httpreq,
    data: *mut *const u8,
    len: *mut usize,
) -> sockit_status {
    guard(|| body_view(req, data, len))
}

/// Replaces the body with a copy of the `len` bytes at `data` (NULL with 0: empty; the
/// way to empty it between `sockit_httpsock_read_some` calls, which append).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpreq_set_body(
    req: *mut sockit_httpreq,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| body_set(req, data, len))
}

// ----- response ------------------------------------------------------------------------

/// A new response message, 200 without fields or body, in `*out` (owned by the
/// caller). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_new(out: *mut *mut sockit_httpres) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_httpres::new(Response::default());
        Ok(())
    })
}

/// Releases a response message. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_free(res: *mut sockit_httpres) {
    sockit_httpres::free(res)
}

/// Sets the status code (100 to 999) and reason phrase (NULL or "": the standard phrase
/// of the code is sent; CR, LF and NUL are `SOCKIT_INVALID`). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_set_status(
    res: *mut sockit_httpres,
    status: c_int,
    reason: *const c_char,
) -> sockit_status {
    guard(|| {
        if !(100..=999).contains(&status) {
            return Err(Error::invalid(format!(
                "status {status} is not between 100 and 999"
            )));
        }
        let reason = if reason.is_null() {
            ""
        } else {
            str_arg(reason, "reason")?
        };
        crate::proto::conn::check_wire_text("reason phrase", reason.as_bytes())?;
        sockit_httpres::with(res, |r| {
            r.status = status as u16;
            r.reason.clear();
            r.reason.push_str(reason);
            Ok(())
        })
    })
}

/// The status line's parts (each optional): the code in `*status`, a view of the
/// reason phrase as received (or as set), the minor version received in `*minor`.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_status(
    res: *mut sockit_httpres,
    status: *mut c_int,
    reason: *mut *const u8,
    reason_len: *mut usize,
    minor: *mut c_int,
) -> sockit_status {
    guard(|| {
        sockit_httpres::with(res, |r| {
            put(status, r.status as c_int);
            put_view(r.reason.as_bytes(), reason, reason_len);
            put(minor, r.version as c_int);
            Ok(())
        })
    })
}

/// As `sockit_httpreq_field_count`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_field_count(
    res: *mut sockit_httpres,
    trailers: c_int,
    count: *mut usize,
) -> sockit_status {
    guard(|| field_count(res, trailers, count))
}

/// As `sockit_httpreq_field_at`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_field_at(
    res: *mut sockit_httpres,
    trailers: c_int,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> sockit_status {
    guard(|| field_at(res, trailers, index, name, name_len, value, value_len))
}

/// As `sockit_httpreq_field`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_field(
    res: *mut sockit_httpres,
    trailers: c_int,
    name: *const c_char,
    value: *mut sockit_buffer,
    found: *mut c_int,
) -> sockit_status {
    guard(|| field_get(res, trailers, name, value, found))
}

/// As `sockit_httpreq_add_field`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_add_field(
    res: *mut sockit_httpres,
    trailers: c_int,
    name: *const c_char,
    value: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| field_change(res, trailers, name, value, len, false))
}

/// As `sockit_httpreq_set_field`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_set_field(
    res: *mut sockit_httpres,
    trailers: c_int,
    name: *const c_char,
    value: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| field_change(res, trailers, name, value, len, true))
}

/// As `sockit_httpreq_clear_fields`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_clear_fields(
    res: *mut sockit_httpres,
    trailers: c_int,
) -> sockit_status {
    guard(|| fields_clear(res, trailers))
}

/// As `sockit_httpreq_body`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_body(
    res: *mut sockit_httpres,
    data: *mut *const u8,
    len: *mut usize,
) -> sockit_status {
    guard(|| body_view(res, data, len))
}

/// As `sockit_httpreq_set_body`, for a response.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpres_set_body(
    res: *mut sockit_httpres,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| body_set(res, data, len))
}

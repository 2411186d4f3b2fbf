//! `sockit_http`: the HTTP/1.1 client (a connection pool), `sockit_http_request` (what to
//! send), `sockit_http_response` (what came back), and the header-name table LuaSocket
//! calls `socket.headers.canonic`.
//!
//! The Lua forms map onto these calls:
//! - LuaSocket 3 `http.request(url [, body])`: `sockit_http_simple`;
//! - LuaSocket 3 `http.request{url=, method=, headers=, source=, sink=, redirect=,
//!   proxy=, ...}`: a request with its setters, `sockit_http_perform` with the sink;
//! - LuaSocket 1.3b `http_request(method, url, hdrs, body, stay)`, `http_get`,
//!   `http_post`: a request (`stay` = `sockit_http_request_set_redirect(req, 0, 0)`),
//!   the body collected in the response; the `*indirect` forms pass
//!   `sockit_sink_receive_cb` as sink and `sockit_source_send_cb` as body source.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{
    bytes_arg, credentials_arg, guard, guard_value, handle_out, opt_str_arg, out_arg, put,
    put_bytes, put_text, str_arg,
};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::ltn12::{sockit_sink, sockit_source, take_source};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::io::timeout::{secs_to_duration, Timeout};
use crate::ltn12::{BoxSource, Source};
use crate::proto::headers::{canonic, canonic_lookup, Headers, CANONIC};
use crate::proto::http::client::{Body, Client, RedirectRules, Request, Response};
use crate::proto::http::head::check_method;
use std::ffi::{c_char, c_int};

/// An HTTP client: keeps idle keep-alive connections per origin (at most 8, each for at
/// most 60 s) and reuses them. Owned by the caller; `sockit_http_free` closes them.
/// Requests on one client are serialised.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_http(Shell<Client>);
impl_handle!(sockit_http, Client, "http client");

/// An HTTP request: method, URL, headers, body and options. Reusable for several
/// performs, except that a body source is consumed by the first. Owned by the caller.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_http_request(Shell<Request>);
impl_handle!(sockit_http_request, Request, "http request");

/// What a response holds: the response itself and the body when no sink was given.
pub struct ResponseObj {
    resp: Response,
    body: Vec<u8>,
}

/// An HTTP response: status, headers, trailers, final URL, and the body when
/// `sockit_http_perform` had no sink. Filled by each perform (even a failed one: then it
/// holds what did arrive). Owned by the caller.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_http_response(Shell<ResponseObj>);
impl_handle!(sockit_http_response, ResponseObj, "http response");

/// Changes the request `req` with `f`: the body of the request setters.
unsafe fn set_request(req: *mut sockit_http_request, f: impl FnOnce(&mut Request)) -> Result<()> {
    sockit_http_request::with(req, |r| {
        f(r);
        Ok(())
    })
}

// ----- client --------------------------------------------------------------------------

/// A new client with an empty connection pool, in `*out` (owned by the caller).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_new(out: *mut *mut sockit_http) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_http::new(Client::new());
        Ok(())
    })
}

/// Sets how many idle connections the client keeps (0 = none: every connection closes
/// after its request) and for how many seconds at most. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_set_pool(
    client: *mut sockit_http,
    max_idle: c_int,
    max_idle_secs: f64,
) -> sockit_status {
    guard(|| {
        if max_idle < 0 {
            return Err(Error::invalid(format!("max_idle {max_idle} is negative")));
        }
        let time = secs_to_duration(max_idle_secs)
            .ok_or_else(|| Error::invalid("max_idle_secs must not be negative"))?;
        sockit_http::with(client, |c| {
            c.pool.max_idle = max_idle as usize;
            c.pool.max_idle_time = time;
            if c.pool.len() > c.pool.max_idle {
                c.pool.clear();
            }
            Ok(())
        })
    })
}

/// The number of idle connections the client holds now. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_idle_count(
    client: *mut sockit_http,
    count: *mut usize,
) -> sockit_status {
    guard(|| {
        let count = out_arg(count, "count")?;
        *count = sockit_http::with(client, |c| Ok(c.pool.len()))?;
        Ok(())
    })
}

/// Closes every idle connection of the client. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_close_idle(client: *mut sockit_http) -> sockit_status {
    guard(|| {
        sockit_http::with(client, |c| {
            c.pool.clear();
            Ok(())
        })
    })
}

/// Closes the client's connections and releases it. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_free(client: *mut sockit_http) {
    sockit_http::free(client)
}

/// Performs `req`: connects (or reuses a pooled connection of `client`), sends, follows
/// redirects as the request allows, and delivers the final response's body to `sink`
/// (borrowed, not consumed: it gets the chunks, then its end; or the error) or, when
/// `sink` is NULL, into `resp`'s body. `resp` (required) is cleared and filled, also on
/// failure with what did arrive. `client` may be NULL: a one-off client, no reuse.
///
/// Blocks until the response body has been received, within the request's timeouts.
/// Returns `SOCKIT_OK` for any complete response, whatever its status code. Errors:
/// `SOCKIT_INVALID` (bad URL, or a header, method or body the request cannot send),
/// `SOCKIT_UNSUPPORTED` ("https://" and other schemes), resolver and connect errors,
/// `SOCKIT_TIMEOUT`, `SOCKIT_CLOSED` (the server went away: the body received so far was
/// delivered), `SOCKIT_PROTOCOL` (malformed response, header limits, bad chunk, redirect
/// loop, too many redirects), or a sink's error.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_perform(
    client: *mut sockit_http,
    req: *mut sockit_http_request,
    sink: *mut sockit_sink,
    resp: *mut sockit_http_response,
) -> sockit_status {
    guard(|| {
        if resp.is_null() {
            return Err(Error::invalid("resp is NULL"));
        }
        let run = |c: &mut Client| -> Result<()> {
            sockit_http_request::with(req, |r| {
                sockit_http_response::with(resp, |out| {
                    out.body.clear();
                    if sink.is_null() {
                        let body = &mut out.body;
                        c.perform(r, body, &mut out.resp)
                    } else {
                        let resp_slot = &mut out.resp;
                        sockit_sink::with(sink, |s| c.perform(r, s, resp_slot))
                    }
                })
            })
        };
        if client.is_null() {
            let mut c = Client::new();
            c.pool.max_idle = 0;
            run(&mut c)
        } else {
            sockit_http::with(client, run)
        }
    })
}

/// LuaSocket 3's simple form `http.request(url [, body])`: GET `url`, or POST `body`
/// (with Content-Type application/x-www-form-urlencoded) when `body` is not NULL (even
/// with `len` 0). The body comes back in `out_body` (cleared first), the status code in
/// `*code` (optional). `client` may be NULL. Blocks like `sockit_http_perform`; the
/// status code is not an error.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_simple(
    client: *mut sockit_http,
    url: *const c_char,
    body: *const u8,
    len: usize,
    out_body: *mut sockit_buffer,
    code: *mut c_int,
) -> sockit_status {
    guard(|| {
        let url = str_arg(url, "url")?;
        let mut req = if body.is_null() {
            Request::new("GET", url)?
        } else {
            let data = bytes_arg(body, len, "body")?;
            let mut r = Request::new("POST", url)?;
            r.headers
                .add("content-type", b"application/x-www-form-urlencoded")?;
            r.body = Body::Bytes(data.to_vec());
            r
        };
        let mut resp = Response::default();
        let mut data = Vec::new();
        let r = if client.is_null() {
            let mut c = Client::new();
            c.pool.max_idle = 0;
            c.perform(&mut req, &mut data, &mut resp)
        } else {
            sockit_http::with(client, |c| c.perform(&mut req, &mut data, &mut resp))
        };
        put(code, resp.code as c_int);
        put_bytes(out_body, &data)?;
        r
    })
}

// ----- request -------------------------------------------------------------------------

/// A new request for `method` ("GET", "POST", ...; a token) and `url`
/// ("http://[user:password@]host[:port]/path", "http://" optional), in `*out` (owned by
/// the caller). Defaults: follow up to 5 redirects, 60 s per wait, keep-alive, no body.
/// The URL is checked when performed. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_new(
    method: *const c_char,
    url: *const c_char,
    out: *mut *mut sockit_http_request,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let method = str_arg(method, "method")?;
        let url = str_arg(url, "url")?;
        *out = sockit_http_request::new(Request::new(method, url)?);
        Ok(())
    })
}

/// Releases a request (and a body source it still holds). NULL or freed: ignored.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_free(req: *mut sockit_http_request) {
    sockit_http_request::free(req)
}

/// Changes the method (a token; CR, LF, NUL, spaces refused). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_method(
    req: *mut sockit_http_request,
    method: *const c_char,
) -> sockit_status {
    guard(|| {
        let method = str_arg(method, "method")?;
        check_method(method)?;
        set_request(req, |r| r.method = method.to_string())
    })
}

/// Changes the URL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_url(
    req: *mut sockit_http_request,
    url: *const c_char,
) -> sockit_status {
    guard(|| {
        let url = str_arg(url, "url")?;
        set_request(req, |r| r.url = url.to_string())
    })
}

/// Appends a header field (repeats allowed, order kept; the name goes out in canonical
/// spelling when the canonic table has it). `SOCKIT_INVALID` when the name is not a token
/// or the value has CR, LF or NUL. Host, User-Agent and Authorization replace the
/// client's own; Content-Length and Transfer-Encoding: chunked direct the body framing.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_add_header(
    req: *mut sockit_http_request,
    name: *const c_char,
    value: *const c_char,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let value = str_arg(value, "value")?;
        sockit_http_request::with(req, |r| r.headers.add(name, value.as_bytes()))
    })
}

/// Sets a header field, replacing every field of that name (any case); a NULL `value`
/// removes them. Checks as `sockit_http_request_add_header`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_header(
    req: *mut sockit_http_request,
    name: *const c_char,
    value: *const c_char,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let value = opt_str_arg(value, "value")?;
        sockit_http_request::with(req, |r| match value {
            Some(v) => r.headers.set(name, v.as_bytes()),
            None => {
                r.headers.remove(name);
                Ok(())
            }
        })
    })
}

/// The body: a copy of `len` bytes at `data` (sent with Content-Length). Replaces any
/// earlier body. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_body(
    req: *mut sockit_http_request,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        set_request(req, |r| r.body = Body::Bytes(data.to_vec()))
    })
}

/// The body from a source, which this call takes over (even when it fails: do not use
/// or free `src` afterwards). The body is sent with Content-Length when `size` is not
/// negative or the source knows its size (a 1.3b send callback does), else chunked. The
/// source is read once, by the next perform. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_body_source(
    req: *mut sockit_http_request,
    src: *mut sockit_source,
    size: i64,
) -> sockit_status {
    guard(|| {
        let source = take_source(src, "body source")?;
        let source: BoxSource = if size >= 0 {
            Box::new(Sized_ {
                inner: source,
                size: size as u64,
            })
        } else {
            source
        };
        set_request(req, |r| r.body = Body::Source(source))
    })
}

/// A source whose size the caller declared.
struct Sized_ {
    inner: BoxSource,
    size: u64,
}

impl Source for Sized_ {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        self.inner.pull(hint)
    }
    fn size(&mut self) -> Result<Option<u64>> {
        Ok(Some(self.size))
    }
}

/// No body. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_clear_body(
    req: *mut sockit_http_request,
) -> sockit_status {
    guard(|| set_request(req, |r| r.body = Body::None))
}

/// Whether to follow redirects (`follow` non-zero; LuaSocket's `redirect`, the opposite
/// of 1.3b's `stay`) and at most how many (`max_redirects` >= 0). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_redirect(
    req: *mut sockit_http_request,
    follow: c_int,
    max_redirects: c_int,
) -> sockit_status {
    guard(|| {
        if max_redirects < 0 {
            return Err(Error::invalid(format!(
                "max_redirects {max_redirects} is negative"
            )));
        }
        set_request(req, |r| {
            r.follow_redirects = follow != 0;
            r.max_redirects = max_redirects as u32;
        })
    })
}

/// Which redirects `sockit_http_perform` follows (when following is on, see
/// `sockit_http_request_set_redirect`): one of `SOCKIT_REDIRECT_*`.
#[allow(non_camel_case_types)]
pub type sockit_redirect_rules = c_int;
/// The default: 301, 302, 307 and 308 for GET and HEAD requests without a body, 303 for
/// any method (becoming GET; HEAD stays HEAD); a redirect loop or more than
/// `max_redirects` fail with `SOCKIT_PROTOCOL`.
pub const SOCKIT_REDIRECT_STRICT: sockit_redirect_rules = 0;
/// LuaSocket 3's choices (`socket.http`): 301, 302, 303 and 307 only, for GET and HEAD
/// (spelled so) without a body; the next request is a GET; the Location (blanks removed)
/// is resolved as `sockit_url_absolute_luasocket` does; after `max_redirects` the 3xx
/// response is the result and its body goes to the sink.
pub const SOCKIT_REDIRECT_LUASOCKET: sockit_redirect_rules = 1;

/// Chooses the redirect rules of a request (`SOCKIT_REDIRECT_STRICT` by default).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_redirect_rules(
    req: *mut sockit_http_request,
    rules: sockit_redirect_rules,
) -> sockit_status {
    guard(|| {
        let rules = match rules {
            SOCKIT_REDIRECT_STRICT => RedirectRules::Strict,
            SOCKIT_REDIRECT_LUASOCKET => RedirectRules::LuaSocket,
            n => return Err(Error::invalid(format!("redirect rules {n} are unknown"))),
        };
        set_request(req, |r| r.redirect_rules = rules)
    })
}

/// Sends the request through an HTTP proxy "http://[user:password@]host[:port]" (the
/// credentials become Proxy-Authorization); NULL for none. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_proxy(
    req: *mut sockit_http_request,
    proxy: *const c_char,
) -> sockit_status {
    guard(|| {
        let proxy = opt_str_arg(proxy, "proxy")?;
        set_request(req, |r| r.proxy = proxy.map(str::to_string))
    })
}

/// Basic credentials (sent to the URL's origin only, never after a redirect to another
/// one); a NULL `user` goes back to the URL's userinfo. A NULL `password` is empty.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_auth(
    req: *mut sockit_http_request,
    user: *const c_char,
    password: *const c_char,
) -> sockit_status {
    guard(|| {
        let auth = credentials_arg(user, password)?;
        set_request(req, |r| r.auth = auth)
    })
}

/// Timeouts in seconds (negative = none): `block` bounds each wait (connect included),
/// `total` the whole perform, redirects included. Default: 60 s per wait. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_timeout(
    req: *mut sockit_http_request,
    block: f64,
    total: f64,
) -> sockit_status {
    guard(|| set_request(req, |r| r.timeout = Timeout::from_secs(block, total)))
}

/// Whether a request with a body asks "Expect: 100-continue" first and waits (up to 1 s)
/// for the server's go-ahead. Default off. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_expect_continue(
    req: *mut sockit_http_request,
    on: c_int,
) -> sockit_status {
    guard(|| set_request(req, |r| r.expect_continue = on != 0))
}

/// Whether the connection may be kept for reuse (default on; off sends "Connection:
/// close"). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_keep_alive(
    req: *mut sockit_http_request,
    on: c_int,
) -> sockit_status {
    guard(|| set_request(req, |r| r.keep_alive = on != 0))
}

/// Limits on a response head: at most `max_head_bytes` bytes (default 65536) and
/// `max_headers` fields (default 100); both at least 1. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_request_set_limits(
    req: *mut sockit_http_request,
    max_head_bytes: usize,
    max_headers: usize,
) -> sockit_status {
    guard(|| {
        if max_head_bytes == 0 || max_headers == 0 || max_headers > 100_000 {
            return Err(Error::invalid(
                "limits must be at least 1 (and at most 100000 header fields)",
            ));
        }
        set_request(req, |r| {
            r.limits.max_head_bytes = max_head_bytes;
            r.limits.max_headers = max_headers;
        })
    })
}

// ----- response ------------------------------------------------------------------------

/// A new, empty response in `*out` (owned by the caller). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_new(
    out: *mut *mut sockit_http_response,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_http_response::new(ResponseObj {
            resp: Response::default(),
            body: Vec::new(),
        });
        Ok(())
    })
}

/// Releases a response. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_free(resp: *mut sockit_http_response) {
    sockit_http_response::free(resp)
}

/// The status code (0 when no status line arrived). Returns 0 for a NULL or freed
/// response. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_code(resp: *mut sockit_http_response) -> c_int {
    guard_value(0, || {
        sockit_http_response::with(resp, |r| Ok(r.resp.code as c_int))
    })
}

/// The status line as received ("HTTP/1.1 200 OK") into `line`, the reason phrase into
/// `reason` (both optional, text). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_status(
    resp: *mut sockit_http_response,
    line: *mut sockit_buffer,
    reason: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let (l, r) = sockit_http_response::with(resp, |r| {
            Ok((r.resp.status_line.clone(), r.resp.reason.clone()))
        })?;
        put_text(line, l.as_bytes())?;
        put_text(reason, r.as_bytes())
    })
}

/// Facts about the exchange: body bytes received (delivered to the sink or collected),
/// redirects followed, and whether the last connection came from the pool (each
/// optional). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_info(
    resp: *mut sockit_http_response,
    received: *mut u64,
    redirects: *mut c_int,
    reused: *mut c_int,
) -> sockit_status {
    guard(|| {
        sockit_http_response::with(resp, |r| {
            put(received, r.resp.received);
            put(redirects, r.resp.redirects as c_int);
            put(reused, r.resp.reused as c_int);
            Ok(())
        })
    })
}

/// The URL of the last request made (after redirects) into `url` (text). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_url(
    resp: *mut sockit_http_response,
    url: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let u = sockit_http_response::with(resp, |r| Ok(r.resp.url.clone()))?;
        if url.is_null() {
            return Err(Error::invalid("url is NULL"));
        }
        put_text(url, u.as_bytes())
    })
}

/// The Location of the last redirect followed, as the server sent it (blanks around it
/// removed), into `location` (text; empty when no redirect was followed). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_location(
    resp: *mut sockit_http_response,
    location: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let l = sockit_http_response::with(resp, |r| Ok(r.resp.location.clone()))?;
        if location.is_null() {
            return Err(Error::invalid("location is NULL"));
        }
        put_text(location, l.as_bytes())
    })
}

/// The body collected by a perform without sink, copied into `body` (cleared first).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_body(
    resp: *mut sockit_http_response,
    body: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        if body.is_null() {
            return Err(Error::invalid("body is NULL"));
        }
        sockit_http_response::with(resp, |r| put_bytes(body, &r.body))
    })
}

fn fields_of(r: &ResponseObj, trailers: bool) -> &Headers {
    if trailers {
        &r.resp.trailers
    } else {
        &r.resp.headers
    }
}

/// The number of header fields (`trailers` zero) or trailer fields (non-zero) into
/// `*count`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_field_count(
    resp: *mut sockit_http_response,
    trailers: c_int,
    count: *mut usize,
) -> sockit_status {
    guard(|| {
        let count = out_arg(count, "count")?;
        *count = sockit_http_response::with(resp, |r| Ok(fields_of(r, trailers != 0).len()))?;
        Ok(())
    })
}

/// Header (or trailer) field number `index` (from 0, in the order received): its name,
/// lower-cased, into `name` and its value into `value` (both optional, text).
/// `SOCKIT_INVALID` when `index` is out of range. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_field_at(
    resp: *mut sockit_http_response,
    trailers: c_int,
    index: usize,
    name: *mut sockit_buffer,
    value: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let (n, v) = sockit_http_response::with(resp, |r| {
            let f = fields_of(r, trailers != 0);
            f.at(index)
                .map(|(n, v)| (n.to_string(), v.to_vec()))
                .ok_or_else(|| {
                    Error::invalid(format!("field index {index} is not below {}", f.len()))
                })
        })?;
        put_text(name, n.as_bytes())?;
        put_text(value, &v)
    })
}

/// The value of header (or trailer) field `name` (any case) into `value` (text); repeated
/// fields are joined with ", " (LuaSocket's table of headers). `*found` (optional) tells
/// whether there was one; when not, `value` is emptied and `SOCKIT_OK` returned. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_http_response_field(
    resp: *mut sockit_http_response,
    trailers: c_int,
    name: *const c_char,
    value: *mut sockit_buffer,
    found: *mut c_int,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let v =
            sockit_http_response::with(resp, |r| Ok(fields_of(r, trailers != 0).get_joined(name)))?;
        put(found, v.is_some() as c_int);
        put_text(value, v.as_deref().unwrap_or(b""))
    })
}

// ----- header names --------------------------------------------------------------------

/// The canonical spelling of header name `name` (LuaSocket's `socket.headers.canonic`,
/// looked up in any case) into `out` (text): "content-type" gives "Content-Type". A name
/// outside the table is copied unchanged; `*found` (optional) tells which. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_headers_canonic(
    name: *const c_char,
    out: *mut sockit_buffer,
    found: *mut c_int,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        put(found, canonic_lookup(name).is_some() as c_int);
        put_text(out, canonic(name).as_bytes())
    })
}

/// The number of names in the canonic table. Never blocks.
#[no_mangle]
pub extern "C" fn sockit_headers_canonic_count() -> usize {
    CANONIC.len()
}

/// Name number `index` of the canonic table (sorted by lower-case name) into `out`
/// (text); `SOCKIT_INVALID` when `index` is out of range. Lower-case it for the key of
/// LuaSocket's table. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_headers_canonic_at(
    index: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let name = CANONIC.get(index).ok_or_else(|| {
            Error::invalid(format!("index {index} is not below {}", CANONIC.len()))
        })?;
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        put_text(out, name.as_bytes())
    })
}

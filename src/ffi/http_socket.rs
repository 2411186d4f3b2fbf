//! `sockit_httpsock`: the symmetric HTTP/1.1 socket (Emilua's `http.socket`) over a
//! connected sockit stream socket, with the request and response messages of
//! `http_message`.
//!
//! The HTTP socket borrows the stream socket: it reads through the socket's own buffer
//! and writes through it, so the socket's timeouts, its buffered input (and select/poll
//! readiness with it) and every other call on it keep working; what the HTTP socket has
//! not consumed stays buffered there (after an upgrade, say).
//!
//! Blocking: every call waits as the stream socket's timeouts allow (`sockit_socket_
//! settimeout`: the block timeout bounds each wait, the total timeout the whole call),
//! and fails with `SOCKIT_TIMEOUT` when they expire.
//!
//! Non-blocking (`sockit_httpsock_set_nonblocking`): a read call that would wait returns
//! `SOCKIT_WOULDBLOCK` having consumed nothing that matters; wait until the socket is
//! readable and call it again with the same message. Write calls never wait: what the
//! kernel does not take is queued in the socket, `sockit_httpsock_flush` pushes it and
//! says how much is left (wait for writability while it is not 0).
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, handle_out, put};
use super::handle::{impl_handle, Shell};
use super::http_message::{sockit_httpreq, sockit_httpres};
use super::socket::sockit_socket;
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::io::stream::StreamKind;
use crate::net::options::OptValue;
use crate::net::socket::State;
use crate::proto::conn::StreamIo;
use crate::proto::http::socket::{HttpSocket, ReadState, Role, Settings, WriteState};
use std::ffi::{c_char, c_int};

/// The socket a `sockit_httpsock` borrows.
struct SockRef(*mut sockit_socket);
// SAFETY: the pointer names a handle whose every use goes through its own lock.
unsafe impl Send for SockRef {}

/// What a `sockit_httpsock` holds.
pub struct HttpSockObj {
    sock: SockRef,
    core: HttpSocket,
    nonblocking: bool,
}

/// A symmetric HTTP/1.1 socket over a borrowed stream socket. Owned by the caller
/// (`sockit_httpsock_free`). Calls on one HTTP socket are serialised.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_httpsock(Shell<HttpSockObj>);
impl_handle!(sockit_httpsock, HttpSockObj, "http socket");

/// The read state (`sockit_httpsock_state`), Emilua's `read_state`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_http_read_state {
    /// "empty": no message is being read (read_request / read_response may come).
    SOCKIT_HTTP_READ_EMPTY = 0,
    /// "message_ready": the head was read; read_some reads the body.
    SOCKIT_HTTP_READ_MESSAGE_READY = 1,
    /// "body_ready": the body was read; read_some reads the trailers.
    SOCKIT_HTTP_READ_BODY_READY = 2,
    /// "finished": the request was read whole; the response comes next.
    SOCKIT_HTTP_READ_FINISHED = 3,
}

/// The write state (`sockit_httpsock_state`), Emilua's `write_state`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_http_write_state {
    /// "empty": no message is being written.
    SOCKIT_HTTP_WRITE_EMPTY = 0,
    /// "continue_issued": "100 Continue" was sent.
    SOCKIT_HTTP_WRITE_CONTINUE_ISSUED = 1,
    /// "metadata_issued": a head was sent; body pieces, trailers, the end may follow.
    SOCKIT_HTTP_WRITE_METADATA_ISSUED = 2,
    /// "finished": the response was sent; the next read_request comes next.
    SOCKIT_HTTP_WRITE_FINISHED = 3,
}

const READ_STATES: [ReadState; 4] = [
    ReadState::Empty,
    ReadState::MessageReady,
    ReadState::BodyReady,
    ReadState::Finished,
];
const WRITE_STATES: [WriteState; 4] = [
    WriteState::Empty,
    WriteState::ContinueIssued,
    WriteState::MetadataIssued,
    WriteState::Finished,
];

/// Runs `f` with the HTTP socket's state and the stream it works on, both locked.
unsafe fn with_io<R>(
    hs: *mut sockit_httpsock,
    f: impl FnOnce(&mut HttpSocket, &mut StreamIo<'_>) -> Result<R>,
) -> Result<R> {
    sockit_httpsock::with(hs, |h| {
        let HttpSockObj {
            sock,
            core,
            nonblocking,
        } = h;
        sockit_socket::with(sock.0, |s| {
            let mut io = StreamIo::new(s.stream()?, *nonblocking);
            f(core, &mut io)
        })
    })
}

/// Exactly one of a request and a response message.
enum Msg {
    Req(*mut sockit_httpreq),
    Res(*mut sockit_httpres),
}

fn one_message(req: *mut sockit_httpreq, res: *mut sockit_httpres) -> Result<Msg> {
    match (req.is_null(), res.is_null()) {
        (false, true) => Ok(Msg::Req(req)),
        (true, false) => Ok(Msg::Res(res)),
        _ => Err(Error::invalid(
            "give exactly one message: req or res (the other NULL)",
        )),
    }
}

/// Runs `f` on the message chosen by `one_message`, then the socket (in that order).
unsafe fn with_message(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
    res: *mut sockit_httpres,
    f: impl FnOnce(
        &mut HttpSocket,
        &mut StreamIo<'_>,
        &mut dyn crate::proto::http::message::Message,
    ) -> Result<()>,
) -> Result<()> {
    match one_message(req, res)? {
        Msg::Req(p) => sockit_httpreq::with(p, |m| with_io(hs, |c, io| f(c, io, m))),
        Msg::Res(p) => sockit_httpres::with(p, |m| with_io(hs, |c, io| f(c, io, m))),
    }
}

// ----- life ------------------------------------------------------------------------

/// A new HTTP socket over `sock`, a connected TCP or Unix stream socket (a LuaSocket
/// or Moonbridge socket handle), in `*out` (owned by the caller). `sock` is borrowed,
/// not taken: it must outlive the HTTP socket (free the HTTP socket first); the caller
/// may go on using it (select, timeouts) but should not read from or write to it while
/// the HTTP socket is in use. On a TCP socket this turns TCP_NODELAY on (the HTTP
/// socket sends each message part in as few writes as it can). The role (server or
/// client) is decided by the first call. Never blocks. `SOCKIT_INVALID` when `sock` is
/// not a connected stream socket.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_new(
    sock: *mut sockit_socket,
    out: *mut *mut sockit_httpsock,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        sockit_socket::with(sock, |s| {
            if s.state() != State::Client {
                return Err(Error::invalid(format!(
                    "sock is not a connected stream socket (it is {})",
                    s.state().name()
                )));
            }
            if s.kind() == StreamKind::Tcp {
                // Best effort: the socket works without it, only slower for streams.
                let _ = s.set_option("tcp-nodelay", OptValue::Bool(true));
            }
            Ok(())
        })?;
        *out = sockit_httpsock::new(HttpSockObj {
            sock: SockRef(sock),
            core: HttpSocket::default(),
            nonblocking: false,
        });
        Ok(())
    })
}

/// Releases the HTTP socket; the stream socket stays open and belongs to the caller.
/// NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_free(hs: *mut sockit_httpsock) {
    sockit_httpsock::free(hs)
}

/// Emilua's close: closes the stream socket (after sending what is queued, within its
/// timeouts) and ends the HTTP socket; every later call gives `SOCKIT_CLOSED`.
/// Idempotent. The stream socket handle still needs `sockit_socket_free`.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_close(hs: *mut sockit_httpsock) -> sockit_status {
    guard(|| {
        sockit_httpsock::with(hs, |h| {
            let HttpSockObj { sock, core, .. } = h;
            if core.is_closed() {
                return Ok(());
            }
            sockit_socket::with(sock.0, |s| match s.stream() {
                Ok(stream) => core.close(&mut StreamIo::new(stream, false)),
                // Already closed underneath: only the HTTP socket is left to close.
                Err(_) => {
                    core.mark_closed();
                    Ok(())
                }
            })
        })
    })
}

/// Non-blocking mode on (`on` non-zero) or off: see the header of this family. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_set_nonblocking(
    hs: *mut sockit_httpsock,
    on: c_int,
) -> sockit_status {
    guard(|| {
        sockit_httpsock::with(hs, |h| {
            h.nonblocking = on != 0;
            Ok(())
        })
    })
}

/// Passes what non-blocking writes queued to the kernel (and, once it is all out, ends
/// the write direction when the last response asked for it); `*pending` (optional)
/// gets the bytes still queued: 0 when everything went. Blocking mode waits until all
/// is out (within the timeouts), so `*pending` is 0 there.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_flush(
    hs: *mut sockit_httpsock,
    pending: *mut usize,
) -> sockit_status {
    guard(|| {
        let left = with_io(hs, |c, io| c.flush(io))?;
        put(pending, left);
        Ok(())
    })
}

/// Bounds on received heads: at most `max_head_bytes` of head (default 65536),
/// `max_line_bytes` per line (default 8192: a longer request line is refused with 414,
/// a longer header line with 431) and `max_fields` fields (default 100); all at least
/// 1 (at most 100000 fields). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_set_limits(
    hs: *mut sockit_httpsock,
    max_head_bytes: usize,
    max_line_bytes: usize,
    max_fields: usize,
) -> sockit_status {
    guard(|| {
        if max_head_bytes == 0 || max_line_bytes == 0 || max_fields == 0 || max_fields > 100_000 {
            return Err(Error::invalid(
                "limits must be at least 1 (and at most 100000 fields)",
            ));
        }
        sockit_httpsock::with(hs, |h| {
            let l = &mut h.core.settings.limits;
            l.max_head_bytes = max_head_bytes;
            l.max_line_bytes = max_line_bytes;
            l.max_headers = max_fields;
            Ok(())
        })
    })
}

/// Bounds on bodies: `max_body` the largest body accepted (negative: any size, the
/// default; a request declaring more is refused with 413 before its body is read, a
/// chunked one when it gets there), `drain_limit` the most bytes of an unread request
/// body drained before the next request (default 262144; a larger one closes the
/// connection), `read_chunk` the most bytes one read_some appends (default 65536, at
/// least 1). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_set_body_limits(
    hs: *mut sockit_httpsock,
    max_body: i64,
    drain_limit: u64,
    read_chunk: usize,
) -> sockit_status {
    guard(|| {
        if read_chunk == 0 {
            return Err(Error::invalid("read_chunk must be at least 1"));
        }
        sockit_httpsock::with(hs, |h| {
            let s: &mut Settings = &mut h.core.settings;
            s.max_body = u64::try_from(max_body).ok();
            s.drain_limit = drain_limit;
            s.read_chunk = read_chunk;
            Ok(())
        })
    })
}

// ----- states ----------------------------------------------------------------------

/// The read and write states (each out-parameter optional). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_state(
    hs: *mut sockit_httpsock,
    read: *mut sockit_http_read_state,
    write: *mut sockit_http_write_state,
) -> sockit_status {
    guard(|| {
        let (r, w) =
            sockit_httpsock::with(hs, |h| Ok((h.core.read_state(), h.core.write_state())))?;
        use sockit_http_read_state::*;
        use sockit_http_write_state::*;
        put(
            read,
            match r {
                ReadState::Empty => SOCKIT_HTTP_READ_EMPTY,
                ReadState::MessageReady => SOCKIT_HTTP_READ_MESSAGE_READY,
                ReadState::BodyReady => SOCKIT_HTTP_READ_BODY_READY,
                ReadState::Finished => SOCKIT_HTTP_READ_FINISHED,
            },
        );
        put(
            write,
            match w {
                WriteState::Empty => SOCKIT_HTTP_WRITE_EMPTY,
                WriteState::ContinueIssued => SOCKIT_HTTP_WRITE_CONTINUE_ISSUED,
                WriteState::MetadataIssued => SOCKIT_HTTP_WRITE_METADATA_ISSUED,
                WriteState::Finished => SOCKIT_HTTP_WRITE_FINISHED,
            },
        );
        Ok(())
    })
}

/// Emilua's name of a read state ("empty", "message_ready", "body_ready", "finished");
/// "" for a value that is none. Static: never free it. Never blocks.
#[no_mangle]
pub extern "C" fn sockit_http_read_state_str(state: c_int) -> *const c_char {
    static NAMES: [&str; 4] = ["empty\0", "message_ready\0", "body_ready\0", "finished\0"];
    debug_assert!(READ_STATES
        .iter()
        .zip(NAMES)
        .all(|(s, n)| n == format!("{}\0", s.as_str())));
    usize::try_from(state)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or("\0", |n| n)
        .as_ptr() as *const c_char
}

/// Emilua's name of a write state ("empty", "continue_issued", "metadata_issued",
/// "finished"); "" for a value that is none. Static: never free it. Never blocks.
#[no_mangle]
pub extern "C" fn sockit_http_write_state_str(state: c_int) -> *const c_char {
    static NAMES: [&str; 4] = [
        "empty\0",
        "continue_issued\0",
        "metadata_issued\0",
        "finished\0",
    ];
    debug_assert!(WRITE_STATES
        .iter()
        .zip(NAMES)
        .all(|(s, n)| n == format!("{}\0", s.as_str())));
    usize::try_from(state)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or("\0", |n| n)
        .as_ptr() as *const c_char
}

/// Facts about the connection (each out-parameter optional): `*is_open` 1 while it may
/// carry more messages (0 after close, after the last message of a connection that
/// does not persist, after a failed send, after an upgrade); `*upgraded` 1 once a 101
/// response or a CONNECT tunnel handed the connection over (the stream socket carries
/// what follows; its buffered input included); `*role` 0 undecided, 1 server, 2
/// client; `*refusal` the status a server should answer the last refused request with
/// (400, 413, 414, 431, 501, 505), 0 when the last read refused nothing. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_info(
    hs: *mut sockit_httpsock,
    is_open: *mut c_int,
    upgraded: *mut c_int,
    role: *mut c_int,
    refusal: *mut c_int,
) -> sockit_status {
    guard(|| {
        sockit_httpsock::with(hs, |h| {
            put(is_open, h.core.is_open() as c_int);
            put(upgraded, h.core.is_upgraded() as c_int);
            put(
                role,
                match h.core.role() {
                    Role::Undecided => 0,
                    Role::Server => 1,
                    Role::Client => 2,
                },
            );
            put(refusal, h.core.last_status() as c_int);
            Ok(())
        })
    })
}

// ----- server ----------------------------------------------------------------------

/// Reads the head of the next request into `req` (its body and trailers emptied):
/// method, target, version, fields (names lower-case; one "expect: 100-continue" when
/// the request expects it). First drains what the last request left of its body (up to
/// the drain limit). read_state must be "empty"; after it "message_ready" (read the body
/// with `sockit_httpsock_read_some`) or "finished" (no body); write_state "empty".
///
/// Blocks until the head is there. Errors: `SOCKIT_CLOSED` when the client closed the
/// connection (or it ended after the last response); `SOCKIT_PROTOCOL` for a request
/// the strict rules refuse (smuggling, limits, malformed; `sockit_httpsock_info` gives
/// the status to answer, `sockit_httpsock_write_error` sends it; only a response may
/// follow, then the connection ends); `SOCKIT_TIMEOUT`, `SOCKIT_WOULDBLOCK`;
/// `SOCKIT_INVALID` in a state that does not allow it (nothing read).
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_read_request(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
) -> sockit_status {
    guard(|| sockit_httpreq::with(req, |r| with_io(hs, |c, io| c.read_request(io, r))))
}

/// Sends "100 Continue" (nothing to an HTTP/1.0 client): the client may send the body
/// it announced. write_state must be "empty"; after it "continue_issued". Optional:
/// `sockit_httpsock_read_some` sends it by itself for a request that expects it, and a
/// final response without it closes the connection when the body was not read.
/// Blocks until sent (non-blocking: queued).
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_response_continue(
    hs: *mut sockit_httpsock,
) -> sockit_status {
    guard(|| with_io(hs, |c, io| c.write_response_continue(io)))
}

/// Writes the response `res` whole (borrowed): status line, fields, Content-Length and
/// body (no body for HEAD, 204, 304). The socket adds "Connection: close" when the
/// connection ends with this response (the client's or `res`'s "Connection: close",
/// HTTP/1.0, an unread body too large to drain), then ends its write direction.
/// A Content-Length in `res` must match the body (for HEAD and 304 it is sent as
/// given); Transfer-Encoding in `res` is refused. An interim status (1xx) is sent alone
/// and changes no state; 101 hands the connection over.
///
/// write_state must be "empty" or "continue_issued"; after it "finished", and
/// read_state "empty". Blocks until sent. Errors: `SOCKIT_INVALID` (state, a field
/// with CR/LF/NUL or another control character, a length that does not match; nothing
/// sent), `SOCKIT_CLOSED`, `SOCKIT_TIMEOUT` (the connection is then unusable).
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_response(
    hs: *mut sockit_httpsock,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| sockit_httpres::with(res, |r| with_io(hs, |c, io| c.write_response(io, r))))
}

/// Writes the status line and fields of `res`, whose body follows in pieces
/// (`sockit_httpsock_write` / `_write_data`, then `_write_trailers` or
/// `_write_end_of_message`): chunked, or raw when `res` has a Content-Length (the
/// pieces must add up to it), or ended by closing the connection for an HTTP/1.0
/// client. Pieces of a response that has no body (HEAD, 204, 304) are dropped. A 1xx
/// status is `SOCKIT_INVALID`. write_state must be "empty" or "continue_issued"; after
/// it "metadata_issued". Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_response_metadata(
    hs: *mut sockit_httpsock,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| {
        sockit_httpres::with(res, |r| {
            with_io(hs, |c, io| c.write_response_metadata(io, r))
        })
    })
}

/// Sends a complete error response for `status` (400 to 599; 0: the status of the last
/// refused request, or 400) with a short text body and "Connection: close", then ends
/// the write direction. For a server refusing a request. write_state must be "empty" or
/// "continue_issued". Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_error(
    hs: *mut sockit_httpsock,
    status: c_int,
) -> sockit_status {
    guard(|| {
        let status = u16::try_from(status)
            .map_err(|_| Error::invalid(format!("status {status} is out of range")))?;
        with_io(hs, |c, io| c.write_error(io, status))
    })
}

// ----- client ----------------------------------------------------------------------

/// Writes the request `req` whole (borrowed): request line, fields, body, with
/// Content-Length when there is a body (or the method is POST, PUT or PATCH). An
/// HTTP/1.1 request needs exactly one Host field; a Content-Length in `req` must match
/// the body; Transfer-Encoding is refused. Requests may be pipelined: read their
/// responses in order with `sockit_httpsock_read_response`. write_state must be "empty"
/// and stays so. Blocks until sent. Errors as `sockit_httpsock_write_response`.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_request(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
) -> sockit_status {
    guard(|| sockit_httpreq::with(req, |r| with_io(hs, |c, io| c.write_request(io, r))))
}

/// Writes the request line and fields of `req`, whose body follows in pieces: chunked,
/// or raw when `req` has a Content-Length (which an HTTP/1.0 request needs). With
/// "expect: 100-continue" in `req`, `sockit_httpsock_read_response` can wait for the
/// interim response before the body is written. write_state must be "empty"; after it
/// "metadata_issued". Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_request_metadata(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
) -> sockit_status {
    guard(|| {
        sockit_httpreq::with(req, |r| {
            with_io(hs, |c, io| c.write_request_metadata(io, r))
        })
    })
}

/// Reads the head of the next response into `res` (body and trailers emptied): status,
/// reason, version, fields (names lower-case). An interim response (1xx but 101) is
/// delivered as it is and leaves read_state "empty": call again for the final one. 101
/// (and 2xx to CONNECT) hand the connection over. read_state must be "empty" and a
/// request must be waiting for its response; after it "message_ready" (a body follows)
/// or "empty". Blocks until the head is there. Errors: `SOCKIT_CLOSED`,
/// `SOCKIT_PROTOCOL` (malformed response, limits), `SOCKIT_TIMEOUT`,
/// `SOCKIT_WOULDBLOCK`, `SOCKIT_INVALID` (state).
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_read_response(
    hs: *mut sockit_httpsock,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| sockit_httpres::with(res, |r| with_io(hs, |c, io| c.read_response(io, r))))
}

// ----- both ------------------------------------------------------------------------

/// Reads the next part of the incoming message's body and appends it (at most the
/// read_chunk limit, 64 KiB by default) to the body of the message given: `req` on a
/// server, `res` on a client (exactly one non-NULL). Once the body has ended it reads
/// the trailers into the message's trailer fields. Empty the body between calls
/// (`sockit_httpreq_set_body(req, NULL, 0)`) to read any size in flat memory. For a
/// request that expects 100-continue, sends "100 Continue" first when no response has
/// begun. read_state must be "message_ready" or "body_ready"; afterwards it may be any
/// of those, "finished" (request) or "empty" (response).
///
/// Blocks until at least one byte came or the body ended. Errors: `SOCKIT_CLOSED` (the
/// peer went away; what came was appended), `SOCKIT_PROTOCOL` (bad chunk, body limit:
/// for a server, see `sockit_httpsock_info`'s refusal), `SOCKIT_TIMEOUT`,
/// `SOCKIT_WOULDBLOCK` (what came was appended), `SOCKIT_INVALID`.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_read_some(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| with_message(hs, req, res, |c, io, m| c.read_some(io, m)))
}

/// Writes the body of the message given (`res` on a server, `req` on a client: exactly
/// one non-NULL) as the next piece of the streamed outgoing message: a chunk, or raw
/// bytes when the message declared its length (more than declared is `SOCKIT_INVALID`,
/// nothing sent). An empty body sends nothing. write_state must be "metadata_issued".
/// Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| with_message(hs, req, res, |c, io, m| c.write(io, m)))
}

/// As `sockit_httpsock_write` with the `len` bytes at `data` as the piece (no message
/// involved, no copy). Blocks until sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_data(
    hs: *mut sockit_httpsock,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        with_io(hs, |c, io| c.write_data(io, data))
    })
}

/// Ends the streamed outgoing message with the trailer fields of the message given
/// (exactly one of `req`, `res`): sent after a chunked body, dropped when the body had
/// a Content-Length or ends by closing. Then as `sockit_httpsock_write_end_of_message`.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_trailers(
    hs: *mut sockit_httpsock,
    req: *mut sockit_httpreq,
    res: *mut sockit_httpres,
) -> sockit_status {
    guard(|| with_message(hs, req, res, |c, io, m| c.write_trailers(io, m)))
}

/// Ends the streamed outgoing message (the last chunk; a message that declared its
/// length must have sent all of it, else `SOCKIT_INVALID`). write_state must be
/// "metadata_issued"; after it "finished" and read_state "empty" for a response (the
/// write direction ends when the connection does), "empty" for a request. Blocks until
/// sent.
#[no_mangle]
pub unsafe extern "C" fn sockit_httpsock_write_end_of_message(
    hs: *mut sockit_httpsock,
) -> sockit_status {
    guard(|| with_io(hs, |c, io| c.write_end_of_message(io)))
}

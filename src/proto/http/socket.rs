//! The symmetric HTTP/1.1 socket (Emilua's `http.socket`, with the rules of the
//! boost.http socket concepts it points to): one object over a connected stream that acts
//! as a server (read_request, write_response, ...) or a client (write_request,
//! read_response, ...), decided by the first action, with explicit read and write states.
//!
//! [`HttpSocket`] holds the protocol state only; every operation takes the transport it
//! runs on, so it works over any [`Transport`] (a sockit stream through
//! [`StreamIo`](crate::proto::conn::StreamIo), blocking on the stream's own timeouts or
//! non-blocking; an in-memory double in the tests). On a non-blocking transport a read
//! operation that would wait fails with `WouldBlock` having changed nothing that matters:
//! call it again once the socket is readable. Write operations never wait there: what the
//! kernel does not take stays queued, and [`HttpSocket::flush`] pushes it.
//!
//! States (exactly Emilua's names):
//! - read_state, incoming request: "empty" → read_request → "message_ready" → read_some
//!   … → "body_ready" → read_some (trailers) → "finished"; back to "empty" when the
//!   response has been written. A request without body goes to "finished" at once.
//! - read_state, incoming response: "empty" → read_response → "message_ready" → … →
//!   "body_ready" → "empty". An interim (1xx) response leaves it "empty".
//! - write_state, outgoing response: "empty" → write_response_continue →
//!   "continue_issued"; write_response_metadata → "metadata_issued" → write … →
//!   write_trailers / write_end_of_message → "finished"; write_response goes to
//!   "finished" at once. The next read_request makes it "empty" again.
//! - write_state, outgoing request: "empty" → write_request_metadata →
//!   "metadata_issued" → … → write_end_of_message → "empty"; write_request stays
//!   "empty" (requests may be pipelined).
//!
//! An operation the state does not allow fails with `Invalid`, naming the state, and
//! sends nothing.
//!
//! Framing: Content-Length for whole messages, chunked for streamed ones (a streamed
//! response to an HTTP/1.0 client is delimited by closing the connection), the caller's
//! own Content-Length honoured (and checked) when given. No body is ever sent for
//! HEAD, 1xx, 204 and 304.
//!
//! Persistence: HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0 only
//! with "Connection: keep-alive" (which the socket then answers). After the last message
//! of a connection the server side ends its write direction, and every further operation
//! reports `Closed`. A request body the server did not read is drained before the next
//! request (up to [`Settings::drain_limit`] bytes); when it is larger, or when the client
//! waits for 100-continue that never came, the response closes the connection instead.
//!
//! Hostile requests are refused by the codec's strict rules (`head::read_request_head`,
//! `framing`): the operation fails with `Protocol`, [`HttpSocket::last_status`] gives the
//! status to answer (400, 413, 414, 431, 501, 505) and [`HttpSocket::write_error`] sends
//! it; the connection closes after that response.

use super::super::conn::Transport;
use super::super::headers::Headers;
use super::body::{BodyReader, BodyWriter, Framing, COALESCE};
use super::framing::{
    check_request_head, request_framing, request_keeps_alive, response_framing,
    response_keeps_alive,
};
use super::head::{
    parse_response_head, read_head, read_request_head, write_request_head_strict,
    write_response_head, Limits, RequestHead,
};
use super::message::{Message, Request, Response};
use super::refusal::{reason_phrase, write_error_response, Refusal};
use crate::error::{Error, ErrorKind, Result};
use std::collections::VecDeque;

/// The read state (Emilua's `read_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    Empty,
    MessageReady,
    BodyReady,
    Finished,
}

impl ReadState {
    /// Emilua's name: "empty", "message_ready", "body_ready", "finished".
    pub fn as_str(self) -> &'static str {
        match self {
            ReadState::Empty => "empty",
            ReadState::MessageReady => "message_ready",
            ReadState::BodyReady => "body_ready",
            ReadState::Finished => "finished",
        }
    }
}

/// The write state (Emilua's `write_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    Empty,
    ContinueIssued,
    MetadataIssued,
    Finished,
}

impl WriteState {
    /// Emilua's name: "empty", "continue_issued", "metadata_issued", "finished".
    pub fn as_str(self) -> &'static str {
        match self {
            WriteState::Empty => "empty",
            WriteState::ContinueIssued => "continue_issued",
            WriteState::MetadataIssued => "metadata_issued",
            WriteState::Finished => "finished",
        }
    }
}

/// Which side the socket plays, decided by its first action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Undecided,
    Server,
    Client,
}

/// What a socket accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Bounds on received heads (the server's strict defaults: 64 KiB of head, 100
    /// fields, 8 KiB lines). Trailers get the same.
    pub limits: Limits,
    /// The largest body accepted (`None`: any size): a request declaring more is refused
    /// with 413 before its body is read, a chunked one when it gets there; a response
    /// larger than this is a `Protocol` error.
    pub max_body: Option<u64>,
    /// The most bytes of an unread request body drained before the next request; a
    /// larger rest closes the connection. Default 256 KiB.
    pub drain_limit: u64,
    /// The most body bytes one read_some appends. Default 64 KiB.
    pub read_chunk: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limits: Limits::server(),
            max_body: None,
            drain_limit: 256 * 1024,
            read_chunk: 64 * 1024,
        }
    }
}

/// The request a server is answering.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    head_request: bool,
    version: u8,
    keep_alive: bool,
    expects_continue: bool,
    continue_sent: bool,
    /// The request was refused: only an (error) response may follow, then the end.
    refused: bool,
}

/// A request a client is waiting for the response to.
#[derive(Debug, Clone, Copy)]
struct Pending {
    head_request: bool,
    connect: bool,
}

/// The symmetric HTTP/1.1 socket's state; see the module documentation.
#[derive(Debug)]
pub struct HttpSocket {
    role: Role,
    read_state: ReadState,
    write_state: WriteState,
    /// The connection may carry more messages.
    open: bool,
    /// `close` was called.
    closed: bool,
    /// A 101 or a CONNECT tunnel: the socket no longer speaks HTTP.
    upgraded: bool,
    pub settings: Settings,
    /// The incoming message's body, while it is read.
    reader: Option<BodyReader>,
    /// The incoming response lets the connection carry more.
    incoming_keep: bool,
    /// Server: the unread body of the last request, and how much of it had been read.
    drain: Option<(BodyReader, u64)>,
    exchange: Option<Exchange>,
    /// The outgoing message ends the connection.
    closing: bool,
    /// The body of a streamed outgoing message.
    writer: Option<BodyWriter>,
    /// Client: a request said "Connection: close"; no more may be sent.
    no_more_requests: bool,
    pending: VecDeque<Pending>,
    scratch: Vec<u8>,
    last_status: u16,
    /// The write direction is to be shut down once the queued output is out.
    finish_pending: bool,
}

impl Default for HttpSocket {
    fn default() -> HttpSocket {
        HttpSocket::new(Settings::default())
    }
}

fn state_error(op: &str, what: &str, state: &str, hint: &str) -> Error {
    Error::invalid(format!("{op}: not allowed when {what} is '{state}'{hint}"))
}

fn is_retry(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::WouldBlock | ErrorKind::Timeout)
}

/// The Content-Length the caller set on an outgoing message, checked.
fn user_length(h: &Headers, op: &str) -> Result<Option<u64>> {
    let mut found = None;
    for v in h.get_all("content-length") {
        let t = super::super::headers::trim(v);
        let n = std::str::from_utf8(t)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{op}: Content-Length '{}' is not a number",
                    String::from_utf8_lossy(v)
                ))
            })?;
        if found.is_some_and(|m| m != n) {
            return Err(Error::invalid(format!(
                "{op}: two different Content-Length fields"
            )));
        }
        found = Some(n);
    }
    Ok(found)
}

/// Whether the caller's Transfer-Encoding is exactly "chunked" (`None`: none given).
fn user_chunked(h: &Headers) -> Option<bool> {
    h.get_joined("transfer-encoding")
        .map(|v| super::super::headers::trim(&v).eq_ignore_ascii_case(b"chunked"))
}

fn add(extra: &mut Headers, name: &str, value: &[u8]) {
    extra.push_unchecked(name.to_string(), value.to_vec());
}

impl HttpSocket {
    pub fn new(settings: Settings) -> HttpSocket {
        HttpSocket {
            role: Role::Undecided,
            read_state: ReadState::Empty,
            write_state: WriteState::Empty,
            open: true,
            closed: false,
            upgraded: false,
            settings,
            reader: None,
            incoming_keep: true,
            drain: None,
            exchange: None,
            closing: false,
            writer: None,
            no_more_requests: false,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            last_status: 0,
            finish_pending: false,
        }
    }

    pub fn read_state(&self) -> ReadState {
        self.read_state
    }

    pub fn write_state(&self) -> WriteState {
        self.write_state
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the connection may still carry messages (false after close, after the
    /// last message of a connection that does not persist, after a failed send).
    pub fn is_open(&self) -> bool {
        self.open && !self.closed && !self.upgraded
    }

    /// Whether a 101 response or a CONNECT tunnel took the connection over: the socket
    /// speaks HTTP no more; what follows is the underlying stream's (its buffered input
    /// included).
    pub fn is_upgraded(&self) -> bool {
        self.upgraded
    }

    /// The status a server should answer the last refused request with (400, 413, 414,
    /// 431, 501, 505), 0 when the last read did not refuse anything.
    pub fn last_status(&self) -> u16 {
        self.last_status
    }

    // ----- checks ------------------------------------------------------------------------

    fn check_usable(&self, op: &str) -> Result<()> {
        if self.closed {
            return Err(Error::new(ErrorKind::Closed, "closed"));
        }
        if self.upgraded {
            return Err(Error::invalid(format!(
                "{op}: the connection was upgraded (101 or CONNECT) and speaks HTTP no more"
            )));
        }
        Ok(())
    }

    fn check_open(&self, op: &str) -> Result<()> {
        self.check_usable(op)?;
        if !self.open {
            return Err(Error::new(
                ErrorKind::Closed,
                format!("closed: {op}: the connection carries no more messages"),
            ));
        }
        Ok(())
    }

    fn take_role(&mut self, want: Role, op: &str) -> Result<()> {
        match (self.role, want) {
            (Role::Undecided, _) => Ok(()),
            (r, w) if r == w => Ok(()),
            (Role::Server, _) => Err(Error::invalid(format!(
                "{op}: this socket is a server (it read a request first)"
            ))),
            _ => Err(Error::invalid(format!(
                "{op}: this socket is a client (it wrote a request first)"
            ))),
        }
    }

    fn read_state_error(&self, op: &str, hint: &str) -> Error {
        state_error(op, "read_state", self.read_state.as_str(), hint)
    }

    fn write_state_error(&self, op: &str, hint: &str) -> Error {
        state_error(op, "write_state", self.write_state.as_str(), hint)
    }

    /// Sends `data`; a failure leaves a message half sent, so the connection is done.
    fn send<T: Transport + ?Sized>(&mut self, t: &mut T, data: &[u8]) -> Result<()> {
        let r = t.send_all(data);
        if r.is_err() {
            self.open = false;
        }
        r
    }

    fn send_scratch<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        let out = std::mem::take(&mut self.scratch);
        let r = self.send(t, &out);
        self.scratch = out;
        self.scratch.clear();
        r
    }

    /// Passes queued output to the kernel (a non-blocking transport's) and, once it is
    /// all out, ends the write direction when the last message asked for it. Returns the
    /// bytes still queued.
    pub fn flush<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<usize> {
        let left = t.flush_output()?;
        if left == 0 && self.finish_pending {
            match t.finish_output() {
                Ok(()) => self.finish_pending = false,
                Err(e) if e.kind == ErrorKind::WouldBlock => return Ok(1),
                Err(e) => return Err(e),
            }
        }
        Ok(left)
    }

    /// Ends the connection's write direction after the last message (now, or once the
    /// queued output is out).
    fn end_connection<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        self.open = false;
        match t.finish_output() {
            Ok(()) => Ok(()),
            Err(e) if e.kind == ErrorKind::WouldBlock => {
                self.finish_pending = true;
                Ok(())
            }
            Err(e) if e.kind == ErrorKind::Closed => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Marks the socket closed when the stream underneath already is.
    pub fn mark_closed(&mut self) {
        self.closed = true;
        self.open = false;
        self.reader = None;
        self.drain = None;
    }

    /// Closes the underlying stream (flushing what is queued first, within its timeout).
    /// Idempotent.
    pub fn close<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.open = false;
        self.reader = None;
        self.drain = None;
        t.close_transport()
    }

    // ----- server ------------------------------------------------------------------------

    /// Reads the head of the next request into `req` (its body and trailers are
    /// cleared): method, target, version and fields (names lower-cased). A request that
    /// expects 100-continue keeps exactly one "expect: 100-continue" field; others lose
    /// theirs. Drains what the last request left unread first.
    ///
    /// read_state must be "empty"; after it, "message_ready" (a body follows: read_some)
    /// or "finished" (no body). write_state becomes "empty".
    ///
    /// Errors: `Closed` "closed" when the client closed the connection between requests;
    /// `Protocol` for a refused request (see [`last_status`](Self::last_status) and
    /// [`write_error`](Self::write_error); read_state is then "finished" and only a
    /// response may follow); `Timeout` / `WouldBlock` (call again).
    pub fn read_request<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        req: &mut Request,
    ) -> Result<()> {
        let op = "read_request";
        self.take_role(Role::Server, op)?;
        self.check_open(op)?;
        if self.read_state != ReadState::Empty {
            return Err(self.read_state_error(op, self.server_hint()));
        }
        self.drain_previous(t)?;
        let head = match read_request_head(t, &self.settings.limits) {
            Ok(h) => h,
            Err(r) => return Err(self.refused_head(t, r)),
        };
        let framing = match check_request_head(&head)
            .and_then(|()| request_framing(&head, self.settings.max_body))
        {
            Ok(f) => f,
            Err(r) => return Err(self.refuse(r)),
        };
        let expects = head.version >= 1 && head.headers.has_token("expect", "100-continue");
        self.exchange = Some(Exchange {
            head_request: head.method.eq_ignore_ascii_case("HEAD"),
            version: head.version,
            keep_alive: request_keeps_alive(&head),
            expects_continue: expects && framing != Framing::Empty,
            continue_sent: false,
            refused: false,
        });
        fill_request(req, head, expects);
        self.role = Role::Server;
        self.write_state = WriteState::Empty;
        self.last_status = 0;
        self.closing = false;
        if framing == Framing::Empty {
            self.read_state = ReadState::Finished;
        } else {
            self.reader = Some(BodyReader::strict(framing, self.settings.limits));
            self.read_state = ReadState::MessageReady;
        }
        Ok(())
    }

    fn server_hint(&self) -> &'static str {
        match self.read_state {
            ReadState::Empty => "",
            _ if self.write_state == WriteState::Finished => "",
            _ => " (write the response first)",
        }
    }

    /// Drains the body the last request left unread, up to the drain limit.
    fn drain_previous<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        let Some((reader, base)) = self.drain.as_mut() else {
            return Ok(());
        };
        let limit = self.settings.drain_limit;
        let base = *base;
        loop {
            match reader.step(t, &mut |_| Ok(())) {
                Ok(true) => {
                    if reader.received() - base > limit {
                        break;
                    }
                }
                Ok(false) => {
                    self.drain = None;
                    return Ok(());
                }
                Err(e) if is_retry(&e) => return Err(e),
                Err(e) => {
                    self.drain = None;
                    self.open = false;
                    return Err(e);
                }
            }
        }
        self.drain = None;
        self.end_connection(t)?;
        Err(Error::new(
            ErrorKind::Closed,
            format!(
                "closed: the last request's unread body was larger than the drain limit \
                 of {limit} bytes"
            ),
        ))
    }

    /// A request head that could not be read: a refusal, a close or a retry.
    fn refused_head<T: Transport + ?Sized>(&mut self, t: &mut T, r: Refusal) -> Error {
        if is_retry(&r.error) {
            return r.error;
        }
        if r.status == 0 {
            // The client went away between requests.
            self.open = false;
            let _ = t.finish_output();
            return r.error;
        }
        self.refuse(r)
    }

    /// Records a refused request: only a response (the error one) may follow.
    fn refuse(&mut self, r: Refusal) -> Error {
        self.role = Role::Server;
        self.last_status = r.status;
        self.exchange = Some(Exchange {
            head_request: false,
            version: 1,
            keep_alive: false,
            expects_continue: false,
            continue_sent: false,
            refused: true,
        });
        self.reader = None;
        self.read_state = ReadState::Finished;
        self.write_state = WriteState::Empty;
        r.error
    }

    /// Sends "100 Continue" (to an HTTP/1.0 client: nothing, it would not understand):
    /// the client may send the body it announced. write_state must be "empty"; after it
    /// "continue_issued". read_some sends it by itself when the request expects it and
    /// no response has begun.
    pub fn write_response_continue<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        let op = "write_response_continue";
        self.take_role(Role::Server, op)?;
        self.check_open(op)?;
        let Some(ex) = self.exchange else {
            return Err(Error::invalid(format!("{op}: no request has been read")));
        };
        if self.write_state != WriteState::Empty {
            return Err(self.write_state_error(op, ""));
        }
        if ex.version >= 1 && !ex.refused {
            self.send(t, b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        if let Some(ex) = self.exchange.as_mut() {
            ex.continue_sent = true;
        }
        self.write_state = WriteState::ContinueIssued;
        Ok(())
    }

    /// Writes the response `res` whole: status line, fields, Content-Length and body
    /// (nothing of the body for HEAD, 204, 304). The socket adds "Connection: close"
    /// when the connection ends with this response (and, for an HTTP/1.0 client that
    /// asked for it, "Connection: keep-alive"). A Content-Length the caller set must
    /// match the body (for HEAD and 304 it is sent as given); Transfer-Encoding is the
    /// socket's business and refused here.
    ///
    /// An interim response (1xx) is sent alone and changes no state; 101 hands the
    /// connection over (see [`is_upgraded`](Self::is_upgraded)).
    ///
    /// write_state must be "empty" or "continue_issued"; after it "finished", and
    /// read_state "empty" (the next read_request may follow).
    pub fn write_response<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        res: &Response,
    ) -> Result<()> {
        let op = "write_response";
        let ex = self.response_allowed(op)?;
        if (100..200).contains(&res.status) {
            return self.write_interim(t, ex, res);
        }
        let (extra, framing) = self.response_head(op, ex, res, false)?;
        let body: &[u8] = if framing == Framing::Empty {
            &[]
        } else {
            &res.body
        };
        write_response_head(
            res.status,
            reason(res),
            &[&res.headers, &extra],
            &mut self.scratch,
        )?;
        if body.len() <= COALESCE {
            self.scratch.extend_from_slice(body);
            self.send_scratch(t)?;
        } else {
            self.send_scratch(t)?;
            self.send(t, body)?;
        }
        self.response_done(t)
    }

    /// Writes the status line and fields of a response whose body follows in pieces
    /// (write, then write_trailers or write_end_of_message): chunked, or raw when the
    /// caller set Content-Length (the pieces must add up to it), or delimited by closing
    /// the connection for an HTTP/1.0 client. A response that cannot have a body (HEAD,
    /// 204, 304) drops the pieces. A 1xx status is refused (use write_response).
    ///
    /// write_state must be "empty" or "continue_issued"; after it "metadata_issued".
    pub fn write_response_metadata<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        res: &Response,
    ) -> Result<()> {
        let op = "write_response_metadata";
        let ex = self.response_allowed(op)?;
        if (100..200).contains(&res.status) {
            return Err(Error::invalid(format!(
                "{op}: a {} response has no body; send it with write_response",
                res.status
            )));
        }
        let (extra, framing) = self.response_head(op, ex, res, true)?;
        write_response_head(
            res.status,
            reason(res),
            &[&res.headers, &extra],
            &mut self.scratch,
        )?;
        self.send_scratch(t)?;
        self.writer = Some(BodyWriter::new(framing, "response body"));
        self.write_state = WriteState::MetadataIssued;
        Ok(())
    }

    /// Sends a complete error response for `status` (0: the status of the last refused
    /// request, or 400) with a short text body, and ends the connection after it. For a
    /// server that refuses a request. write_state must be "empty" or "continue_issued".
    pub fn write_error<T: Transport + ?Sized>(&mut self, t: &mut T, status: u16) -> Result<()> {
        let op = "write_error";
        self.response_allowed(op)?;
        let status = match status {
            0 if self.last_status != 0 => self.last_status,
            0 => 400,
            s => s,
        };
        if !(400..=599).contains(&status) {
            return Err(Error::invalid(format!(
                "{op}: status {status} is not an error status (400 to 599)"
            )));
        }
        write_error_response(status, &mut self.scratch);
        self.send_scratch(t)?;
        self.closing = true;
        self.response_done(t)
    }

    fn response_allowed(&mut self, op: &str) -> Result<Exchange> {
        self.take_role(Role::Server, op)?;
        self.check_usable(op)?;
        let Some(ex) = self.exchange else {
            return Err(Error::invalid(format!("{op}: no request has been read")));
        };
        if !self.open {
            return Err(Error::new(ErrorKind::Closed, "closed"));
        }
        if !matches!(
            self.write_state,
            WriteState::Empty | WriteState::ContinueIssued
        ) {
            return Err(self.write_state_error(op, ""));
        }
        Ok(ex)
    }

    /// An interim response: 100 as write_response_continue, 101 hands the connection
    /// over, the others (102, 103) go out alone. HTTP/1.0 clients get none but 101.
    fn write_interim<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        ex: Exchange,
        res: &Response,
    ) -> Result<()> {
        if ex.version == 0 && res.status != 101 {
            return Ok(());
        }
        write_response_head(res.status, reason(res), &[&res.headers], &mut self.scratch)?;
        self.send_scratch(t)?;
        match res.status {
            101 => {
                self.upgraded = true;
                self.reader = None;
                self.write_state = WriteState::Finished;
            }
            100 => {
                if let Some(ex) = self.exchange.as_mut() {
                    ex.continue_sent = true;
                }
                if self.write_state == WriteState::Empty {
                    self.write_state = WriteState::ContinueIssued;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The fields the socket adds to a final response and its body framing; decides
    /// whether the connection ends with it.
    fn response_head(
        &mut self,
        op: &str,
        ex: Exchange,
        res: &Response,
        streamed: bool,
    ) -> Result<(Headers, Framing)> {
        let code = res.status;
        if !(200..=999).contains(&code) {
            return Err(Error::invalid(format!(
                "{op}: status code {code} is not between 100 and 999"
            )));
        }
        let h = &res.headers;
        let length = user_length(h, op)?;
        let chunked = user_chunked(h);
        let never_body = code == 204 || code == 304;
        let mut extra = Headers::new();
        let mut closing = !ex.keep_alive || ex.refused || h.has_token("connection", "close");
        let framing = if chunked.is_some() {
            let ok = streamed && chunked == Some(true) && length.is_none();
            if !ok || never_body || ex.head_request || ex.version == 0 {
                return Err(Error::invalid(format!(
                    "{op}: Transfer-Encoding is chosen by the socket; do not set it"
                )));
            }
            Framing::Chunked
        } else if never_body {
            if !res.body.is_empty() && !streamed {
                return Err(Error::invalid(format!(
                    "{op}: a {code} response has no body"
                )));
            }
            if code == 204 && length.is_some() {
                return Err(Error::invalid(format!(
                    "{op}: a 204 response has no Content-Length"
                )));
            }
            Framing::Empty
        } else if ex.head_request {
            if length.is_none() && !streamed && !res.body.is_empty() {
                add(
                    &mut extra,
                    "content-length",
                    res.body.len().to_string().as_bytes(),
                );
            }
            Framing::Empty
        } else if streamed {
            match length {
                Some(n) => Framing::Length(n),
                None if ex.version >= 1 => {
                    add(&mut extra, "transfer-encoding", b"chunked");
                    Framing::Chunked
                }
                None => {
                    closing = true;
                    Framing::UntilClose
                }
            }
        } else {
            let n = res.body.len() as u64;
            match length {
                Some(m) if m != n => {
                    return Err(Error::invalid(format!(
                        "{op}: Content-Length says {m} but the body has {n} bytes"
                    )))
                }
                Some(_) => {}
                None => add(&mut extra, "content-length", n.to_string().as_bytes()),
            }
            Framing::Length(n)
        };
        if let Some(reader) = &self.reader {
            // The request's body has not been read to its end.
            let small = reader
                .remaining()
                .map_or(true, |n| n <= self.settings.drain_limit);
            if (ex.expects_continue && !ex.continue_sent) || !small {
                closing = true;
            }
        }
        if closing {
            if !h.has_token("connection", "close") {
                add(&mut extra, "connection", b"close");
            }
        } else if ex.version == 0 && !h.contains("connection") {
            add(&mut extra, "connection", b"keep-alive");
        }
        self.closing = closing;
        Ok((extra, framing))
    }

    /// The response has been written: the exchange ends.
    fn response_done<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        self.write_state = WriteState::Finished;
        self.read_state = ReadState::Empty;
        self.exchange = None;
        self.writer = None;
        if let Some(reader) = self.reader.take() {
            if !self.closing {
                let read = reader.received();
                self.drain = Some((reader, read));
            }
        }
        if self.closing {
            self.end_connection(t)?;
        }
        Ok(())
    }

    // ----- client ------------------------------------------------------------------------

    /// Writes the request `req` whole: request line (HTTP/1.`version`), fields and body,
    /// with Content-Length when there is a body (or the method is POST, PUT or PATCH).
    /// HTTP/1.1 requests need exactly one Host field. A Content-Length the caller set
    /// must match the body; Transfer-Encoding is refused. Requests may be pipelined: the
    /// responses are read in order with read_response.
    ///
    /// write_state must be "empty" and stays so.
    pub fn write_request<T: Transport + ?Sized>(&mut self, t: &mut T, req: &Request) -> Result<()> {
        let op = "write_request";
        let extra = self.request_allowed(op, req)?;
        let (mut extra, length) = (extra, user_length(&req.headers, op)?);
        if req.headers.contains("transfer-encoding") {
            return Err(Error::invalid(format!(
                "{op}: Transfer-Encoding is chosen by the socket (write_request_metadata \
                 streams a body chunked); do not set it"
            )));
        }
        let n = req.body.len() as u64;
        match length {
            Some(m) if m != n => {
                return Err(Error::invalid(format!(
                    "{op}: Content-Length says {m} but the body has {n} bytes"
                )))
            }
            Some(_) => {}
            None if n > 0 || method_has_body(&req.method) => {
                add(&mut extra, "content-length", n.to_string().as_bytes())
            }
            None => {}
        }
        write_request_head_strict(
            &req.method,
            &req.target,
            req.version,
            &[&req.headers, &extra],
            &mut self.scratch,
        )?;
        self.request_sent(req);
        if req.body.len() <= COALESCE {
            self.scratch.extend_from_slice(&req.body);
            self.send_scratch(t)
        } else {
            self.send_scratch(t)?;
            self.send(t, &req.body)
        }
    }

    /// Writes the request line and fields of a request whose body follows in pieces
    /// (write, then write_trailers or write_end_of_message): chunked, or raw when the
    /// caller set Content-Length (the pieces must add up to it). An HTTP/1.0 request
    /// needs the Content-Length. With "expect: 100-continue" the caller may wait for the
    /// interim response with read_response before writing the body.
    ///
    /// write_state must be "empty"; after it "metadata_issued".
    pub fn write_request_metadata<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        req: &Request,
    ) -> Result<()> {
        let op = "write_request_metadata";
        let mut extra = self.request_allowed(op, req)?;
        let length = user_length(&req.headers, op)?;
        let framing = match (user_chunked(&req.headers), length) {
            (Some(_), Some(_)) | (Some(false), None) => {
                return Err(Error::invalid(format!(
                    "{op}: Transfer-Encoding is chosen by the socket; do not set it"
                )))
            }
            (Some(true), None) if req.version >= 1 => Framing::Chunked,
            (None, Some(n)) => Framing::Length(n),
            (None, None) if req.version >= 1 => {
                add(&mut extra, "transfer-encoding", b"chunked");
                Framing::Chunked
            }
            _ => {
                return Err(Error::invalid(format!(
                    "{op}: an HTTP/1.0 request body needs a Content-Length"
                )))
            }
        };
        write_request_head_strict(
            &req.method,
            &req.target,
            req.version,
            &[&req.headers, &extra],
            &mut self.scratch,
        )?;
        self.request_sent(req);
        self.send_scratch(t)?;
        self.writer = Some(BodyWriter::new(framing, "request body"));
        self.write_state = WriteState::MetadataIssued;
        Ok(())
    }

    fn request_allowed(&mut self, op: &str, req: &Request) -> Result<Headers> {
        self.take_role(Role::Client, op)?;
        self.check_open(op)?;
        if self.no_more_requests {
            return Err(Error::new(
                ErrorKind::Closed,
                format!("closed: {op}: the last request said \"Connection: close\""),
            ));
        }
        if self.write_state != WriteState::Empty {
            return Err(self.write_state_error(op, " (end the streamed request first)"));
        }
        let hosts = req.headers.get_all("host").count();
        if hosts > 1 || (hosts == 0 && req.version >= 1) {
            return Err(Error::invalid(format!(
                "{op}: an HTTP/1.1 request needs exactly one Host field (it has {hosts})"
            )));
        }
        Ok(Headers::new())
    }

    fn request_sent(&mut self, req: &Request) {
        self.role = Role::Client;
        self.pending.push_back(Pending {
            head_request: req.method.eq_ignore_ascii_case("HEAD"),
            connect: req.method.eq_ignore_ascii_case("CONNECT"),
        });
        let close = req.headers.has_token("connection", "close")
            || (req.version == 0 && !req.headers.has_token("connection", "keep-alive"));
        if close {
            self.no_more_requests = true;
        }
    }

    /// Reads the head of the next response into `res` (body and trailers cleared):
    /// status, reason, version, fields. An interim response (1xx but 101) is delivered
    /// as it is and leaves read_state "empty": read_response again for the final one.
    /// 101 (and 2xx to CONNECT) hand the connection over.
    ///
    /// read_state must be "empty", and a request must be waiting for its response; after
    /// it "message_ready" (a body follows) or "empty" (none).
    pub fn read_response<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        res: &mut Response,
    ) -> Result<()> {
        let op = "read_response";
        self.take_role(Role::Client, op)?;
        self.check_usable(op)?;
        if self.read_state != ReadState::Empty {
            return Err(self.read_state_error(op, " (read the body with read_some first)"));
        }
        if !self.open {
            return Err(Error::new(ErrorKind::Closed, "closed"));
        }
        let Some(&pending) = self.pending.front() else {
            return Err(Error::invalid(format!(
                "{op}: no request is waiting for its response"
            )));
        };
        let head = match read_head(t, &self.settings.limits, parse_response_head) {
            Ok(h) => h,
            Err(e) if is_retry(&e) => return Err(e),
            Err(e) => {
                self.open = false;
                return Err(e);
            }
        };
        let interim = (100..200).contains(&head.code);
        let method = match (pending.head_request, pending.connect) {
            (true, _) => "HEAD",
            (_, true) => "CONNECT",
            _ => "GET",
        };
        let framing = match response_framing(method, &head) {
            Ok(f) => f,
            Err(e) => {
                self.open = false;
                return Err(e);
            }
        };
        let keep = response_keeps_alive(&head, framing);
        res.status = head.code;
        res.reason = head.reason;
        res.version = head.version;
        res.headers = head.headers;
        res.body.clear();
        res.trailers.clear();
        if interim && head.code != 101 {
            return Ok(());
        }
        self.pending.pop_front();
        if head.code == 101 || (pending.connect && (200..300).contains(&head.code)) {
            self.upgraded = true;
            return Ok(());
        }
        if let (Some(max), Framing::Length(n)) = (self.settings.max_body, framing) {
            if n > max {
                self.open = false;
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("response body of {n} bytes is larger than the limit of {max} bytes"),
                ));
            }
        }
        self.incoming_keep = keep;
        if framing == Framing::Empty {
            self.incoming_done();
        } else {
            self.reader = Some(BodyReader::new(framing, self.settings.limits));
            self.read_state = ReadState::MessageReady;
        }
        Ok(())
    }

    // ----- both --------------------------------------------------------------------------

    /// Reads the next part of the incoming message's body, appending at most
    /// `settings.read_chunk` bytes to `msg`'s body; once the body has ended, reads the
    /// trailers into `msg`'s trailers. Waits until at least one byte of body came or the
    /// body ended. For a request that expects 100-continue, sends "100 Continue" first
    /// when no response has begun.
    ///
    /// read_state must be "message_ready" or "body_ready"; afterwards it may be any of
    /// "message_ready", "body_ready" (only the trailers are left), "finished" (request)
    /// or "empty" (response).
    pub fn read_some<T: Transport + ?Sized, M: Message + ?Sized>(
        &mut self,
        t: &mut T,
        msg: &mut M,
    ) -> Result<()> {
        let op = "read_some";
        self.check_usable(op)?;
        if !matches!(
            self.read_state,
            ReadState::MessageReady | ReadState::BodyReady
        ) {
            let hint = match self.read_state {
                ReadState::Empty => " (read_request or read_response first)",
                _ => " (the message has been read)",
            };
            return Err(self.read_state_error(op, hint));
        }
        if let Some(ex) = self.exchange {
            if ex.expects_continue && !ex.continue_sent && self.write_state == WriteState::Empty {
                self.write_response_continue(t)?;
            }
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(Error::new(ErrorKind::Internal, "read_some without a body"));
        };
        let max = self.settings.read_chunk;
        let body = msg.body_mut();
        let r = if reader.data_done() {
            reader.step(t, &mut |_| Ok(())).map(|_| ())
        } else {
            reader
                .step_max(t, max, &mut |c| {
                    body.extend_from_slice(c);
                    Ok(())
                })
                .map(|_| ())
        };
        let received = reader.received();
        let (data_done, done) = (reader.data_done(), reader.is_done());
        if let Err(e) = r {
            return Err(self.body_failed(e, 400));
        }
        if let Some(max) = self.settings.max_body {
            if received > max {
                let e = Error::new(
                    ErrorKind::Protocol,
                    format!("body larger than the limit of {max} bytes"),
                );
                return Err(self.body_failed(e, 413));
            }
        }
        if done {
            if let Some(mut reader) = self.reader.take() {
                *msg.trailers_mut() = reader.take_trailers();
            }
            self.incoming_done();
        } else if data_done {
            self.read_state = ReadState::BodyReady;
        }
        Ok(())
    }

    /// The incoming body broke off or was refused (with `status`, for a server).
    fn body_failed(&mut self, e: Error, status: u16) -> Error {
        if is_retry(&e) {
            return e;
        }
        self.reader = None;
        match self.role {
            Role::Server if e.kind == ErrorKind::Protocol => {
                // Only a response may follow, and the connection ends after it.
                self.last_status = status;
                if let Some(ex) = self.exchange.as_mut() {
                    ex.refused = true;
                }
                self.read_state = ReadState::Finished;
            }
            _ => self.open = false,
        }
        e
    }

    /// The incoming message has been read whole.
    fn incoming_done(&mut self) {
        self.reader = None;
        if self.role == Role::Server {
            self.read_state = ReadState::Finished;
        } else {
            self.read_state = ReadState::Empty;
            if !self.incoming_keep {
                self.open = false;
            }
        }
    }

    /// Writes `msg`'s body as the next piece of the streamed outgoing message (see
    /// [`write_data`](Self::write_data)).
    pub fn write<T: Transport + ?Sized, M: Message + ?Sized>(
        &mut self,
        t: &mut T,
        msg: &M,
    ) -> Result<()> {
        self.write_data(t, msg.body())
    }

    /// Writes `data` as the next piece of the streamed outgoing message: a chunk, or raw
    /// bytes when the message declared its length (more than declared is refused, and
    /// nothing sent). An empty piece sends nothing. write_state must be
    /// "metadata_issued".
    pub fn write_data<T: Transport + ?Sized>(&mut self, t: &mut T, data: &[u8]) -> Result<()> {
        let op = "write";
        self.check_usable(op)?;
        if self.write_state != WriteState::MetadataIssued {
            return Err(self.write_state_error(op, " (write the metadata first)"));
        }
        let Some(mut w) = self.writer.take() else {
            return Err(Error::new(
                ErrorKind::Internal,
                "write without a body writer",
            ));
        };
        let mut queued = std::mem::take(&mut self.scratch);
        let r = w.send(t, data, &mut queued);
        self.scratch = queued;
        self.scratch.clear();
        self.writer = Some(w);
        if let Err(e) = &r {
            if e.kind != ErrorKind::Invalid {
                self.open = false;
            }
        }
        r
    }

    /// Ends the streamed outgoing message with `msg`'s trailers (sent with a chunked
    /// body; dropped when the body had a Content-Length or ends by closing). Then as
    /// write_end_of_message.
    pub fn write_trailers<T: Transport + ?Sized, M: Message + ?Sized>(
        &mut self,
        t: &mut T,
        msg: &M,
    ) -> Result<()> {
        self.end_message(t, "write_trailers", msg.trailers())
    }

    /// Ends the streamed outgoing message (the last chunk; a message that declared its
    /// length must have sent all of it). write_state must be "metadata_issued"; after
    /// it "finished" and read_state "empty" for a response, "empty" for a request.
    pub fn write_end_of_message<T: Transport + ?Sized>(&mut self, t: &mut T) -> Result<()> {
        self.end_message(t, "write_end_of_message", &Headers::new())
    }

    fn end_message<T: Transport + ?Sized>(
        &mut self,
        t: &mut T,
        op: &str,
        trailers: &Headers,
    ) -> Result<()> {
        self.check_usable(op)?;
        if self.write_state != WriteState::MetadataIssued {
            return Err(self.write_state_error(op, " (write the metadata first)"));
        }
        super::head::check_fields(trailers, true)?;
        let Some(w) = self.writer.as_mut() else {
            return Err(Error::new(ErrorKind::Internal, "no body writer"));
        };
        w.finish(trailers, &mut self.scratch)?;
        self.send_scratch(t)?;
        self.writer = None;
        if self.role == Role::Server {
            self.response_done(t)
        } else {
            self.write_state = WriteState::Empty;
            Ok(())
        }
    }
}

fn reason(res: &Response) -> &str {
    if res.reason.is_empty() {
        reason_phrase(res.status)
    } else {
        &res.reason
    }
}

fn method_has_body(method: &str) -> bool {
    ["POST", "PUT", "PATCH"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// Moves a parsed request head into `req`, normalising Expect as boost.http's server
/// socket does: exactly one "expect: 100-continue" when the request expects it, none
/// otherwise.
fn fill_request(req: &mut Request, head: RequestHead, expects: bool) {
    req.method = head.method;
    req.target = head.target;
    req.version = head.version;
    req.headers = head.headers;
    let had_expect = req
        .headers
        .get_all("expect")
        .any(|v| super::super::headers::trim(v).eq_ignore_ascii_case(b"100-continue"));
    if had_expect {
        let others: Vec<Vec<u8>> = req
            .headers
            .get_all("expect")
            .filter(|v| !super::super::headers::trim(v).eq_ignore_ascii_case(b"100-continue"))
            .map(<[u8]>::to_vec)
            .collect();
        req.headers.remove("expect");
        for v in others {
            req.headers.push_unchecked("expect".to_string(), v);
        }
        if expects {
            req.headers
                .push_unchecked("expect".to_string(), b"100-continue".to_vec());
        }
    }
    req.body.clear();
    req.trailers.clear();
}

#[cfg(test)]
mod tests;

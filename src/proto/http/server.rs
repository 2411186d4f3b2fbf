//! The server side of one HTTP/1.1 connection, as Moonbridge's HTTP module needs it: read
//! a request head under limits, read its body piece by piece, write the response with the
//! framing it calls for, decide whether the connection carries another request. Heads,
//! framing, persistence and refusals are the shared codec's (`head::read_request_head`,
//! `framing`, `body`, `refusal`), read and written through `conn::StreamIo`; this file
//! only sequences them and applies the server's limits and timeouts.
//!
//! Timeouts against slow clients (Moonbridge's later options): `idle_timeout` until the
//! first byte of a request, `request_header_timeout` for the rest of its head,
//! `stall_timeout` for every wait while the exchange goes on (no progress), and
//! `response_timeout` from the end of the head until the response is finished.
//!
//! Responses: a body shorter than `min_output_chunk` written before `finish` goes out with
//! a Content-Length, head and body in one write; a longer one (or one flushed early) is
//! chunked for HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0
//! ones; a Content-Length the handler set is kept and enforced. HEAD responses and
//! 1xx/204/304 have no body (data written for them is dropped).

use super::body::{chunk_head, BodyReader, Framing, LAST_CHUNK};
use super::framing::{check_request_head, request_framing, request_keeps_alive, status_has_body};
use super::head::{read_request_head, write_response_head, Limits, RequestHead};
use super::refusal::write_error_response;
use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Stream, Wait};
use crate::io::timeout::Timeout;
use crate::proto::conn::StreamIo;
use crate::proto::headers::{check_name, check_value, Headers};
use std::time::{Duration, Instant};

/// The most header fields a request may have (beyond that: 431).
pub const MAX_REQUEST_FIELDS: usize = 512;

/// A connection's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest request head (request line and fields): beyond it 431.
    pub head_limit: usize,
    /// The largest request body: beyond it 413 (None: no limit).
    pub body_limit: Option<u64>,
    /// Request body pieces handed out are at most this long.
    pub max_input_chunk: usize,
    /// Response bodies are written in pieces of at least this size (unless flushed).
    pub min_output_chunk: usize,
    pub idle_timeout: Option<Duration>,
    pub stall_timeout: Option<Duration>,
    pub request_header_timeout: Option<Duration>,
    pub response_timeout: Option<Duration>,
    /// Fields sent with every response.
    pub static_headers: Headers,
    /// Asked while waiting for a request, and before keeping a connection open: true
    /// means the server is stopping (a prefork worker got SIGTERM), so the connection
    /// ends after the response in hand.
    pub stopping: fn() -> bool,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            head_limit: 1024 * 1024,
            body_limit: Some(64 * 1024 * 1024),
            max_input_chunk: 16384,
            min_output_chunk: 16384,
            idle_timeout: Some(Duration::from_secs(65)),
            stall_timeout: Some(Duration::from_secs(60)),
            request_header_timeout: Some(Duration::from_secs(120)),
            response_timeout: Some(Duration::from_secs(3600)),
            static_headers: Headers::new(),
            stopping: crate::sys::signal::worker_terminating,
        }
    }
}

/// A request the server refuses or cannot read: the status to answer (400, 413, 414, 431,
/// 501, 505; 0 when there is nobody to answer: the client closed, went silent, or the
/// connection failed) and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub error: Error,
}

fn refused(status: u16, error: Error) -> Refused {
    Refused { status, error }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Head not written yet: the framing is decided when it is.
    Pending,
    /// Content-Length: this many bytes still to send.
    Fixed(u64),
    Chunked,
    /// Delimited by closing the connection (an HTTP/1.0 client).
    UntilClose,
    /// No body (HEAD, 1xx, 204, 304): data is dropped.
    NoBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Resp {
    /// Nothing sent for the current request yet.
    Idle,
    /// A status was given; fields may be added.
    Status,
    /// The head is decided (maybe not written yet: Mode::Pending); body data follows.
    Body,
    /// Finished.
    Done,
}

/// One connection's exchanges (see the module comment).
#[derive(Debug)]
pub struct Exchange {
    cfg: ServerConfig,
    // The current request.
    method: String,
    version: u8,
    has_request: bool,
    body: Option<BodyReader>,
    body_received: u64,
    expect_continue: bool,
    continue_sent: bool,
    client_keeps_alive: bool,
    deadline: Option<Instant>,
    // The response.
    resp: Resp,
    code: u16,
    reason: String,
    fields: Headers,
    content_length: Option<u64>,
    mode: Mode,
    out: Vec<u8>,
    close_after: bool,
    /// The connection cannot be used any more (an I/O or framing failure).
    broken: bool,
}

/// Waits until `stream` has input, for at most `limit`, giving up early when `stopping`
/// says so (checked when a signal interrupts the wait). Whether input is there.
fn wait_input(
    stream: &mut Stream,
    limit: Option<Duration>,
    stopping: fn() -> bool,
) -> Result<bool> {
    if !stream.buffered().is_empty() {
        return Ok(true);
    }
    let Some(fd) = stream.fd() else {
        return Err(Error::new(ErrorKind::Closed, "closed"));
    };
    let end = limit.map(|d| Instant::now() + d);
    loop {
        if stopping() {
            return Ok(false);
        }
        let ms = match end {
            None => -1,
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                left.as_millis().clamp(1, i32::MAX as u128) as i32
            }
        };
        let mut p = [libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        match crate::sys::poll::poll_once(&mut p, ms)? {
            Some(0) | None => continue,
            Some(_) => return Ok(true),
        }
    }
}

/// Runs `f` with the stream's timeouts set to `t`, then puts the old ones back.
fn with_timeout<R>(stream: &mut Stream, t: Timeout, f: impl FnOnce(&mut Stream) -> R) -> R {
    let old = stream.timeout;
    stream.timeout = t;
    let r = f(stream);
    stream.timeout = old;
    r
}

impl Exchange {
    pub fn new(cfg: ServerConfig) -> Exchange {
        Exchange {
            cfg,
            method: String::new(),
            version: 1,
            has_request: false,
            body: None,
            body_received: 0,
            expect_continue: false,
            continue_sent: false,
            client_keeps_alive: false,
            deadline: None,
            resp: Resp::Idle,
            code: 0,
            reason: String::new(),
            fields: Headers::new(),
            content_length: None,
            mode: Mode::Pending,
            out: Vec::new(),
            close_after: false,
            broken: false,
        }
    }

    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// Timeouts while the exchange goes on: each wait `stall_timeout`, all until the
    /// response deadline.
    fn busy_timeout(&self) -> Timeout {
        Timeout {
            block: self.cfg.stall_timeout,
            total: self
                .deadline
                .map(|d| d.saturating_duration_since(Instant::now())),
        }
    }

    fn fail<T>(&mut self, e: Error) -> Result<T> {
        self.broken = true;
        Err(e)
    }

    /// Reads the next request head. Fails with the status to answer (0: none; the
    /// connection is over).
    pub fn read_request(
        &mut self,
        stream: &mut Stream,
    ) -> std::result::Result<RequestHead, Refused> {
        if self.broken {
            return Err(refused(
                0,
                Error::new(ErrorKind::Closed, "the connection has failed"),
            ));
        }
        if self.has_request && self.resp != Resp::Done {
            return Err(refused(
                0,
                Error::invalid("read_request: the previous response is not finished"),
            ));
        }
        self.reset();
        let cfg = &self.cfg;
        // Until the first byte: idle_timeout (and not once the server is stopping).
        if stream.buffered().is_empty() {
            let why = match wait_input(stream, cfg.idle_timeout, cfg.stopping) {
                Ok(true) => None,
                Ok(false) => Some(Error::new(
                    ErrorKind::Timeout,
                    "no request came within idle_timeout (or the server is stopping)",
                )),
                Err(e) => Some(e),
            };
            if let Some(e) = why {
                self.broken = true;
                return Err(refused(0, e));
            }
        }
        // The rest of the head: request_header_timeout, stall_timeout per wait.
        let limits = self.limits();
        let t = Timeout {
            block: cfg.stall_timeout,
            total: cfg.request_header_timeout,
        };
        let checked = with_timeout(stream, t, |s| {
            let head = read_request_head(&mut StreamIo::new(s, false), &limits)?;
            check_request_head(&head)?;
            Ok::<_, super::refusal::Refusal>(head)
        })
        .and_then(|head| {
            let framing = request_framing(&head, self.cfg.body_limit)?;
            Ok((head, framing))
        });
        let (head, framing) = match checked {
            Ok(hf) => hf,
            Err(r) => {
                self.broken = true;
                return Err(refused(r.status, r.error));
            }
        };
        let h = &head.headers;
        self.method = head.method.clone();
        self.version = head.version;
        self.client_keeps_alive = request_keeps_alive(&head);
        self.expect_continue = head.version >= 1
            && framing != Framing::Empty
            && h.get("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        self.body = Some(BodyReader::new(framing, limits));
        self.deadline = self.cfg.response_timeout.map(|d| Instant::now() + d);
        self.has_request = true;
        Ok(head)
    }

    /// The codec's limits for request heads (and chunked trailers): the whole head at
    /// most `head_limit`, and so each line.
    fn limits(&self) -> Limits {
        Limits {
            max_head_bytes: self.cfg.head_limit,
            max_headers: MAX_REQUEST_FIELDS,
            max_line_bytes: self.cfg.head_limit,
        }
    }

    fn reset(&mut self) {
        self.method.clear();
        self.has_request = false;
        self.body = None;
        self.body_received = 0;
        self.expect_continue = false;
        self.continue_sent = false;
        self.deadline = None;
        self.resp = Resp::Idle;
        self.code = 0;
        self.reason.clear();
        self.fields = Headers::new();
        self.content_length = None;
        self.mode = Mode::Pending;
        self.out.clear();
    }

    /// The current request's method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Whether the current request has a body (by its framing).
    pub fn has_body(&self) -> bool {
        self.body
            .as_ref()
            .is_some_and(|b| b.framing() != Framing::Empty)
    }

    /// Whether the current request's body has been read to its end.
    pub fn body_done(&self) -> bool {
        self.body.as_ref().map_or(true, |b| b.is_done())
    }

    /// The next piece of the request body (at most `max_input_chunk` bytes), or `None` at
    /// its end. Sends "100 Continue" first when the client waits for it. A body past the
    /// limit is a refusal with 413, a malformed one 400; a client that vanished or went
    /// silent gives status 0.
    pub fn read_body(
        &mut self,
        stream: &mut Stream,
    ) -> std::result::Result<Option<Vec<u8>>, Refused> {
        let Some(body) = self.body.as_mut() else {
            return Ok(None);
        };
        if body.is_done() {
            return Ok(None);
        }
        if self.expect_continue && !self.continue_sent {
            if self.resp != Resp::Idle && self.resp != Resp::Status {
                self.broken = true;
                return Err(refused(
                    0,
                    Error::invalid(
                        "the request body cannot be read: a response was sent without 100 Continue",
                    ),
                ));
            }
            self.continue_sent = true;
            let t = self.busy_timeout();
            let r = with_timeout(stream, t, |s| {
                s.write(b"HTTP/1.1 100 Continue\r\n\r\n", Wait::Timeout)
                    .and_then(|()| s.flush(Wait::Timeout).map(|_| ()))
            });
            if let Err(e) = r {
                self.broken = true;
                return Err(refused(0, e));
            }
        }
        let t = self.busy_timeout();
        let max = self.cfg.max_input_chunk.max(1);
        let body = self.body.as_mut().expect("checked above");
        let mut piece = Vec::new();
        let r: std::result::Result<(), Error> = with_timeout(stream, t, |s| {
            let mut io = StreamIo::new(s, false);
            // Steps that only read chunk-size lines deliver nothing: go on until a piece
            // came or the body ended.
            while piece.is_empty() {
                let more = body.step_max(&mut io, max, &mut |p: &[u8]| {
                    piece.extend_from_slice(p);
                    Ok(())
                })?;
                if !more {
                    break;
                }
            }
            Ok(())
        });
        if let Err(e) = r {
            self.broken = true;
            let status = if e.kind == ErrorKind::Protocol {
                400
            } else {
                0
            };
            return Err(refused(status, e));
        }
        self.body_received += piece.len() as u64;
        if let Some(limit) = self.cfg.body_limit {
            if self.body_received > limit {
                self.broken = true;
                return Err(refused(
                    413,
                    Error::new(
                        ErrorKind::Protocol,
                        format!("request body larger than the limit of {limit} bytes"),
                    ),
                ));
            }
        }
        if piece.is_empty() {
            return Ok(None);
        }
        Ok(Some(piece))
    }

    // ----- the response ---------------------------------------------------------------

    /// Starts the response with `code` (100..=999) and `reason` (no CR, LF, NUL).
    pub fn status(&mut self, code: u16, reason: &str) -> Result<()> {
        if !self.has_request {
            return Err(Error::invalid("status: there is no request to answer"));
        }
        if self.resp != Resp::Idle {
            return Err(Error::invalid("status: the status has been given already"));
        }
        if !(100..=999).contains(&code) {
            return Err(Error::invalid(format!(
                "status code {code} is not three digits"
            )));
        }
        crate::proto::conn::check_wire_text("reason phrase", reason.as_bytes())?;
        self.code = code;
        self.reason = reason.to_string();
        self.resp = Resp::Status;
        Ok(())
    }

    /// Adds a response field. Content-Length is taken as the body's length (and
    /// enforced); Transfer-Encoding is the server's to set; "Connection: close" closes
    /// the connection after the response.
    pub fn header(&mut self, name: &str, value: &[u8]) -> Result<()> {
        if self.resp != Resp::Status {
            return Err(Error::invalid(
                "header: only after the status and before the body",
            ));
        }
        check_name(name)?;
        check_value(name, value)?;
        if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .map(str::trim)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| Error::invalid("Content-Length is not a number"))?;
            if self.content_length.is_some_and(|m| m != n) {
                return Err(Error::invalid("Content-Length given twice, differently"));
            }
            // Written by head_bytes, with the framing.
            self.content_length = Some(n);
            return Ok(());
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Error::invalid(
                "Transfer-Encoding is set by the server (it chunks bodies of unknown length)",
            ));
        } else if name.eq_ignore_ascii_case("connection") {
            if value
                .split(|&b| b == b',')
                .any(|t| crate::proto::headers::trim(t).eq_ignore_ascii_case(b"close"))
            {
                self.close_after = true;
            }
            return Ok(()); // the server writes Connection itself
        }
        self.fields.push_unchecked(name.to_string(), value.to_vec());
        Ok(())
    }

    /// Closes the connection after this response ("Connection: close").
    pub fn close_after(&mut self) {
        self.close_after = true;
    }

    fn bodiless(&self) -> bool {
        !status_has_body(&self.method, self.code)
    }

    /// Whether the connection stays open after this response.
    fn keeps_alive(&self) -> bool {
        !self.close_after
            && !self.broken
            && self.client_keeps_alive
            && self.mode != Mode::UntilClose
            && !(self.cfg.stopping)()
    }

    /// Writes the head into `self.out`'s front, with the framing of `mode`.
    fn head_bytes(&mut self, mode: Mode, body_len: Option<u64>) -> Result<Vec<u8>> {
        self.mode = mode;
        let mut fields = Headers::new();
        match mode {
            Mode::Fixed(_) => {
                let n = self.content_length.or(body_len).unwrap_or(0);
                fields.push_unchecked("Content-Length".into(), n.to_string().into_bytes())
            }
            Mode::Chunked => fields.push_unchecked("Transfer-Encoding".into(), b"chunked".to_vec()),
            Mode::NoBody => {
                if let Some(n) = self.content_length {
                    fields.push_unchecked("Content-Length".into(), n.to_string().into_bytes())
                }
            }
            Mode::UntilClose | Mode::Pending => {}
        }
        if self.keeps_alive() {
            if self.version == 0 {
                fields.push_unchecked("Connection".into(), b"keep-alive".to_vec());
            }
        } else {
            fields.push_unchecked("Connection".into(), b"close".to_vec());
        }
        let mut out = Vec::with_capacity(256);
        write_response_head(
            self.code,
            &self.reason,
            &[&self.cfg.static_headers, &self.fields, &fields],
            &mut out,
        )?;
        Ok(out)
    }

    /// The framing for a body whose length is not known yet.
    fn streaming_mode(&self) -> Mode {
        if self.bodiless() {
            Mode::NoBody
        } else if let Some(n) = self.content_length {
            Mode::Fixed(n)
        } else if self.version >= 1 {
            Mode::Chunked
        } else {
            Mode::UntilClose
        }
    }

    fn require_body_state(&mut self, what: &str) -> Result<()> {
        match self.resp {
            Resp::Status => {
                self.resp = Resp::Body;
                self.mode = Mode::Pending;
                Ok(())
            }
            Resp::Body => Ok(()),
            Resp::Idle => Err(Error::invalid(format!("{what}: no status was given"))),
            Resp::Done => Err(Error::invalid(format!("{what}: the response is finished"))),
        }
    }

    /// Ends the head: writes it out now (flushing) with the framing for a body of
    /// unknown length.
    pub fn finish_headers(&mut self, stream: &mut Stream) -> Result<()> {
        self.require_body_state("finish_headers")?;
        if self.mode == Mode::Pending {
            let mode = self.streaming_mode();
            let head = self.head_bytes(mode, None)?;
            self.write_raw(stream, &head)?;
        }
        self.flush(stream)
    }

    /// Adds body data (dropped for HEAD, 1xx, 204, 304).
    pub fn send(&mut self, stream: &mut Stream, data: &[u8]) -> Result<()> {
        self.require_body_state("send")?;
        if data.is_empty() {
            return Ok(());
        }
        if self.mode == Mode::NoBody || (self.mode == Mode::Pending && self.bodiless()) {
            return Ok(());
        }
        if let Mode::Fixed(left) = self.mode {
            if data.len() as u64 > left.saturating_sub(self.out.len() as u64) {
                return self.fail(Error::invalid(
                    "response body longer than its Content-Length",
                ));
            }
        } else if let (Mode::Pending, Some(n)) = (self.mode, self.content_length) {
            if (self.out.len() + data.len()) as u64 > n {
                return self.fail(Error::invalid(
                    "response body longer than its Content-Length",
                ));
            }
        }
        self.out.extend_from_slice(data);
        if self.out.len() >= self.cfg.min_output_chunk {
            self.push_out(stream)?;
        }
        Ok(())
    }

    /// Writes the head if still pending (streaming framing) and the buffered body.
    fn push_out(&mut self, stream: &mut Stream) -> Result<()> {
        if self.mode == Mode::Pending {
            let mode = self.streaming_mode();
            let head = self.head_bytes(mode, None)?;
            self.write_raw(stream, &head)?;
        }
        if self.out.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.out);
        let r = match self.mode {
            Mode::Chunked => {
                let mut h = Vec::with_capacity(12);
                chunk_head(data.len(), &mut h);
                self.write_raw(stream, &h)
                    .and_then(|()| self.write_raw(stream, &data))
                    .and_then(|()| self.write_raw(stream, b"\r\n"))
            }
            Mode::Fixed(left) => {
                self.mode = Mode::Fixed(left - data.len() as u64);
                self.write_raw(stream, &data)
            }
            Mode::UntilClose => self.write_raw(stream, &data),
            Mode::NoBody | Mode::Pending => Ok(()),
        };
        self.out = data;
        self.out.clear();
        r
    }

    fn write_raw(&mut self, stream: &mut Stream, data: &[u8]) -> Result<()> {
        let t = self.busy_timeout();
        let r = with_timeout(stream, t, |s| s.write(data, Wait::Timeout));
        match r {
            Ok(()) => Ok(()),
            Err(e) => self.fail(e),
        }
    }

    /// Writes out the head (streaming framing) and everything buffered, and flushes.
    pub fn flush(&mut self, stream: &mut Stream) -> Result<()> {
        match self.resp {
            Resp::Idle | Resp::Done => return Ok(()),
            Resp::Status => self.require_body_state("flush")?,
            Resp::Body => {}
        }
        self.push_out(stream)?;
        let t = self.busy_timeout();
        match with_timeout(stream, t, |s| s.flush(Wait::Timeout)) {
            Ok(_) => Ok(()),
            Err(e) => self.fail(e),
        }
    }

    /// Finishes the response: a body that was never pushed goes out with its
    /// Content-Length together with the head; a chunked one gets its last chunk. Then,
    /// if the connection is to stay open, what the handler left of the request body is
    /// read and dropped.
    pub fn finish(&mut self, stream: &mut Stream) -> Result<()> {
        match self.resp {
            Resp::Done => return Ok(()),
            Resp::Idle => return Err(Error::invalid("finish: no status was given")),
            Resp::Status => self.require_body_state("finish")?,
            Resp::Body => {}
        }
        // A request body the handler did not read keeps the connection only if it can
        // be read past: not when the client waits for 100 Continue that was not sent.
        if !self.body_done() && self.expect_continue && !self.continue_sent {
            self.close_after = true;
        }
        if self.mode == Mode::Pending {
            let mode = if self.bodiless() {
                Mode::NoBody
            } else {
                let n = self.out.len() as u64;
                if self.content_length.is_some_and(|c| c != n) {
                    return self.fail(Error::invalid(format!(
                        "response body of {n} bytes does not match its Content-Length of {}",
                        self.content_length.unwrap_or(0)
                    )));
                }
                Mode::Fixed(n)
            };
            let n = self.out.len() as u64;
            let mut all = self.head_bytes(mode, Some(n))?;
            if mode != Mode::NoBody {
                all.extend_from_slice(&self.out);
                self.mode = Mode::Fixed(0);
            }
            self.out.clear();
            self.write_raw(stream, &all)?;
        } else {
            self.push_out(stream)?;
            match self.mode {
                Mode::Chunked => self.write_raw(stream, LAST_CHUNK)?,
                Mode::Fixed(left) if left > 0 => {
                    return self.fail(Error::invalid(format!(
                        "response body ends {left} bytes short of its Content-Length"
                    )));
                }
                _ => {}
            }
        }
        let t = self.busy_timeout();
        if let Err(e) = with_timeout(stream, t, |s| s.flush(Wait::Timeout)) {
            return self.fail(e);
        }
        self.resp = Resp::Done;
        if self.keeps_alive() && !self.body_done() {
            // Read past the rest of the request body (within its limit and timeouts).
            loop {
                match self.read_body(stream) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        self.broken = true;
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the connection may carry another request (after `finish`).
    pub fn keep_alive(&self) -> bool {
        self.resp == Resp::Done && self.keeps_alive() && self.body_done()
    }

    /// Answers a refused request with a short error response for `status` (400..=599)
    /// and marks the connection for closing.
    pub fn refuse(&mut self, stream: &mut Stream, status: u16) -> Result<()> {
        let status = if (400..=599).contains(&status) {
            status
        } else {
            400
        };
        self.close_after = true;
        self.broken = true;
        self.resp = Resp::Done;
        let mut out = Vec::new();
        write_error_response(status, &mut out);
        let t = Timeout {
            block: self.cfg.stall_timeout,
            total: self.cfg.stall_timeout,
        };
        with_timeout(stream, t, |s| {
            s.write(&out, Wait::Timeout)?;
            s.flush(Wait::Timeout).map(|_| ())
        })
    }
}

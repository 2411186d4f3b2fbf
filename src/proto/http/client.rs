//! The HTTP/1.1 client: one request in, one response out, with redirects, Basic
//! authentication, a proxy, keep-alive reuse and timeouts.
//!
//! Behaviour follows LuaSocket (`socket.http.request`, 1.3b's `http_request`) where it
//! has one and libcurl where it does better:
//! - redirects 301, 302, 307 and 308 are followed for GET and HEAD requests without a
//!   body, 303 for any method (which becomes GET; HEAD stays HEAD); at most
//!   `max_redirects` (default 5) and never the same URL twice; Authorization and Cookie
//!   headers are not sent to another origin; a Location with another scheme is not
//!   followed (the 3xx response is the result);
//! - with `RedirectRules::LuaSocket`, redirects are decided as LuaSocket 3 decides them
//!   instead: 301, 302, 303 and 307 only, for GET and HEAD requests without a body, the
//!   next request a GET, the Location resolved by LuaSocket's rules; after
//!   `max_redirects` the 3xx response is the result (its body goes to the sink), and
//!   a URL may come again (the limit ends a loop);
//! - keep-alive connections are pooled per origin and reused; a request that fails on a
//!   reused connection before any byte of the response arrived is sent once more on a new
//!   connection when its method is idempotent and its body can be sent again;
//! - `timeout.block` bounds every wait, `timeout.total` the whole request with its
//!   redirects;
//! - the response body goes to a sink as it arrives; on any failure the sink is told
//!   (`fail`) after receiving everything that arrived.

use super::body::{BodyReader, BodyWriter, COALESCE};
use super::framing::{response_framing, response_keeps_alive, Framing};
use super::head::{
    check_method, parse_response_head, read_head, write_request_head, Limits, ResponseHead,
};
use super::pool::Pool;
use super::target::Target;
use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::Timeout;
use crate::ltn12::{BoxSource, Sink};
use crate::proto::conn::{TcpConn, Transport};
use crate::proto::headers::Headers;
use std::time::{Duration, Instant};

/// The User-Agent sent unless the request has one.
pub const USER_AGENT: &str = concat!("sockit/", env!("CARGO_PKG_VERSION"));
/// LuaSocket's default: each wait of a request lasts at most 60 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed at most, by default (LuaSocket 3 and libcurl's common setting).
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// How long a request with "Expect: 100-continue" waits for the interim response before
/// sending its body anyway (libcurl's default).
pub const EXPECT_WAIT: Duration = Duration::from_secs(1);
/// Bodies of redirect responses up to this size are read and dropped so the connection
/// can be reused; larger ones close it.
const MAX_DISCARD: u64 = 1024 * 1024;
/// Chunk size asked of body sources.
const SEND_CHUNK: usize = 64 * 1024;

/// Which redirects the client follows (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedirectRules {
    /// 301, 302, 307, 308 for GET/HEAD, 303 for any method; loops and too many
    /// redirects are errors.
    #[default]
    Strict,
    /// LuaSocket 3's choices, for `socket.http`.
    LuaSocket,
}

/// A request body.
pub enum Body {
    None,
    /// Bytes held by the request (sent again on a retry or for another perform).
    Bytes(Vec<u8>),
    /// A source, read once: its `size` gives a Content-Length, else the body is chunked.
    Source(BoxSource),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::None => f.write_str("None"),
            Body::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Body::Source(_) => f.write_str("Source"),
        }
    }
}

/// What to request and how.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// Header fields to send, in order (names in canonical spelling on the wire). Host,
    /// User-Agent and Authorization given here replace the ones the client would add;
    /// Content-Length and Transfer-Encoding are framing directives (see `perform`).
    pub headers: Headers,
    pub body: Body,
    /// Follow redirects (LuaSocket's `redirect`; 1.3b's `stay` is the opposite).
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub redirect_rules: RedirectRules,
    /// An HTTP proxy, "http://[user:password@]host[:port]".
    pub proxy: Option<String>,
    /// Basic credentials; the URL's userinfo is used when this is `None`.
    pub auth: Option<(String, String)>,
    pub timeout: Timeout,
    /// Send "Expect: 100-continue" with a body and wait for the go-ahead.
    pub expect_continue: bool,
    /// Keep the connection for another request (else "Connection: close").
    pub keep_alive: bool,
    pub limits: Limits,
}

impl Request {
    /// A request with the defaults: follow up to 5 redirects, 60 s per wait, keep-alive.
    pub fn new(method: &str, url: &str) -> Result<Request> {
        check_method(method)?;
        Ok(Request {
            method: method.to_string(),
            url: url.to_string(),
            headers: Headers::new(),
            body: Body::None,
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            redirect_rules: RedirectRules::Strict,
            proxy: None,
            auth: None,
            timeout: Timeout {
                block: Some(DEFAULT_TIMEOUT),
                total: None,
            },
            expect_continue: false,
            keep_alive: true,
            limits: Limits::default(),
        })
    }
}

/// What came back. Filled as the exchange goes, so after a failure it holds what did
/// arrive (the status of a response whose body broke off, for example).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// 0 until a status line arrived.
    pub code: u16,
    pub reason: String,
    pub status_line: String,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// Header fields, names lower-cased, in order, repeats kept.
    pub headers: Headers,
    /// Trailer fields of a chunked body.
    pub trailers: Headers,
    /// Body bytes delivered to the sink.
    pub received: u64,
    /// The URL of the last request made (after redirects).
    pub url: String,
    /// Redirects followed.
    pub redirects: u32,
    /// The Location of the last redirect followed, as it came (surrounding blanks off).
    pub location: String,
    /// Whether the connection was reused from the pool (for the last request made).
    pub reused: bool,
}

impl Response {
    fn set_head(&mut self, h: ResponseHead) {
        self.code = h.code;
        self.reason = h.reason;
        self.status_line = h.status_line;
        self.version = h.version;
        self.headers = h.headers;
        self.trailers.clear();
        self.received = 0;
    }
}

/// Where a connection goes: the origin, or a proxy.
struct Route {
    host: String,
    port: u16,
    key: String,
    /// Proxy-Authorization value, when the proxy URL had credentials.
    proxy_auth: Option<String>,
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        crate::proto::base64(format!("{user}:{password}").as_bytes())
    )
}

fn is_idempotent(method: &str) -> bool {
    ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// A failure of one exchange, with whether sending the request again on a new
/// connection is safe (the reused connection was dead before any response byte came).
struct Failed {
    err: Error,
    retry: bool,
}

impl From<Error> for Failed {
    fn from(err: Error) -> Failed {
        Failed { err, retry: false }
    }
}

/// The request clock: the block timeout per wait, the total for the whole request.
#[derive(Clone, Copy)]
struct Clock {
    block: Option<Duration>,
    end: Option<Instant>,
}

impl Clock {
    fn new(t: Timeout) -> Clock {
        Clock {
            block: t.block,
            end: t.total.map(|d| Instant::now() + d),
        }
    }

    /// The timeouts for the next phase; `Timeout` once the total is spent.
    fn remaining(&self) -> Result<Timeout> {
        let total = match self.end {
            Some(end) => {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::new(ErrorKind::Timeout, "timeout"));
                }
                Some(left)
            }
            None => None,
        };
        Ok(Timeout {
            block: self.block,
            total,
        })
    }
}

/// An HTTP client: a pool of keep-alive connections and the request logic.
#[derive(Debug, Default)]
pub struct Client {
    pub pool: Pool,
}

impl Client {
    pub fn new() -> Client {
        Client::default()
    }

    /// Performs `req`, delivering the final response's body to `sink` (then `end`) and
    /// filling `resp`. Errors: `Invalid` (bad URL, header, method), `Unsupported`
    /// ("https://"), connect errors, `Timeout`, `Closed` (the server went away; the body
    /// received so far was delivered), `Protocol` (malformed response, limits, redirect
    /// loop or too many redirects). On error the sink gets `fail` with the error.
    pub fn perform(
        &mut self,
        req: &mut Request,
        sink: &mut dyn Sink,
        resp: &mut Response,
    ) -> Result<()> {
        *resp = Response::default();
        match self.perform_inner(req, sink, resp) {
            Ok(()) => sink.end(),
            Err(e) => {
                sink.fail(&e);
                Err(e)
            }
        }
    }

    fn perform_inner(
        &mut self,
        req: &mut Request,
        sink: &mut dyn Sink,
        resp: &mut Response,
    ) -> Result<()> {
        let clock = Clock::new(req.timeout);
        let first = Target::parse(&req.url)?;
        let origin = first.origin();
        let route_proxy = match &req.proxy {
            Some(p) => Some(Target::parse(p).map_err(|e| e.context("proxy"))?),
            None => None,
        };
        let mut target = first;
        let mut method = req.method.clone();
        let mut send_body = true;
        let mut visited: Vec<String> = Vec::new();
        let mut no_body = Body::None;
        loop {
            resp.url = target.url.clone();
            visited.push(strip_fragment(&target.url).to_string());
            let same_origin = target.origin() == origin;
            let route = match &route_proxy {
                Some(p) => Route {
                    host: p.host.clone(),
                    port: p.port,
                    key: format!("proxy {}", p.origin()),
                    proxy_auth: p
                        .user
                        .as_deref()
                        .map(|u| basic(u, p.password.as_deref().unwrap_or(""))),
                },
                None => Route {
                    host: target.host.clone(),
                    port: target.port,
                    key: target.origin(),
                    proxy_auth: None,
                },
            };
            let request_target = if route_proxy.is_some() {
                target.absolute_form()
            } else {
                target.path.clone()
            };
            let view = ReqView {
                headers: &req.headers,
                auth: req.auth.as_ref(),
                expect_continue: req.expect_continue,
                keep_alive: req.keep_alive,
                limits: req.limits,
            };
            let body = if send_body {
                &mut req.body
            } else {
                &mut no_body
            };
            let (headers, framing) =
                build_headers(&view, &target, &route, same_origin, body, &method)?;
            let ex = self.exchange(
                &route,
                &method,
                &request_target,
                &headers,
                body,
                framing,
                &view,
                clock,
            )?;
            let (mut conn, head, reused, body_sent) = ex;
            resp.reused = reused;
            let rframing = response_framing(&method, &head)?;
            let keep = response_keeps_alive(&head, rframing) && req.keep_alive && body_sent;
            let code = head.code;
            let location = head
                .headers
                .get_str("location")
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty());
            resp.set_head(head);

            // Redirect?
            let had_body = !matches!(req.body, Body::None) && send_body;
            let luasocket = req.redirect_rules == RedirectRules::LuaSocket;
            let next_method = match code {
                _ if luasocket => match code {
                    301 | 302 | 303 | 307
                        if !had_body
                            && (method == "GET" || method == "HEAD")
                            && resp.redirects < req.max_redirects =>
                    {
                        Some("GET".to_string())
                    }
                    _ => None,
                },
                301 | 302 | 307 | 308
                    if !had_body
                        && (method.eq_ignore_ascii_case("GET")
                            || method.eq_ignore_ascii_case("HEAD")) =>
                {
                    Some(method.clone())
                }
                303 if method.eq_ignore_ascii_case("HEAD") => Some(method.clone()),
                303 => Some("GET".to_string()),
                _ => None,
            };
            let next = match (req.follow_redirects, next_method, &location) {
                (true, Some(m), Some(loc)) => {
                    let url = if luasocket {
                        let loc: Vec<u8> =
                            loc.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
                        let u = crate::url_luasocket::absolute(target.url.as_bytes(), &loc);
                        String::from_utf8_lossy(&u).into_owned()
                    } else {
                        crate::url::absolute(&target.url, loc)?
                    };
                    match Target::parse(&url) {
                        Ok(t) => Some((m, t)),
                        // Another scheme (https, ftp...): not followed, the 3xx stands.
                        Err(e) if e.kind == ErrorKind::Unsupported => None,
                        Err(e) => {
                            return Err(Error::new(
                                ErrorKind::Protocol,
                                format!("redirect to an invalid location: {}", e.msg),
                            ))
                        }
                    }
                }
                _ => None,
            };
            let Some((next_method, next_target)) = next else {
                // The final response: its body goes to the sink.
                conn.set_timeout(clock.remaining()?);
                let mut reader = BodyReader::new(rframing, req.limits);
                let received = &mut resp.received;
                let r = reader.read_all(&mut conn, &mut |chunk| {
                    *received += chunk.len() as u64;
                    sink.put(chunk)
                });
                match r {
                    Ok(()) => {
                        resp.trailers = reader.trailers().clone();
                        if keep {
                            self.pool.put(route.key, conn);
                        } else {
                            conn.close();
                        }
                        return Ok(());
                    }
                    Err(e) => {
                        conn.close();
                        return Err(e);
                    }
                }
            };
            // Drop the redirect's body, keeping the connection when that is cheap.
            let discard_ok = match rframing {
                Framing::Empty => true,
                Framing::Length(n) => n <= MAX_DISCARD,
                Framing::Chunked => true,
                Framing::UntilClose => false,
            };
            if keep && discard_ok {
                conn.set_timeout(clock.remaining()?);
                let mut reader = BodyReader::new(rframing, req.limits);
                let mut n = 0u64;
                let r = reader.read_all(&mut conn, &mut |c| {
                    n += c.len() as u64;
                    if n > MAX_DISCARD {
                        return Err(Error::kind(ErrorKind::Aborted));
                    }
                    Ok(())
                });
                if r.is_ok() {
                    self.pool.put(route.key, conn);
                } else {
                    conn.close();
                }
            } else {
                conn.close();
            }
            let next_url = strip_fragment(&next_target.url).to_string();
            if visited.contains(&next_url) && !luasocket {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("redirect loop: {next_url} was already requested"),
                ));
            }
            if resp.redirects >= req.max_redirects {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "too many redirects (more than {}) at {}",
                        req.max_redirects, target.url
                    ),
                ));
            }
            resp.redirects += 1;
            resp.location = location.unwrap_or_default();
            if next_method != method {
                send_body = false;
            }
            method = next_method;
            target = next_target;
        }
    }

    /// Sends the request and reads the response head on a pooled or new connection,
    /// retrying once on a new connection when a reused one turns out dead.
    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &mut self,
        route: &Route,
        method: &str,
        request_target: &str,
        headers: &Headers,
        body: &mut Body,
        framing: Framing,
        req: &ReqView<'_>,
        clock: Clock,
    ) -> Result<(TcpConn, ResponseHead, bool, bool)> {
        let pooled = if req.keep_alive {
            self.pool.take(&route.key)
        } else {
            None
        };
        let replayable = is_idempotent(method) && !matches!(body, Body::Source(_));
        let mut send = |conn: &mut TcpConn, reused: bool| {
            send_and_read_head(
                conn,
                method,
                request_target,
                headers,
                body,
                framing,
                &req.limits,
                reused,
            )
        };
        if let Some(mut conn) = pooled {
            conn.set_timeout(clock.remaining()?);
            match send(&mut conn, true) {
                Ok((head, sent)) => return Ok((conn, head, true, sent)),
                Err(f) => {
                    conn.close();
                    if !(f.retry && replayable) {
                        return Err(f.err);
                    }
                }
            }
        }
        let timeout = clock.remaining()?;
        let mut conn = TcpConn::connect(&route.host, route.port, timeout)?;
        conn.set_timeout(clock.remaining()?);
        match send(&mut conn, false) {
            Ok((head, sent)) => Ok((conn, head, false, sent)),
            Err(f) => {
                conn.close();
                Err(f.err)
            }
        }
    }
}

/// The parts of a request an exchange needs besides its body (borrowed apart).
struct ReqView<'a> {
    headers: &'a Headers,
    auth: Option<&'a (String, String)>,
    expect_continue: bool,
    keep_alive: bool,
    limits: Limits,
}

fn strip_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// The header fields to send and the body framing.
fn build_headers(
    req: &ReqView<'_>,
    target: &Target,
    route: &Route,
    same_origin: bool,
    body: &mut Body,
    method: &str,
) -> Result<(Headers, Framing)> {
    let user = req.headers;
    let mut h = Headers::new();
    if !user.contains("host") {
        h.add("host", target.host_header().as_bytes())?;
    }
    for (name, value) in user.iter() {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "content-length" | "transfer-encoding" => continue,
            "authorization" | "cookie" if !same_origin => continue,
            _ => h.add(name, value)?,
        }
    }
    if !user.contains("user-agent") {
        h.add("user-agent", super::client::USER_AGENT.as_bytes())?;
    }
    if !h.contains("authorization") {
        let creds = match req.auth {
            Some((u, p)) if same_origin => Some((u.clone(), p.clone())),
            Some(_) => None,
            None => target
                .user
                .as_ref()
                .map(|u| (u.clone(), target.password.clone().unwrap_or_default())),
        };
        if let Some((u, p)) = creds {
            h.add("authorization", basic(&u, &p).as_bytes())?;
        }
    }
    if let Some(pa) = &route.proxy_auth {
        if !h.contains("proxy-authorization") {
            h.add("proxy-authorization", pa.as_bytes())?;
        }
    }
    let user_chunked = user.has_token("transfer-encoding", "chunked");
    let user_length =
        match user.get_str("content-length") {
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                Error::invalid(format!("Content-Length header '{v}' is not a number"))
            })?),
            None => None,
        };
    let framing = match body {
        Body::None => {
            if method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("PUT") {
                Framing::Length(0)
            } else {
                Framing::Empty
            }
        }
        Body::Bytes(b) => {
            if user_chunked {
                Framing::Chunked
            } else {
                if let Some(n) = user_length {
                    if n != b.len() as u64 {
                        return Err(Error::invalid(format!(
                            "Content-Length header says {n} but the body has {} bytes",
                            b.len()
                        )));
                    }
                }
                Framing::Length(b.len() as u64)
            }
        }
        Body::Source(s) => {
            if user_chunked {
                Framing::Chunked
            } else {
                match user_length.or(s.size()?) {
                    Some(n) => Framing::Length(n),
                    None => Framing::Chunked,
                }
            }
        }
    };
    match framing {
        Framing::Length(n) => h.add("content-length", n.to_string().as_bytes())?,
        Framing::Chunked => h.add("transfer-encoding", b"chunked")?,
        _ => {}
    }
    let has_body =
        matches!(framing, Framing::Chunked) || matches!(framing, Framing::Length(n) if n > 0);
    if req.expect_continue && has_body && !h.contains("expect") {
        h.add("expect", b"100-continue")?;
    }
    if !req.keep_alive && !h.contains("connection") {
        h.add("connection", b"close")?;
    }
    Ok((h, framing))
}

/// Sends head and body, then reads the final response head (interim 1xx responses other
/// than 101 are skipped). `reused` tells whether a dead connection may be retried.
#[allow(clippy::too_many_arguments)]
fn send_and_read_head<T: Transport>(
    conn: &mut T,
    method: &str,
    request_target: &str,
    headers: &Headers,
    body: &mut Body,
    framing: Framing,
    limits: &Limits,
    reused: bool,
) -> std::result::Result<(ResponseHead, bool), Failed> {
    // A dead reused connection shows as a failed send or a close before any response byte.
    let dead = |e: &Error| reused && matches!(e.kind, ErrorKind::Closed);
    let mut out = Vec::with_capacity(512);
    write_request_head(method, request_target, headers, &mut out)?;
    let expect = headers.has_token("expect", "100-continue");
    let mut body_pending = !matches!(framing, Framing::Empty | Framing::Length(0));
    if let (Body::Bytes(b), false) = (&*body, expect) {
        if b.len() <= COALESCE && framing != Framing::Chunked && body_pending {
            out.extend_from_slice(b);
            body_pending = false;
        }
    }
    if let Err(e) = conn.send_all(&out) {
        let retry = dead(&e);
        return Err(Failed { err: e, retry });
    }
    let mut early: Option<ResponseHead> = None;
    if body_pending && expect {
        // Wait a little for "100 Continue" (or a final answer that makes the body moot).
        match conn.wait_readable(EXPECT_WAIT) {
            Ok(true) => match read_head(conn, limits, parse_response_head) {
                Ok(h) if h.code == 100 => {}
                Ok(h) if (100..200).contains(&h.code) && h.code != 101 => {}
                Ok(h) => early = Some(h),
                Err(e) => {
                    let retry = dead(&e) && conn.buffered().is_empty();
                    return Err(Failed { err: e, retry });
                }
            },
            Ok(false) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(h) = early {
        // The server answered without wanting the body: the connection is out of step
        // and must not be reused.
        return Ok((h, false));
    }
    if body_pending {
        if let Err(e) = send_body(conn, body, framing) {
            let retry = dead(&e) && !matches!(body, Body::Source(_));
            return Err(Failed { err: e, retry });
        }
    }
    loop {
        match read_head(conn, limits, parse_response_head) {
            Ok(h) if (100..200).contains(&h.code) && h.code != 101 => continue,
            Ok(h) => return Ok((h, true)),
            Err(e) => {
                let retry = dead(&e) && conn.buffered().is_empty();
                return Err(Failed { err: e, retry });
            }
        }
    }
}

/// Sends the body with the framing chosen for it.
fn send_body<T: Transport>(conn: &mut T, body: &mut Body, framing: Framing) -> Result<()> {
    let mut w = BodyWriter::new(framing, "request body source");
    let mut queued = Vec::new();
    match body {
        Body::None => {}
        Body::Bytes(b) => w.send(conn, b, &mut queued)?,
        Body::Source(src) => {
            while let Some(chunk) = src.pull(SEND_CHUNK)? {
                w.send(conn, chunk, &mut queued)?;
            }
        }
    }
    w.finish(&Headers::new(), &mut queued)?;
    if queued.is_empty() {
        Ok(())
    } else {
        conn.send_all(&queued)
    }
}

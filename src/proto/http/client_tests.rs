//! Client tests against small scripted servers on 127.0.0.1 (each a thread with a bounded
//! life): exact bytes on the wire, reuse, retries, redirects, credentials, framing of
//! request bodies, 100-continue, timeouts.

use super::client::{Body, Client, Request, Response};
use crate::error::ErrorKind;
use crate::io::timeout::Timeout;
use crate::ltn12::source::{BytesSource, CallbackSource};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What a scripted connection does with each request it reads.
type Reply = Box<dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// A server that answers every request with `reply(raw request)` (None: close without
/// answering); records the raw requests and how many connections it accepted.
struct Scripted {
    port: u16,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    conns: Arc<Mutex<usize>>,
}

/// Reads one request (head + Content-Length or chunked body) from `s`.
fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut tmp = [0u8; 65536];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let mut total = end + 4;
            if let Some(i) = head.find("content-length:") {
                let n: usize = head[i + 15..].lines().next()?.trim().parse().ok()?;
                total += n;
            } else if head.contains("transfer-encoding: chunked") {
                match find(&buf[total..], b"0\r\n\r\n") {
                    Some(i) => total += i + 5,
                    None => total = usize::MAX,
                }
            }
            if total != usize::MAX && buf.len() >= total {
                let req = buf[..total].to_vec();
                buf.drain(..total);
                return Some(req);
            }
        }
        let n = s.read(&mut tmp).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads from `s` (which has a read timeout) into `got` until `done(got)`; the peer
/// closing first fails the test.
fn read_until(s: &mut TcpStream, got: &mut Vec<u8>, done: impl Fn(&[u8]) -> bool) {
    let mut buf = [0u8; 4096];
    while !done(got) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
}

/// Accepts one connection on `l` (5 s read timeout) and reads at least one request head
/// from it: the stream and the bytes read.
fn accept_head(l: &TcpListener) -> (TcpStream, Vec<u8>) {
    let (mut s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    read_until(&mut s, &mut got, |g| find(g, b"\r\n\r\n").is_some());
    (s, got)
}

impl Scripted {
    fn start(reply: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) -> Scripted {
        let reply: Arc<Reply> = Arc::new(Box::new(reply));
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let conns = Arc::new(Mutex::new(0));
        let (rq, cn) = (requests.clone(), conns.clone());
        l.set_nonblocking(true).unwrap();
        thread::spawn(move || {
            // Bounded life: 20 s.
            for _ in 0..2000 {
                match l.accept() {
                    Ok((mut s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                        *cn.lock().unwrap() += 1;
                        let (rq, reply) = (rq.clone(), reply.clone());
                        thread::spawn(move || {
                            let mut buf = Vec::new();
                            for _ in 0..100 {
                                let Some(req) = read_request(&mut s, &mut buf) else {
                                    return;
                                };
                                rq.lock().unwrap().push(req.clone());
                                match reply(&req) {
                                    Some(resp) => {
                                        if s.write_all(&resp).is_err() {
                                            return;
                                        }
                                    }
                                    None => return,
                                }
                            }
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Scripted {
            port,
            requests,
            conns,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn request(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.requests.lock().unwrap()[i]).into_owned()
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn conns(&self) -> usize {
        *self.conns.lock().unwrap()
    }
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Test: a\r\nx-test: b\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn path_of(req: &[u8]) -> String {
    let line = String::from_utf8_lossy(req);
    line.split(' ').nth(1).unwrap_or("").to_string()
}

fn get(client: &mut Client, url: &str) -> (crate::error::Result<()>, Response, Vec<u8>) {
    let mut req = Request::new("GET", url).unwrap();
    let mut resp = Response::default();
    let mut body = Vec::new();
    let r = client.perform(&mut req, &mut body, &mut resp);
    (r, resp, body)
}

#[test]
fn simple_get_wire_format_and_response() {
    let srv = Scripted::start(|_| Some(ok("hello")));
    let mut c = Client::new();
    let mut req = Request::new("GET", &srv.url("/a/b?x=1")).unwrap();
    req.headers.add("x-custom", b"1").unwrap();
    req.headers.add("content-type", b"text/plain").unwrap();
    req.headers.add("X-Custom", b"2").unwrap();
    let mut resp = Response::default();
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut resp).unwrap();
    assert_eq!(body, b"hello");
    assert_eq!(resp.code, 200);
    assert_eq!(resp.status_line, "HTTP/1.1 200 OK");
    assert_eq!(resp.received, 5);
    assert_eq!(
        resp.headers.get_all("x-test").collect::<Vec<_>>(),
        [b"a", b"b"]
    );
    assert_eq!(resp.headers.at(0).unwrap().0, "content-length");
    assert_eq!(resp.url, srv.url("/a/b?x=1"));
    assert_eq!(
        srv.request(0),
        format!(
            "GET /a/b?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nx-custom: 1\r\nContent-Type: text/plain\r\n\
             X-Custom: 2\r\nUser-Agent: {}\r\n\r\n",
            srv.port,
            super::client::USER_AGENT
        )
    );
}

#[test]
fn keep_alive_reuses_one_connection() {
    let srv = Scripted::start(|_| Some(ok("x")));
    let mut c = Client::new();
    for i in 0..5 {
        let (r, resp, body) = get(&mut c, &srv.url("/"));
        r.unwrap();
        assert_eq!(body, b"x");
        assert_eq!(resp.reused, i > 0);
    }
    assert_eq!(srv.conns(), 1);
    assert_eq!(c.pool.len(), 1);

    // Connection: close from the server ends reuse
    let srv = Scripted::start(|_| {
        Some(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\ny".to_vec())
    });
    for _ in 0..3 {
        get(&mut c, &srv.url("/")).0.unwrap();
    }
    assert_eq!(srv.conns(), 3);

    // keep_alive off: "Connection: close" sent, nothing pooled
    let srv = Scripted::start(|_| Some(ok("z")));
    let mut c = Client::new();
    let mut req = Request::new("GET", &srv.url("/")).unwrap();
    req.keep_alive = false;
    c.perform(&mut req, &mut Vec::new(), &mut Response::default())
        .unwrap();
    assert!(srv.request(0).contains("\r\nConnection: close\r\n"));
    assert!(c.pool.is_empty());
}

#[test]
fn dead_reused_connection_is_retried_once_for_idempotent_methods() {
    // Every second request on a connection is swallowed: the connection closes.
    let n = Arc::new(Mutex::new(0));
    let srv = Scripted::start(move |_| {
        let mut n = n.lock().unwrap();
        *n += 1;
        if *n % 2 == 0 {
            None
        } else {
            Some(ok("fine"))
        }
    });
    let mut c = Client::new();
    let (r, resp, _) = get(&mut c, &srv.url("/1"));
    r.unwrap();
    assert!(!resp.reused);
    // pooled connection: the server reads the request and closes -> retried on a new one
    let (r, resp, body) = get(&mut c, &srv.url("/2"));
    r.unwrap();
    assert_eq!(body, b"fine");
    assert!(!resp.reused);
    assert_eq!(srv.conns(), 2);
    assert_eq!(srv.count(), 3);

    // POST is not retried
    let mut req = Request::new("POST", &srv.url("/p")).unwrap();
    req.body = Body::Bytes(b"data".to_vec());
    let mut resp = Response::default();
    let e = c.perform(&mut req, &mut Vec::new(), &mut resp).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
    assert_eq!(srv.conns(), 2);
}

fn redirect(code: u16, to: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} Moved\r\nLocation: {to}\r\nContent-Length: 3\r\n\r\nabc").into_bytes()
}

#[test]
fn redirects() {
    let srv = Scripted::start(|req| {
        Some(match path_of(req).as_str() {
            "/r1" => redirect(301, "/r2"),
            "/r2" => redirect(302, "r3?q=1"),
            "/r3?q=1" => redirect(307, "/r4"),
            "/r4" => redirect(308, "/final#frag"),
            "/post" => redirect(303, "/after"),
            "/loop-a" => redirect(302, "/loop-b"),
            "/loop-b" => redirect(302, "/loop-a"),
            "/https" => redirect(302, "https://example.org/"),
            "/empty" => redirect(302, " "),
            p if p.starts_with("/n") => {
                let k: u32 = p[2..].parse().unwrap();
                if k == 0 {
                    ok("done")
                } else {
                    redirect(302, &format!("/n{}", k - 1))
                }
            }
            _ => ok(&String::from_utf8_lossy(req)),
        })
    });
    let mut c = Client::new();
    let (r, resp, body) = get(&mut c, &srv.url("/r1"));
    r.unwrap();
    assert_eq!(resp.code, 200);
    assert_eq!(resp.redirects, 4);
    assert_eq!(resp.url, srv.url("/final#frag"));
    assert!(String::from_utf8_lossy(&body).starts_with("GET /final HTTP/1.1"));
    assert_eq!(srv.conns(), 1, "redirect bodies drained, connection reused");

    // 303 turns POST into GET without body
    let mut req = Request::new("POST", &srv.url("/post")).unwrap();
    req.body = Body::Bytes(b"payload".to_vec());
    let mut resp = Response::default();
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut resp).unwrap();
    let echoed = String::from_utf8_lossy(&body);
    assert!(echoed.starts_with("GET /after HTTP/1.1\r\n"), "{echoed}");
    assert!(!echoed.contains("payload") && !echoed.contains("Content-Length"));

    // POST is not redirected by 302
    let mut req = Request::new("POST", &srv.url("/r2")).unwrap();
    req.body = Body::Bytes(b"payload".to_vec());
    let mut resp = Response::default();
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut resp).unwrap();
    assert_eq!((resp.code, resp.redirects), (302, 0));
    assert_eq!(body, b"abc");

    // refused per request
    let mut req = Request::new("GET", &srv.url("/r1")).unwrap();
    req.follow_redirects = false;
    let mut resp = Response::default();
    c.perform(&mut req, &mut Vec::new(), &mut resp).unwrap();
    assert_eq!(resp.code, 301);

    // loops and limits
    let (r, resp, _) = get(&mut c, &srv.url("/loop-a"));
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.msg.contains("redirect loop"), "{}", e.msg);
    assert_eq!(resp.code, 302);
    let (r, resp, _) = get(&mut c, &srv.url("/n5"));
    r.unwrap();
    assert_eq!(resp.redirects, 5);
    let (r, resp, _) = get(&mut c, &srv.url("/n6"));
    let e = r.unwrap_err();
    assert!(e.msg.contains("too many redirects"), "{}", e.msg);
    assert_eq!(resp.redirects, 5);

    // not followed: another scheme, empty location
    let (r, resp, _) = get(&mut c, &srv.url("/https"));
    r.unwrap();
    assert_eq!(resp.code, 302);
    let (r, resp, _) = get(&mut c, &srv.url("/empty"));
    r.unwrap();
    assert_eq!(resp.code, 302);
}

#[test]
fn credentials() {
    let other = Scripted::start(|req| Some(ok(&String::from_utf8_lossy(req))));
    let other_url = format!("http://localhost:{}/echo", other.port);
    let target = other_url.clone();
    let srv = Scripted::start(move |req| {
        Some(match path_of(req).as_str() {
            "/away" => redirect(302, &target),
            "/here" => redirect(302, "/echo"),
            _ => ok(&String::from_utf8_lossy(req)),
        })
    });
    let mut c = Client::new();
    let auth = "Authorization: Basic ZGllZ286bmVoYWI=\r\n";
    let url = format!("http://diego:nehab@127.0.0.1:{}/here", srv.port);
    let (r, _, body) = get(&mut c, &url);
    r.unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains(auth),
        "same origin keeps it"
    );
    let url = format!("http://diego:nehab@127.0.0.1:{}/away", srv.port);
    let (r, resp, body) = get(&mut c, &url);
    r.unwrap();
    assert_eq!(resp.url, other_url);
    let echoed = String::from_utf8_lossy(&body);
    assert!(!echoed.contains("Authorization"), "{echoed}");

    // explicit credentials and a user header: dropped for the other origin too
    let mut req = Request::new("GET", &srv.url("/away")).unwrap();
    req.auth = Some(("diego".into(), "nehab".into()));
    req.headers.add("cookie", b"secret=1").unwrap();
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut Response::default())
        .unwrap();
    let echoed = String::from_utf8_lossy(&body);
    assert!(
        !echoed.contains("Authorization") && !echoed.contains("secret"),
        "{echoed}"
    );
    assert!(srv.request(srv.count() - 1).contains(auth));
    assert!(srv
        .request(srv.count() - 1)
        .contains("Cookie: secret=1\r\n"));
}

#[test]
fn request_bodies_and_framing() {
    let srv = Scripted::start(|req| Some(ok(&String::from_utf8_lossy(req))));
    let mut c = Client::new();
    let send = |c: &mut Client, body: Body, headers: &[(&str, &str)]| {
        let mut req = Request::new("PUT", &srv.url("/b")).unwrap();
        req.body = body;
        for (n, v) in headers {
            req.headers.add(n, v.as_bytes()).unwrap();
        }
        let mut out = Vec::new();
        let r = c.perform(&mut req, &mut out, &mut Response::default());
        (r, String::from_utf8_lossy(&out).into_owned())
    };
    let (r, echo) = send(&mut c, Body::Bytes(b"0123456789".to_vec()), &[]);
    r.unwrap();
    assert!(
        echo.ends_with("Content-Length: 10\r\n\r\n0123456789"),
        "{echo}"
    );

    let big = vec![b'x'; 100_000];
    let (r, echo) = send(
        &mut c,
        Body::Source(Box::new(BytesSource::new(big.clone()))),
        &[],
    );
    r.unwrap();
    assert!(echo.contains("Content-Length: 100000\r\n"));
    assert!(echo.ends_with(&"x".repeat(1000)));

    // unknown size: chunked
    let mut parts = vec![b"abc".to_vec(), Vec::new(), b"defgh".to_vec()].into_iter();
    let src = CallbackSource::new(move |out: &mut Vec<u8>| match parts.next() {
        Some(p) => {
            out.extend_from_slice(&p);
            Ok(true)
        }
        None => Ok(false),
    });
    let (r, echo) = send(&mut c, Body::Source(Box::new(src)), &[]);
    r.unwrap();
    assert!(
        echo.ends_with("Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n"),
        "{echo}"
    );

    // chunked on request, for bytes too
    let (r, echo) = send(
        &mut c,
        Body::Bytes(b"hi".to_vec()),
        &[("Transfer-Encoding", "chunked")],
    );
    r.unwrap();
    assert!(echo.ends_with("\r\n\r\n2\r\nhi\r\n0\r\n\r\n"), "{echo}");

    // a Content-Length that disagrees with the bytes is refused before sending
    let before = srv.count();
    let (r, _) = send(
        &mut c,
        Body::Bytes(b"hi".to_vec()),
        &[("Content-Length", "5")],
    );
    assert_eq!(r.unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(srv.count(), before);

    // POST without body: Content-Length 0
    let mut req = Request::new("POST", &srv.url("/p")).unwrap();
    let mut out = Vec::new();
    c.perform(&mut req, &mut out, &mut Response::default())
        .unwrap();
    assert!(String::from_utf8_lossy(&out).contains("Content-Length: 0\r\n"));
}

#[test]
fn expect_100_continue() {
    // A server that answers 100 Continue before reading the body.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, mut got) = accept_head(&l);
        assert!(String::from_utf8_lossy(&got).contains("Expect: 100-continue\r\n"));
        let head_len = find(&got, b"\r\n\r\n").unwrap() + 4;
        assert_eq!(got.len(), head_len, "no body before 100 Continue");
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
        read_until(&mut s, &mut got, |g| g.len() >= head_len + 4);
        s.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        String::from_utf8_lossy(&got[head_len..]).into_owned()
    });
    let mut c = Client::new();
    let mut req = Request::new("PUT", &format!("http://127.0.0.1:{port}/x")).unwrap();
    req.body = Body::Bytes(b"data".to_vec());
    req.expect_continue = true;
    let mut resp = Response::default();
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut resp).unwrap();
    assert_eq!((resp.code, body.as_slice()), (201, &b"ok"[..]));
    assert_eq!(h.join().unwrap(), "data");

    // A final answer instead of 100: the body is not sent, the connection not kept.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, _) = accept_head(&l);
        s.write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        thread::sleep(Duration::from_millis(300));
    });
    let mut req = Request::new("PUT", &format!("http://127.0.0.1:{port}/x")).unwrap();
    req.body = Body::Bytes(b"data".to_vec());
    req.expect_continue = true;
    let mut resp = Response::default();
    let pooled = c.pool.len();
    let start = std::time::Instant::now();
    c.perform(&mut req, &mut Vec::new(), &mut resp).unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "no wait for 100"
    );
    assert_eq!(resp.code, 417);
    assert_eq!(c.pool.len(), pooled);
    h.join().unwrap();
}

#[test]
fn timeouts_keep_partial_bodies() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            .unwrap();
        thread::sleep(Duration::from_millis(800));
    });
    let mut c = Client::new();
    let mut req = Request::new("GET", &format!("http://127.0.0.1:{port}/")).unwrap();
    req.timeout = Timeout {
        block: Some(Duration::from_millis(200)),
        total: None,
    };
    let mut resp = Response::default();
    let mut body = Vec::new();
    let start = std::time::Instant::now();
    let e = c.perform(&mut req, &mut body, &mut resp).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(start.elapsed() < Duration::from_millis(700));
    assert_eq!(body, b"0123456789");
    assert_eq!((resp.code, resp.received), (200, 10));
    h.join().unwrap();
}

#[test]
fn proxies_get_absolute_form() {
    let proxy = Scripted::start(|req| Some(ok(&String::from_utf8_lossy(req))));
    let mut c = Client::new();
    let mut req = Request::new("GET", "http://example.invalid:8080/path?q").unwrap();
    req.proxy = Some(format!("http://pu:pp@127.0.0.1:{}", proxy.port));
    let mut body = Vec::new();
    c.perform(&mut req, &mut body, &mut Response::default())
        .unwrap();
    let echo = String::from_utf8_lossy(&body);
    assert!(
        echo.starts_with(
            "GET http://example.invalid:8080/path?q HTTP/1.1\r\nHost: example.invalid:8080\r\n"
        ),
        "{echo}"
    );
    assert!(echo.contains(&format!(
        "Proxy-Authorization: Basic {}\r\n",
        crate::proto::base64(b"pu:pp")
    )));
}

#[test]
fn refusals() {
    let mut c = Client::new();
    let (r, _, _) = get(&mut c, "https://example.org/");
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.msg.contains("unsupported scheme"));
    assert_eq!(
        Request::new("GE T", "http://h/").unwrap_err().kind,
        ErrorKind::Invalid
    );
    let mut req = Request::new("GET", "http://127.0.0.1:1/").unwrap();
    assert!(req.headers.add("X-Bad", b"a\r\nb").is_err());
    let e = c
        .perform(&mut req, &mut Vec::new(), &mut Response::default())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Refused);
}

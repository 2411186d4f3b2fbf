//! The symmetric socket over in-memory transports: exact bytes on the wire, the states
//! after each operation, framing, persistence, refusals, non-blocking resumption.

use super::*;
use crate::proto::conn::mem::MemTransport;

fn mem(input: &[&[u8]]) -> MemTransport {
    MemTransport::new(input.iter().map(|c| c.to_vec()))
}

/// Takes what was sent so far, as text.
fn sent(t: &mut MemTransport) -> String {
    String::from_utf8_lossy(&std::mem::take(&mut t.output)).into_owned()
}

fn states(s: &HttpSocket) -> (&'static str, &'static str) {
    (s.read_state().as_str(), s.write_state().as_str())
}

fn response(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
    let mut r = Response {
        status,
        body: body.as_bytes().to_vec(),
        ..Response::default()
    };
    for (n, v) in headers {
        r.headers.add(n, v.as_bytes()).unwrap();
    }
    r
}

fn request(method: &str, target: &str, body: &str, headers: &[(&str, &str)]) -> Request {
    let mut r = Request {
        method: method.into(),
        target: target.into(),
        body: body.as_bytes().to_vec(),
        ..Request::default()
    };
    for (n, v) in headers {
        r.headers.add(n, v.as_bytes()).unwrap();
    }
    r
}

/// Reads the whole body of the incoming message with read_some.
fn read_body<M: Message>(s: &mut HttpSocket, t: &mut MemTransport, m: &mut M) {
    for _ in 0..100_000 {
        if !matches!(
            s.read_state(),
            ReadState::MessageReady | ReadState::BodyReady
        ) {
            return;
        }
        s.read_some(t, m).unwrap();
    }
    panic!("body never ended");
}

#[test]
fn server_get_and_states() {
    let mut t = mem(&[b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nx-two: 2\r\n\r\n"]);
    let mut s = HttpSocket::default();
    assert_eq!(states(&s), ("empty", "empty"));
    assert_eq!(s.role(), Role::Undecided);
    let mut req = Request {
        body: b"stale".to_vec(),
        ..Request::default()
    };
    s.read_request(&mut t, &mut req).unwrap();
    assert_eq!(s.role(), Role::Server);
    assert_eq!(
        (req.method.as_str(), req.target.as_str(), req.version),
        ("GET", "/a?b", 1)
    );
    assert_eq!(
        req.headers.get_all("x-two").collect::<Vec<_>>(),
        [b"1", b"2"]
    );
    assert!(req.body.is_empty());
    assert_eq!(
        states(&s),
        ("finished", "empty"),
        "no body: finished at once"
    );
    s.write_response(
        &mut t,
        &response(200, "hello", &[("content-type", "text/plain")]),
    )
    .unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    );
    assert_eq!(states(&s), ("empty", "finished"));
    assert!(s.is_open() && !t.finished);
    // the client closes between requests
    let e = s.read_request(&mut t, &mut req).unwrap_err();
    assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Closed, "closed"));
    assert!(!s.is_open());
}

#[test]
fn server_bodies_pipelining_and_trailers() {
    let input = b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789\
                  PUT /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                  3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n\
                  GET /3 HTTP/1.1\r\nHost: x\r\n\r\n";
    for cut in [1, 7, 50, input.len()] {
        let mut t = MemTransport::split(input, cut);
        let mut s = HttpSocket::new(Settings {
            read_chunk: 4,
            ..Settings::default()
        });
        let mut req = Request::default();
        let mut targets = Vec::new();
        for _ in 0..3 {
            s.read_request(&mut t, &mut req).unwrap();
            let mut parts = Vec::new();
            while matches!(
                s.read_state(),
                ReadState::MessageReady | ReadState::BodyReady
            ) {
                let before = req.body.len();
                s.read_some(&mut t, &mut req).unwrap();
                assert!(req.body.len() - before <= 4, "bounded by read_chunk");
                parts.push(req.body.len() - before);
            }
            assert_eq!(s.read_state(), ReadState::Finished);
            targets.push((
                req.target.clone(),
                String::from_utf8(req.body.clone()).unwrap(),
            ));
            if req.target == "/2" {
                assert_eq!(req.trailers.get("x-sum"), Some(&b"5"[..]), "cut {cut}");
            }
            s.write_response(&mut t, &response(204, "", &[])).unwrap();
        }
        assert_eq!(
            targets,
            [
                ("/1".to_string(), "0123456789".to_string()),
                ("/2".to_string(), "abcde".to_string()),
                ("/3".to_string(), String::new())
            ],
            "cut {cut}"
        );
        assert_eq!(sent(&mut t), "HTTP/1.1 204 No Content\r\n\r\n".repeat(3));
    }
}

#[test]
fn body_ready_when_the_trailers_lag() {
    let mut t = mem(&[
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
        b"X-A: 1\r\n",
        b"\r\n",
    ]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    s.read_request(&mut t, &mut req).unwrap();
    assert_eq!(states(&s), ("message_ready", "empty"));
    s.read_some(&mut t, &mut req).unwrap();
    assert_eq!(req.body, b"hello");
    assert_eq!(states(&s), ("body_ready", "empty"));
    s.read_some(&mut t, &mut req).unwrap();
    assert_eq!(states(&s), ("finished", "empty"));
    assert_eq!(req.trailers.get("x-a"), Some(&b"1"[..]));
    assert_eq!(req.body, b"hello", "trailers add no body");
}

#[test]
fn unread_bodies_are_drained_or_close_the_connection() {
    // small: drained before the next request
    let mut t = mem(&[
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab",
        b"cde",
        b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
    ]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(200, "", &[])).unwrap();
    assert!(!sent(&mut t).contains("Connection"), "kept alive");
    s.read_request(&mut t, &mut req).unwrap();
    assert_eq!(req.target, "/next");

    // larger than the drain limit, known: the response closes the connection
    let mut t = mem(&[b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"]);
    let mut s = HttpSocket::new(Settings {
        drain_limit: 100,
        ..Settings::default()
    });
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(413, "", &[])).unwrap();
    let out = sent(&mut t);
    assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
    assert!(t.finished, "write direction ended");
    assert_eq!(
        s.read_request(&mut t, &mut req).unwrap_err().kind,
        ErrorKind::Closed
    );

    // chunked and too long: the drain gives up and closes
    let mut chunks: Vec<Vec<u8>> =
        vec![b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()];
    for _ in 0..50 {
        chunks.push(b"a\r\n0123456789\r\n".to_vec());
    }
    let mut t = MemTransport::new(chunks);
    let mut s = HttpSocket::new(Settings {
        drain_limit: 100,
        ..Settings::default()
    });
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(200, "", &[])).unwrap();
    let e = s.read_request(&mut t, &mut req).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
    assert!(e.msg.contains("drain limit of 100 bytes"), "{}", e.msg);
    assert!(t.finished && !s.is_open());
}

#[test]
fn expect_100_continue() {
    let head = b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
    // read_some answers 100 by itself
    let mut t = mem(&[head, b"data"]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    s.read_request(&mut t, &mut req).unwrap();
    assert_eq!(
        req.headers.get_all("expect").collect::<Vec<_>>(),
        [b"100-continue"],
        "normalised"
    );
    assert!(
        t.output.is_empty(),
        "nothing sent before the body is wanted"
    );
    s.read_some(&mut t, &mut req).unwrap();
    assert_eq!(sent(&mut t), "HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(states(&s), ("finished", "continue_issued"));
    s.write_response(&mut t, &response(201, "", &[])).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    );

    // explicit, then the body
    let mut t = mem(&[head, b"data"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response_continue(&mut t).unwrap();
    assert_eq!(states(&s), ("message_ready", "continue_issued"));
    let e = s.write_response_continue(&mut t).unwrap_err();
    assert!(
        e.msg.contains("write_state is 'continue_issued'"),
        "{}",
        e.msg
    );
    read_body(&mut s, &mut t, &mut req);
    assert_eq!(req.body, b"data");
    assert_eq!(sent(&mut t), "HTTP/1.1 100 Continue\r\n\r\n");

    // skipped: a final answer without reading closes the connection
    let mut t = mem(&[head]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(417, "", &[])).unwrap();
    let out = sent(&mut t);
    assert!(
        out.starts_with("HTTP/1.1 417 Expectation Failed\r\n"),
        "{out}"
    );
    assert!(out.contains("Connection: close"), "{out}");
    assert!(!s.is_open());

    // HTTP/1.0: no 100, and the expectation is not reported
    let mut t = mem(&[b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    assert!(!req.headers.contains("expect"));
    read_body(&mut s, &mut t, &mut req);
    assert!(t.output.is_empty());
}

#[test]
fn persistence_rules() {
    let mut req = Request::default();
    // HTTP/1.0 without keep-alive: Connection: close, then the end
    let mut t = mem(&[b"GET / HTTP/1.0\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    assert_eq!(req.version, 0);
    s.write_response(&mut t, &response(200, "x", &[])).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
    );
    assert!(t.finished && !s.is_open());
    let e = s.read_request(&mut t, &mut req).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);

    // HTTP/1.0 with keep-alive: answered
    let mut t = mem(&[b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(200, "", &[])).unwrap();
    assert!(sent(&mut t).contains("\r\nConnection: keep-alive\r\n"));
    assert!(s.is_open());

    // the client's Connection: close; the server's own
    for (input, resp_hdr) in [
        (
            &b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
            None,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            Some(("connection", "close")),
        ),
    ] {
        let mut t = mem(&[input]);
        let mut s = HttpSocket::default();
        s.read_request(&mut t, &mut req).unwrap();
        let hdrs: Vec<(&str, &str)> = resp_hdr.into_iter().collect();
        s.write_response(&mut t, &response(200, "", &hdrs)).unwrap();
        let out = sent(&mut t);
        assert_eq!(out.matches("onnection: close").count(), 1, "{out}");
        assert!(t.finished && !s.is_open());
    }
}

#[test]
fn bodiless_responses() {
    let mut req = Request::default();
    let mut t = mem(&[b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(&mut t, &response(200, "hello", &[]))
        .unwrap();
    assert_eq!(sent(&mut t), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response_metadata(&mut t, &response(200, "", &[("content-length", "100")]))
        .unwrap();
    s.write(&mut t, &response(200, "dropped", &[])).unwrap();
    s.write_end_of_message(&mut t).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    );

    for (code, hdrs, body, ok) in [
        (204, vec![], "", true),
        (204, vec![], "x", false),
        (204, vec![("content-length", "0")], "", false),
        (304, vec![("content-length", "10")], "", true),
        (304, vec![], "x", false),
    ] {
        let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
        let mut s = HttpSocket::default();
        s.read_request(&mut t, &mut req).unwrap();
        let r = s.write_response(&mut t, &response(code, body, &hdrs));
        assert_eq!(r.is_ok(), ok, "{code} {hdrs:?} {body:?}");
        let out = sent(&mut t);
        if ok {
            assert!(out.ends_with("\r\n\r\n"), "{out}");
            assert!(!out.contains("Content-Length: 0"));
        } else {
            assert!(out.is_empty(), "nothing sent: {out}");
            assert_eq!(states(&s), ("finished", "empty"));
        }
    }
}

#[test]
fn streamed_responses() {
    let mut req = Request::default();
    let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    let mut res = response(200, "", &[("content-type", "text/plain")]);
    s.write_response_metadata(&mut t, &res).unwrap();
    assert_eq!(states(&s), ("finished", "metadata_issued"));
    for piece in ["hello", "", " world"] {
        res.body = piece.as_bytes().to_vec();
        s.write(&mut t, &res).unwrap();
    }
    res.trailers.add("x-checksum", b"42").unwrap();
    s.write_trailers(&mut t, &res).unwrap();
    assert_eq!(states(&s), ("empty", "finished"));
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\nhello\r\n6\r\n world\r\n0\r\nx-checksum: 42\r\n\r\n"
    );

    // the caller's length: raw, counted
    let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response_metadata(&mut t, &response(200, "", &[("content-length", "4")]))
        .unwrap();
    s.write_data(&mut t, b"ab").unwrap();
    let e = s.write_data(&mut t, b"cde").unwrap_err();
    assert!(
        e.msg.contains("more than the 4 bytes declared"),
        "{}",
        e.msg
    );
    let e = s.write_end_of_message(&mut t).unwrap_err();
    assert!(e.msg.contains("ended after 2 of the 4 bytes"), "{}", e.msg);
    s.write_data(&mut t, b"cd").unwrap();
    s.write_end_of_message(&mut t).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"
    );

    // an HTTP/1.0 client: the body ends when the connection does
    let mut t = mem(&[b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response_metadata(&mut t, &response(200, "", &[]))
        .unwrap();
    s.write_data(&mut t, b"stream").unwrap();
    assert!(!t.finished);
    s.write_end_of_message(&mut t).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstream"
    );
    assert!(t.finished && !s.is_open());

    // Transfer-Encoding is the socket's
    let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    let e = s
        .write_response(
            &mut t,
            &response(200, "x", &[("transfer-encoding", "chunked")]),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    let e = s
        .write_response_metadata(&mut t, &response(200, "", &[("transfer-encoding", "gzip")]))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    s.write_response_metadata(
        &mut t,
        &response(200, "", &[("transfer-encoding", "chunked")]),
    )
    .unwrap();
    s.write_end_of_message(&mut t).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    );
    let e = s
        .write_response(&mut t, &response(200, "", &[]))
        .unwrap_err();
    assert!(e.msg.contains("no request has been read"), "{}", e.msg);
}

#[test]
fn operations_out_of_order_name_the_state_and_send_nothing() {
    let mut t = mem(&[b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    let res = response(200, "", &[]);
    let e = s.read_some(&mut t, &mut req).unwrap_err();
    assert_eq!(
        e.msg,
        "read_some: not allowed when read_state is 'empty' (read_request or read_response first)"
    );
    let e = s.write_response(&mut t, &res).unwrap_err();
    assert!(e.msg.contains("no request has been read"), "{}", e.msg);
    let e = s.write_data(&mut t, b"x").unwrap_err();
    assert!(e.msg.contains("write_state is 'empty'"), "{}", e.msg);
    assert_eq!(
        s.write_end_of_message(&mut t).unwrap_err().kind,
        ErrorKind::Invalid
    );
    s.read_request(&mut t, &mut req).unwrap();
    let e = s.read_request(&mut t, &mut req).unwrap_err();
    assert!(e.msg.contains("read_state is 'message_ready'"), "{}", e.msg);
    let e = s
        .read_response(&mut t, &mut Response::default())
        .unwrap_err();
    assert!(e.msg.contains("this socket is a server"), "{}", e.msg);
    let e = s
        .write_request(&mut t, &request("GET", "/", "", &[("host", "x")]))
        .unwrap_err();
    assert!(e.msg.contains("this socket is a server"), "{}", e.msg);
    s.write_response_metadata(&mut t, &res).unwrap();
    let e = s.write_response(&mut t, &res).unwrap_err();
    assert!(
        e.msg.contains("write_state is 'metadata_issued'"),
        "{}",
        e.msg
    );
    let head_len = t.output.len();
    let e = s.write_response_metadata(&mut t, &res).unwrap_err();
    assert!(e.msg.contains("write_state is 'metadata_issued'"));
    assert_eq!(t.output.len(), head_len, "nothing more sent");
    s.write_end_of_message(&mut t).unwrap();
    let e = s.write_end_of_message(&mut t).unwrap_err();
    assert!(e.msg.contains("write_state is 'finished'"), "{}", e.msg);
    // a read_some after the end
    let e = s.read_some(&mut t, &mut req).unwrap_err();
    assert!(e.msg.contains("read_state is 'empty'"), "{}", e.msg);

    // header injection through the caller's fields: refused, nothing sent
    let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    s.read_request(&mut t, &mut req).unwrap();
    for (n, v) in [
        ("X-Evil", &b"a\r\nInjected: 1"[..]),
        ("X-Evil", b"a\nb"),
        ("X-Evil", b"a\0b"),
        ("X\r\nEvil", b"v"),
        ("X Evil", b"v"),
    ] {
        let mut res = Response::default();
        res.headers.push_unchecked(n.into(), v.to_vec());
        let e = s.write_response(&mut t, &res).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid, "{n:?} {v:?}");
        let e = s.write_response_metadata(&mut t, &res).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid, "{n:?} {v:?}");
    }
    let res = Response {
        reason: "O\r\nK".into(),
        ..Response::default()
    };
    assert!(s.write_response(&mut t, &res).is_err());
    assert!(t.output.is_empty());
    assert_eq!(states(&s), ("finished", "empty"));
}

#[test]
fn refusals_carry_their_status_and_close_after_the_answer() {
    let cases: [(&[u8], u16, &str); 8] = [
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "both Content-Length and Transfer-Encoding",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            400,
            "conflicting",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", 400, "obsolete line folding"),
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "white space between"),
        (b"GET / HTTP/1.1\r\n\r\n", 400, "without a Host"),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
            "not implemented",
        ),
        (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, "not supported"),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            400,
            "invalid chunk size 'zz'",
        ),
    ];
    for (raw, status, what) in cases {
        let mut t = mem(&[raw]);
        let mut s = HttpSocket::default();
        let mut req = Request::default();
        let e = match s.read_request(&mut t, &mut req) {
            Err(e) => e,
            // the bad chunk is found by read_some
            Ok(()) => s.read_some(&mut t, &mut req).unwrap_err(),
        };
        assert_eq!(e.kind, ErrorKind::Protocol, "{raw:?}");
        assert!(e.msg.contains(what), "{raw:?}: {}", e.msg);
        assert_eq!(s.last_status(), status, "{raw:?}");
        assert_eq!(states(&s), ("finished", "empty"), "{raw:?}");
        s.write_error(&mut t, 0).unwrap();
        let out = sent(&mut t);
        assert!(
            out.starts_with(&format!("HTTP/1.1 {status} ")),
            "{raw:?}: {out}"
        );
        assert!(out.contains("Connection: close\r\n"));
        assert!(t.finished && !s.is_open());
        assert_eq!(
            s.read_request(&mut t, &mut req).unwrap_err().kind,
            ErrorKind::Closed
        );
    }

    // limits: a head too large (431), a body too large (413, known or chunked)
    let mut s = HttpSocket::new(Settings {
        limits: Limits {
            max_head_bytes: 200,
            ..Limits::server()
        },
        max_body: Some(5),
        ..Settings::default()
    });
    let mut t = mem(&[format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
        "a".repeat(300)
    )
    .as_bytes()]);
    let mut req = Request::default();
    assert_eq!(
        s.read_request(&mut t, &mut req).unwrap_err().kind,
        ErrorKind::Protocol
    );
    assert_eq!(s.last_status(), 431);
    // the caller may answer with a response of its own
    s.write_response(&mut t, &response(431, "too big", &[]))
        .unwrap();
    assert!(sent(&mut t).contains("Connection: close"));

    let settings = Settings {
        max_body: Some(5),
        ..Settings::default()
    };
    let mut s = HttpSocket::new(settings);
    let mut t = mem(&[b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n"]);
    assert!(s.read_request(&mut t, &mut req).is_err());
    assert_eq!(s.last_status(), 413);
    let mut s = HttpSocket::new(settings);
    let mut t = mem(&[b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n"]);
    s.read_request(&mut t, &mut req).unwrap();
    let mut err = None;
    for _ in 0..10 {
        if let Err(e) = s.read_some(&mut t, &mut req) {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("refused");
    assert!(
        e.msg.contains("larger than the limit of 5 bytes"),
        "{}",
        e.msg
    );
    assert_eq!(s.last_status(), 413);
    s.write_error(&mut t, 0).unwrap();
    assert!(sent(&mut t).starts_with("HTTP/1.1 413 Content Too Large\r\n"));
}

#[test]
fn nonblocking_transports_resume() {
    let input = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    for cut in 1..input.len() {
        let mut t = MemTransport::split(input, cut);
        t.blocky = true;
        let mut s = HttpSocket::default();
        let mut req = Request::default();
        let mut got = Vec::new();
        let mut blocks = 0;
        let mut step = 0;
        while got.len() < 2 {
            step += 1;
            assert!(step < 10_000, "cut {cut}: no progress");
            let r = match s.read_state() {
                ReadState::Empty => s.read_request(&mut t, &mut req),
                ReadState::MessageReady | ReadState::BodyReady => s.read_some(&mut t, &mut req),
                ReadState::Finished => {
                    got.push((req.target.clone(), req.body.clone(), req.trailers.len()));
                    s.write_response(&mut t, &response(200, "ok", &[]))
                }
            };
            match r {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::WouldBlock => blocks += 1,
                Err(e) => panic!("cut {cut}: {}", e.msg),
            }
        }
        assert!(blocks > 0);
        assert_eq!(
            got,
            [
                ("/a".to_string(), b"hello".to_vec(), 1),
                ("/b".to_string(), Vec::new(), 0)
            ],
            "cut {cut}"
        );
    }
}

#[test]
fn client_requests_and_responses() {
    let mut t = mem(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    ]);
    let mut s = HttpSocket::default();
    let get = request("GET", "/a", "", &[("host", "example.org")]);
    s.write_request(&mut t, &get).unwrap();
    assert_eq!(s.role(), Role::Client);
    assert_eq!(sent(&mut t), "GET /a HTTP/1.1\r\nHost: example.org\r\n\r\n");
    s.write_request(&mut t, &request("POST", "/p", "data", &[("host", "h")]))
        .unwrap();
    assert_eq!(
        sent(&mut t),
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\ndata"
    );
    s.write_request(&mut t, &request("HEAD", "/", "", &[("host", "h")]))
        .unwrap();
    s.write_request(&mut t, &get).unwrap();
    s.write_request(&mut t, &get).unwrap();
    assert_eq!(states(&s), ("empty", "empty"), "pipelined");
    let mut res = Response::default();
    // 1: length
    s.read_response(&mut t, &mut res).unwrap();
    assert_eq!((res.status, res.reason.as_str()), (200, "OK"));
    assert_eq!(states(&s), ("message_ready", "empty"));
    read_body(&mut s, &mut t, &mut res);
    assert_eq!(res.body, b"hello");
    assert_eq!(states(&s), ("empty", "empty"));
    // 2: chunked with trailers
    s.read_response(&mut t, &mut res).unwrap();
    assert!(res.body.is_empty());
    read_body(&mut s, &mut t, &mut res);
    assert_eq!(
        (res.body.as_slice(), res.trailers.get("x-t")),
        (&b"abc"[..], Some(&b"1"[..]))
    );
    // 3: the answer to HEAD has no body whatever its length says
    s.read_response(&mut t, &mut res).unwrap();
    assert_eq!(states(&s), ("empty", "empty"));
    // 4: 304 neither
    s.read_response(&mut t, &mut res).unwrap();
    assert_eq!((res.status, s.read_state()), (304, ReadState::Empty));
    // 5: until close, and then no more
    s.read_response(&mut t, &mut res).unwrap();
    read_body(&mut s, &mut t, &mut res);
    assert_eq!(res.body, b"until the end");
    assert!(!s.is_open());
    assert_eq!(
        s.write_request(&mut t, &get).unwrap_err().kind,
        ErrorKind::Closed
    );
    let e = s.read_response(&mut t, &mut res).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
}

#[test]
fn client_streams_and_100_continue() {
    let mut t = mem(&[
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    ]);
    let mut s = HttpSocket::default();
    let mut req = request(
        "PUT",
        "/up",
        "",
        &[("host", "h"), ("expect", "100-continue")],
    );
    s.write_request_metadata(&mut t, &req).unwrap();
    assert_eq!(states(&s), ("empty", "metadata_issued"));
    assert_eq!(
        sent(&mut t),
        "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut res = Response::default();
    s.read_response(&mut t, &mut res).unwrap();
    assert_eq!(res.status, 100);
    assert_eq!(
        states(&s),
        ("empty", "metadata_issued"),
        "interim: no change"
    );
    req.body = b"part".to_vec();
    s.write(&mut t, &req).unwrap();
    req.trailers.add("x-md5", b"abc").unwrap();
    s.write_trailers(&mut t, &req).unwrap();
    assert_eq!(states(&s), ("empty", "empty"));
    assert_eq!(sent(&mut t), "4\r\npart\r\n0\r\nx-md5: abc\r\n\r\n");
    s.read_response(&mut t, &mut res).unwrap();
    assert_eq!((res.status, s.read_state()), (201, ReadState::Empty));

    // with the caller's length, and HTTP/1.0
    let mut t = MemTransport::default();
    let mut s = HttpSocket::default();
    let mut req = request("POST", "/", "", &[("content-length", "3")]);
    req.version = 0;
    s.write_request_metadata(&mut t, &req).unwrap();
    s.write_data(&mut t, b"abc").unwrap();
    s.write_end_of_message(&mut t).unwrap();
    assert_eq!(
        sent(&mut t),
        "POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"
    );
    let e = s.write_request(&mut t, &req).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::Closed,
        "HTTP/1.0 without keep-alive: one request"
    );
    let mut s = HttpSocket::default();
    let mut req10 = request("POST", "/", "", &[]);
    req10.version = 0;
    let e = s.write_request_metadata(&mut t, &req10).unwrap_err();
    assert!(e.msg.contains("needs a Content-Length"), "{}", e.msg);
}

#[test]
fn client_refusals_send_nothing() {
    let mut t = MemTransport::default();
    let mut s = HttpSocket::default();
    for (req, what) in [
        (request("GET", "/", "", &[]), "exactly one Host"),
        (
            request("GET", "/", "", &[("host", "a"), ("host", "b")]),
            "exactly one Host",
        ),
        (
            request(
                "POST",
                "/",
                "abc",
                &[("host", "a"), ("content-length", "4")],
            ),
            "says 4",
        ),
        (
            request(
                "POST",
                "/",
                "abc",
                &[("host", "a"), ("transfer-encoding", "chunked")],
            ),
            "Transfer-Encoding",
        ),
        (request("GE T", "/", "", &[("host", "a")]), "method"),
        (request("GET", "/a b", "", &[("host", "a")]), "white space"),
        (
            request("GET", "/\u{e9}", "", &[("host", "a")]),
            "visible ASCII",
        ),
    ] {
        let e = s.write_request(&mut t, &req).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.msg.contains(what), "{}", e.msg);
    }
    let mut bad = request("GET", "/", "", &[("host", "a")]);
    bad.headers
        .push_unchecked("X".into(), b"a\r\nInjected: 1".to_vec());
    assert!(s.write_request(&mut t, &bad).is_err());
    assert!(s.write_request_metadata(&mut t, &bad).is_err());
    assert!(t.output.is_empty());
    assert_eq!(s.role(), Role::Undecided, "nothing was sent: no role yet");
    let e = s
        .read_response(&mut t, &mut Response::default())
        .unwrap_err();
    assert!(e.msg.contains("no request is waiting"), "{}", e.msg);
}

#[test]
fn upgrades_hand_the_connection_over() {
    let mut t = mem(&[
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW",
    ]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(
        &mut t,
        &response(
            101,
            "",
            &[("upgrade", "websocket"), ("connection", "Upgrade")],
        ),
    )
    .unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    );
    assert!(s.is_upgraded() && !s.is_open());
    assert!(s.read_request(&mut t, &mut req).is_err());
    assert_eq!(
        t.buffered(),
        b"RAW",
        "what follows stays for the stream's reader"
    );

    let mut t = mem(&[b"HTTP/1.1 200 Connection established\r\n\r\nTUNNEL"]);
    let mut s = HttpSocket::default();
    s.write_request(
        &mut t,
        &request(
            "CONNECT",
            "example.org:443",
            "",
            &[("host", "example.org:443")],
        ),
    )
    .unwrap();
    let mut res = Response::default();
    s.read_response(&mut t, &mut res).unwrap();
    assert!(s.is_upgraded());
    assert_eq!(t.buffered(), b"TUNNEL");
}

#[test]
fn interim_responses_from_the_server() {
    let mut t = mem(&[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    let mut s = HttpSocket::default();
    let mut req = Request::default();
    s.read_request(&mut t, &mut req).unwrap();
    s.write_response(
        &mut t,
        &response(103, "", &[("link", "</s.css>; rel=preload")]),
    )
    .unwrap();
    assert_eq!(states(&s), ("finished", "empty"));
    s.write_response(&mut t, &response(200, "", &[])).unwrap();
    assert_eq!(
        sent(&mut t),
        "HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n\
         HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    );
    let e = s
        .write_response_metadata(&mut t, &response(100, "", &[]))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
}

#[test]
fn close_is_idempotent() {
    let mut t = MemTransport::default();
    let mut s = HttpSocket::default();
    s.close(&mut t).unwrap();
    s.close(&mut t).unwrap();
    assert!(t.closed);
    let e = s.read_request(&mut t, &mut Request::default()).unwrap_err();
    assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Closed, "closed"));
}

//! Socket tests of the stream: real Unix socket pairs and TCP loopback connections.

use super::*;
use crate::io::pattern::tests::{model, patterns, INPUTS};
use crate::io::timeout::TimeoutMode;
use socket2::{Domain, SockAddr, Type};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;

fn unix_pair() -> (Stream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    (Stream::new(Socket::from(a), StreamKind::Unix).unwrap(), b)
}

fn tcp_pair() -> (Stream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    s.set_nodelay(true).unwrap();
    c.set_nodelay(true).unwrap();
    (Stream::new(Socket::from(s), StreamKind::Tcp).unwrap(), c)
}

fn tcp_streams() -> (Stream, Stream) {
    let (a, b) = tcp_pair();
    (a, Stream::new(Socket::from(b), StreamKind::Tcp).unwrap())
}

fn recv(s: &mut Stream, pat: Pattern) -> (std::result::Result<(), ErrorKind>, Vec<u8>) {
    let mut out = Vec::new();
    let r = s.receive(pat, &mut out).map_err(|e| e.kind);
    (r, out)
}

fn secs(s: &mut Stream, mode: TimeoutMode, t: f64) {
    s.timeout.set(mode, t);
}

/// Writes `a`, gives the reader time to take it, writes `b`, then closes.
fn write_in_two(
    mut peer: impl Write + Send + 'static,
    a: Vec<u8>,
    b: Vec<u8>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        if !a.is_empty() {
            peer.write_all(&a).unwrap();
            thread::sleep(Duration::from_millis(2));
        }
        let _ = peer.write_all(&b);
    })
}

/// Reads with `pat` until the model's input is used up, comparing with the model.
fn check_against_model(s: &mut Stream, input: &[u8], pat: Pattern, what: &str) {
    let mut pos = 0;
    for _ in 0..input.len() + 2 {
        let want = model(input, pat, &mut pos);
        let got = recv(s, pat);
        assert_eq!(
            got,
            want,
            "{what}: {pat:?} on {:?}",
            String::from_utf8_lossy(input)
        );
        if want.0.is_err() || pat == Pattern::All {
            break;
        }
    }
}

#[test]
fn every_pattern_split_at_every_point_over_unix_sockets() {
    let input = INPUTS[3]; // "line one\r\nline two\n\nlast"
    for pat in patterns() {
        for k in 0..=input.len() {
            let (mut s, peer) = unix_pair();
            s.timeout.set(TimeoutMode::Total, 5.0);
            let h = write_in_two(peer, input[..k].to_vec(), input[k..].to_vec());
            check_against_model(&mut s, input, pat, &format!("split {k}"));
            h.join().unwrap();
        }
    }
}

#[test]
fn all_inputs_and_patterns_over_tcp() {
    for input in INPUTS {
        for pat in patterns() {
            let (mut s, peer) = tcp_pair();
            s.timeout.set(TimeoutMode::Total, 5.0);
            let k = input.len() / 2;
            let h = write_in_two(peer, input[..k].to_vec(), input[k..].to_vec());
            check_against_model(&mut s, input, pat, "tcp");
            h.join().unwrap();
        }
    }
}

#[test]
fn crlf_split_and_long_lines_over_sockets() {
    let (mut s, peer) = unix_pair();
    s.timeout.set(TimeoutMode::Total, 5.0);
    let h = write_in_two(peer, b"one\r".to_vec(), b"\ntwo\r\n".to_vec());
    for mode in [LineMode::StripCrBeforeLf, LineMode::StripAllCr] {
        assert_eq!(
            recv(&mut s, Pattern::Line(mode)).1,
            if mode == LineMode::StripAllCr {
                b"two".to_vec()
            } else {
                b"one".to_vec()
            }
        );
    }
    h.join().unwrap();

    let long: Vec<u8> = (0..1_000_000u32).map(|i| b'A' + (i % 26) as u8).collect();
    let (mut s, mut peer) = tcp_pair();
    s.timeout.set(TimeoutMode::Total, 10.0);
    let l2 = long.clone();
    let h = thread::spawn(move || {
        peer.write_all(&l2).unwrap();
        peer.write_all(b"\x00\r\n\nend").unwrap();
    });
    let (r, line) = recv(&mut s, Pattern::Line(LineMode::StripAllCr));
    assert_eq!(r, Ok(()));
    assert_eq!(line.len(), long.len() + 1);
    assert_eq!(&line[..long.len()], &long[..]);
    assert_eq!(line[long.len()], 0);
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::StripAllCr)),
        (Ok(()), Vec::new())
    );
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::StripAllCr)),
        (Err(ErrorKind::Closed), b"end".to_vec())
    );
    h.join().unwrap();
}

#[test]
fn counts_exact_short_and_large() {
    let (mut s, mut peer) = tcp_pair();
    s.timeout.set(TimeoutMode::Total, 10.0);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let d2 = data.clone();
    let h = thread::spawn(move || {
        peer.write_all(&d2).unwrap();
    });
    let mut got = Vec::new();
    // Small counts through the buffer, then 64 KiB counts, then one big count.
    for _ in 0..1000 {
        s.receive(Pattern::Count(10), &mut got).unwrap();
    }
    for _ in 0..10 {
        s.receive(Pattern::Count(65536), &mut got).unwrap();
    }
    let left = data.len() - got.len();
    s.receive(Pattern::Count(left - 5), &mut got).unwrap();
    assert_eq!(got, data[..data.len() - 5]);
    // Short: 5 bytes left, 6 asked.
    let mut tail = Vec::new();
    let e = s.receive(Pattern::Count(6), &mut tail).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
    assert_eq!(tail, data[data.len() - 5..]);
    assert_eq!(recv(&mut s, Pattern::Count(0)).0, Err(ErrorKind::Closed));
    assert_eq!(recv(&mut s, Pattern::All), (Ok(()), Vec::new()));
    h.join().unwrap();
    let (r, w, age) = s.stats();
    assert_eq!((r, w), (data.len() as u64, 0));
    assert!(age >= 0.0);
}

#[test]
fn block_timeout_returns_partial_data() {
    let (mut s, mut peer) = unix_pair();
    peer.write_all(b"ab").unwrap();
    secs(&mut s, TimeoutMode::Block, 0.05);
    let t = Instant::now();
    let (r, out) = recv(&mut s, Pattern::Line(LineMode::StripAllCr));
    let el = t.elapsed();
    assert_eq!((r, out), (Err(ErrorKind::Timeout), b"ab".to_vec()));
    assert!(
        el >= Duration::from_millis(45) && el < Duration::from_secs(2),
        "{el:?}"
    );
    // The rest of the line completes on the next call.
    peer.write_all(b"c\n").unwrap();
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::StripAllCr)),
        (Ok(()), b"c".to_vec())
    );
    for pat in [Pattern::Word, Pattern::All, Pattern::Count(10)] {
        peer.write_all(b"xyz").unwrap();
        assert_eq!(
            recv(&mut s, pat),
            (Err(ErrorKind::Timeout), b"xyz".to_vec()),
            "{pat:?}"
        );
    }
}

#[test]
fn zero_timeout_never_waits() {
    let (mut s, mut peer) = tcp_pair();
    secs(&mut s, TimeoutMode::Block, 0.0);
    let t = Instant::now();
    assert_eq!(
        recv(&mut s, Pattern::Count(5)),
        (Err(ErrorKind::Timeout), Vec::new())
    );
    assert_eq!(
        recv(&mut s, Pattern::Count(0)),
        (Err(ErrorKind::Timeout), Vec::new())
    );
    peer.write_all(b"abc").unwrap();
    // Give loopback a moment to deliver.
    crate::sys::poll::wait_fd(s.fd().unwrap(), POLLIN, &Deadline::after_secs(2.0)).unwrap();
    assert_eq!(
        recv(&mut s, Pattern::Count(5)),
        (Err(ErrorKind::Timeout), b"abc".to_vec())
    );
    assert!(t.elapsed() < Duration::from_millis(500));
    // With a total timeout of zero as well.
    s.timeout = Timeout {
        block: None,
        total: Some(Duration::ZERO),
    };
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::Raw)),
        (Err(ErrorKind::Timeout), Vec::new())
    );
}

#[test]
fn total_timeout_bounds_a_trickle() {
    let (mut s, mut peer) = unix_pair();
    secs(&mut s, TimeoutMode::Block, 1.0);
    secs(&mut s, TimeoutMode::Total, 0.2);
    let h = thread::spawn(move || {
        // One byte every 20 ms for at most one second; stops when the reader is gone.
        for _ in 0..50 {
            if peer.write_all(b"x").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let t = Instant::now();
    let (r, out) = recv(&mut s, Pattern::Line(LineMode::StripAllCr));
    let el = t.elapsed();
    assert_eq!(r, Err(ErrorKind::Timeout));
    assert!(!out.is_empty() && out.iter().all(|&b| b == b'x'), "{out:?}");
    assert!(
        el >= Duration::from_millis(190) && el < Duration::from_millis(800),
        "{el:?}"
    );
    s.close().unwrap();
    h.join().unwrap();
}

#[test]
fn moonbridge_reads_and_drains() {
    let (mut s, mut peer) = unix_pair();
    let mut out = Vec::new();
    // Nothing there: read_nb blocks with nothing.
    assert_eq!(
        s.read(None, Some(b'\n'), Wait::NonBlocking, &mut out)
            .unwrap(),
        ReadEnd::Block
    );
    assert!(out.is_empty());
    peer.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody-bytes")
        .unwrap();
    assert_eq!(
        s.read(None, Some(b'\n'), Wait::Timeout, &mut out).unwrap(),
        ReadEnd::Term
    );
    assert_eq!(out, b"GET / HTTP/1.1\r\n");
    out.clear();
    assert_eq!(
        s.read(Some(4), Some(b'\n'), Wait::NonBlocking, &mut out)
            .unwrap(),
        ReadEnd::MaxLen
    );
    assert_eq!(out, b"Host");
    assert_eq!(
        s.read(Some(0), None, Wait::Timeout, &mut out).unwrap(),
        ReadEnd::MaxLen
    );
    assert_eq!(
        s.drain(None, Some(b'\n'), Wait::Timeout).unwrap(),
        (5, ReadEnd::Term)
    );
    assert_eq!(
        s.drain(Some(100), Some(b'\n'), Wait::NonBlocking).unwrap(),
        (2, ReadEnd::Term)
    );
    assert_eq!(
        s.drain(Some(4), None, Wait::Timeout).unwrap(),
        (4, ReadEnd::MaxLen)
    );
    assert_eq!(
        s.drain(None, None, Wait::NonBlocking).unwrap(),
        (6, ReadEnd::Block)
    );
    peer.write_all(b"tail").unwrap();
    drop(peer);
    out.clear();
    assert_eq!(
        s.read(None, Some(b'\n'), Wait::Timeout, &mut out).unwrap(),
        ReadEnd::Eof
    );
    assert_eq!(out, b"tail");
    assert_eq!(
        s.read(None, None, Wait::NonBlocking, &mut out).unwrap(),
        ReadEnd::Eof
    );
    assert_eq!(
        s.drain(None, None, Wait::Timeout).unwrap(),
        (0, ReadEnd::Eof)
    );
    // A blocking read honours the timeout and keeps partial data.
    let (mut s, mut peer) = unix_pair();
    secs(&mut s, TimeoutMode::Block, 0.03);
    peer.write_all(b"par").unwrap();
    out.clear();
    let e = s.read(Some(10), None, Wait::Timeout, &mut out).unwrap_err();
    assert_eq!((e.kind, &out[..]), (ErrorKind::Timeout, &b"par"[..]));
}

#[test]
fn read_call_invokes_the_callback_while_blocked() {
    let (mut s, mut peer) = unix_pair();
    peer.write_all(b"hel").unwrap();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(60));
        peer.write_all(b"lo\nrest").unwrap();
        peer
    });
    let mut calls = 0;
    let mut cb = |i: Interest| -> Result<()> {
        assert_eq!(i, Interest::Read);
        calls += 1;
        assert!(calls < 1000, "callback spun");
        thread::sleep(Duration::from_millis(10));
        Ok(())
    };
    let mut out = Vec::new();
    let end = s
        .read(None, Some(b'\n'), Wait::Call(&mut cb), &mut out)
        .unwrap();
    assert_eq!((end, &out[..]), (ReadEnd::Term, &b"hello\n"[..]));
    assert!(calls >= 2, "{calls}");
    let _peer = h.join().unwrap();
    // A callback error aborts with that error; the data read so far is kept.
    let mut abort = |_: Interest| -> Result<()> { Err(Error::new(ErrorKind::Aborted, "stop")) };
    out.clear();
    let e = s
        .read(Some(100), None, Wait::Call(&mut abort), &mut out)
        .unwrap_err();
    assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Aborted, "stop"));
    assert_eq!(out, b"rest");
    let mut abort = |_: Interest| -> Result<()> { Err(Error::kind(ErrorKind::Aborted)) };
    assert_eq!(
        s.drain(None, None, Wait::Call(&mut abort))
            .unwrap_err()
            .kind,
        ErrorKind::Aborted
    );
}

/// Fills the kernel buffers towards a peer that does not read; returns bytes written.
fn stuff(s: &mut Stream, chunk: &[u8]) -> usize {
    let mut n = 0;
    for _ in 0..10_000 {
        n += chunk.len();
        if s.write_nb(chunk).unwrap() > 0 {
            return n;
        }
    }
    panic!("the kernel never pushed back");
}

#[test]
fn buffered_writes_against_a_peer_that_does_not_read() {
    let (mut s, mut peer) = tcp_pair();
    // Small writes stay in the buffer and write_nb reports 0 (nothing had to wait).
    assert_eq!(s.write_nb(b"hello ").unwrap(), 0);
    assert_eq!(s.pending_output(), 6);
    s.write(b"world", Wait::NonBlocking).unwrap();
    assert_eq!(s.flush(Wait::NonBlocking).unwrap(), 0);
    assert_eq!(s.pending_output(), 0);
    let mut buf = [0u8; 11];
    std::io::Read::read_exact(&mut peer, &mut buf).unwrap();
    assert_eq!(&buf, b"hello world");

    let chunk = vec![b'z'; 100_000];
    let written = stuff(&mut s, &chunk);
    let p1 = s.pending_output();
    assert!(p1 > 0);
    // More writes only grow the buffer; flush_nb reports what is left.
    assert!(s.write_nb(&chunk).unwrap() >= p1 + chunk.len());
    let left = s.flush(Wait::NonBlocking).unwrap();
    assert!(left >= p1 + chunk.len(), "{left} {p1}");
    let total = written + chunk.len() + 11;
    // The peer reads everything; a blocking flush completes.
    let h = thread::spawn(move || {
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut peer, &mut got).unwrap();
        got.len()
    });
    s.timeout.set(TimeoutMode::Total, 10.0);
    assert_eq!(s.flush(Wait::Timeout).unwrap(), 0);
    assert_eq!(s.pending_output(), 0);
    s.close().unwrap();
    assert_eq!(h.join().unwrap(), total - 11);
    assert_eq!(s.stats().1, total as u64);
}

#[test]
fn blocking_write_pushes_past_the_threshold_and_times_out() {
    let (mut s, peer) = unix_pair();
    secs(&mut s, TimeoutMode::Block, 0.05);
    let chunk = vec![1u8; WRITE_THRESHOLD * 4];
    let mut err = None;
    for _ in 0..100 {
        if let Err(e) = s.write(&chunk, Wait::Timeout) {
            err = Some(e);
            break;
        }
    }
    assert_eq!(
        err.expect("the kernel never pushed back").kind,
        ErrorKind::Timeout
    );
    // What the kernel did not take stays buffered.
    assert!(s.pending_output() > 0);
    // A write_call whose callback gives up aborts with its error.
    let mut calls = 0;
    let mut cb = |i: Interest| -> Result<()> {
        assert_eq!(i, Interest::Write);
        calls += 1;
        Err(Error::kind(ErrorKind::Aborted))
    };
    assert_eq!(
        s.flush(Wait::Call(&mut cb)).unwrap_err().kind,
        ErrorKind::Aborted
    );
    assert_eq!(calls, 1);
    drop(peer);
    // The peer is gone: closed, no SIGPIPE.
    assert_eq!(s.flush(Wait::Timeout).unwrap_err().kind, ErrorKind::Closed);
    // close still closes, and reports the failed flush.
    assert_eq!(s.close().unwrap_err().kind, ErrorKind::Closed);
    assert!(s.is_closed());
    s.close().unwrap();
}

#[test]
fn finish_then_read_on_tcp() {
    let (mut a, mut b) = tcp_streams();
    a.timeout.set(TimeoutMode::Total, 5.0);
    b.timeout.set(TimeoutMode::Total, 5.0);
    a.write(b"request", Wait::Timeout).unwrap();
    a.finish(Wait::Timeout).unwrap();
    a.finish(Wait::Timeout).unwrap();
    assert!(a.is_finished());
    assert_eq!(recv(&mut b, Pattern::All), (Ok(()), b"request".to_vec()));
    assert_eq!(b.send(b"response").0, 8);
    b.close().unwrap();
    assert_eq!(recv(&mut a, Pattern::All), (Ok(()), b"response".to_vec()));
    // Writing after finish is refused.
    assert_eq!(
        a.write(b"x", Wait::Timeout).unwrap_err().kind,
        ErrorKind::Closed
    );
    assert_eq!(a.send(b"x").1.unwrap_err().kind, ErrorKind::Closed);
    a.close().unwrap();
}

#[test]
fn finish_on_unix_emulates_eof() {
    let (mut s, mut peer) = unix_pair();
    peer.write_all(b"queued before finish\n").unwrap();
    s.write(b"bye", Wait::Timeout).unwrap();
    s.finish(Wait::Timeout).unwrap();
    assert!(!s.is_closed());
    assert_eq!(s.fd(), None);
    assert!(s.has_buffered_input());
    // The peer got the data, then end of stream.
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut peer, &mut got).unwrap();
    assert_eq!(got, b"bye");
    // Input that had already arrived is still there, then end of stream.
    let mut out = Vec::new();
    assert_eq!(
        s.read(None, Some(b'\n'), Wait::NonBlocking, &mut out)
            .unwrap(),
        ReadEnd::Term
    );
    assert_eq!(out, b"queued before finish\n");
    assert_eq!(
        s.read(None, None, Wait::Timeout, &mut out).unwrap(),
        ReadEnd::Eof
    );
    assert_eq!(
        s.drain(None, None, Wait::NonBlocking).unwrap(),
        (0, ReadEnd::Eof)
    );
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::StripAllCr)).0,
        Err(ErrorKind::Closed)
    );
    assert_eq!(recv(&mut s, Pattern::All), (Ok(()), Vec::new()));
    assert!(s.has_buffered_input());
    assert_eq!(
        s.write(b"x", Wait::Timeout).unwrap_err().kind,
        ErrorKind::Closed
    );
    s.finish(Wait::Timeout).unwrap();
    s.close().unwrap();
    assert!(!s.has_buffered_input());
}

#[test]
fn closed_streams_refuse_politely() {
    let (mut s, _peer) = unix_pair();
    s.close().unwrap();
    s.close().unwrap();
    s.reset().unwrap();
    assert!(s.is_closed());
    assert_eq!(s.fd(), None);
    assert!(s.socket().is_none());
    let mut out = Vec::new();
    assert_eq!(
        s.receive(Pattern::All, &mut out).unwrap_err().kind,
        ErrorKind::Closed
    );
    assert_eq!(
        s.read(None, None, Wait::Timeout, &mut out)
            .unwrap_err()
            .kind,
        ErrorKind::Closed
    );
    assert_eq!(
        s.drain(None, None, Wait::NonBlocking).unwrap_err().kind,
        ErrorKind::Closed
    );
    assert_eq!(s.send(b"x"), (0, Err(Error::kind(ErrorKind::Closed))));
    assert_eq!(
        s.write(b"x", Wait::Timeout).unwrap_err().kind,
        ErrorKind::Closed
    );
    assert_eq!(s.write_nb(b"x").unwrap_err().kind, ErrorKind::Closed);
    assert_eq!(s.flush(Wait::Timeout).unwrap_err().kind, ErrorKind::Closed);
    assert_eq!(s.finish(Wait::Timeout).unwrap_err().kind, ErrorKind::Closed);
    assert_eq!(
        s.shutdown(Shutdown::Both).unwrap_err().kind,
        ErrorKind::Closed
    );
    assert_eq!(s.fill(Wait::Timeout).unwrap_err().kind, ErrorKind::Closed);
    assert!(!s.has_buffered_input());
    assert_eq!(crate::net::Pollable::poll_fd(&s), None);
}

#[test]
fn close_flushes_buffered_output() {
    let (mut s, mut peer) = tcp_pair();
    s.write(b"buffered until close", Wait::Timeout).unwrap();
    assert_eq!(s.pending_output(), 20);
    s.close().unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut peer, &mut got).unwrap();
    assert_eq!(got, b"buffered until close");
}

#[test]
fn reset_makes_the_peer_see_closed() {
    let (mut a, mut b) = tcp_streams();
    b.timeout.set(TimeoutMode::Total, 5.0);
    // Unflushed output is discarded by reset.
    a.write(b"never sent", Wait::Timeout).unwrap();
    a.reset().unwrap();
    a.reset().unwrap();
    a.close().unwrap();
    let (r, out) = recv(&mut b, Pattern::All);
    assert_eq!(r, Err(ErrorKind::Closed));
    assert!(out.is_empty());
    let e = b
        .receive(Pattern::Line(LineMode::StripAllCr), &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Closed);
}

#[test]
fn send_to_a_vanished_peer_is_closed_not_sigpipe() {
    // Unix: the peer's end is gone; the next send fails with EPIPE.
    let (mut s, peer) = unix_pair();
    drop(peer);
    let (n, r) = s.send(b"anyone there?");
    assert_eq!(n, 0);
    assert_eq!(r.unwrap_err().kind, ErrorKind::Closed);
    // TCP: the first send may still be accepted; the RST makes a later one fail.
    let (mut s, peer) = tcp_pair();
    drop(peer);
    s.timeout.set(TimeoutMode::Total, 5.0);
    let mut failed = None;
    for _ in 0..100 {
        let (_, r) = s.send(&[0u8; 1000]);
        if let Err(e) = r {
            failed = Some(e);
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(failed.expect("send never failed").kind, ErrorKind::Closed);
    // And Moonbridge writes the same way.
    let (mut s, peer) = unix_pair();
    drop(peer);
    s.write(b"x", Wait::Timeout).unwrap();
    assert_eq!(
        s.flush(Wait::NonBlocking).unwrap_err().kind,
        ErrorKind::Closed
    );
}

#[test]
fn send_counts_and_times_out_with_partial_count() {
    let (mut s, peer) = unix_pair();
    assert_eq!(s.send(b""), (0, Ok(())));
    assert_eq!(s.send(b"12345"), (5, Ok(())));
    secs(&mut s, TimeoutMode::Block, 0.05);
    let big = vec![0u8; 8 << 20];
    let t = Instant::now();
    let (n, r) = s.send(&big);
    assert_eq!(r.unwrap_err().kind, ErrorKind::Timeout);
    assert!(n > 0 && n < big.len(), "{n}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(s.stats().1, 5 + n as u64);
    s.set_stats(1, 2, 10.0);
    let (r, w, age) = s.stats();
    assert_eq!((r, w), (1, 2));
    assert!((10.0..11.0).contains(&age), "{age}");
    drop(peer);
}

#[test]
fn send_flushes_the_write_buffer_first() {
    let (mut s, mut peer) = unix_pair();
    s.write(b"first ", Wait::Timeout).unwrap();
    assert_eq!(s.send(b"second"), (6, Ok(())));
    assert_eq!(s.pending_output(), 0);
    let mut buf = [0u8; 12];
    std::io::Read::read_exact(&mut peer, &mut buf).unwrap();
    assert_eq!(&buf, b"first second");
}

#[test]
fn buffered_input_is_dirty_for_select() {
    let (mut s, mut peer) = unix_pair();
    assert!(!s.has_buffered_input());
    peer.write_all(b"one\ntwo\n").unwrap();
    assert_eq!(
        recv(&mut s, Pattern::Line(LineMode::Raw)),
        (Ok(()), b"one".to_vec())
    );
    assert!(s.has_buffered_input());
    assert!(crate::net::Pollable::has_buffered_input(&s));
    assert_eq!(s.buffered(), b"two\n");
    s.consume(4);
    assert!(!s.has_buffered_input());
    assert_eq!(crate::net::Pollable::poll_fd(&s), s.fd());
    peer.write_all(b"more").unwrap();
    assert_eq!(s.fill(Wait::Timeout).unwrap(), 4);
    assert_eq!(s.buffered(), b"more");
}

#[test]
fn shutdown_directions() {
    let (mut a, mut b) = tcp_streams();
    b.timeout.set(TimeoutMode::Total, 5.0);
    a.write(b"flushed by shutdown", Wait::Timeout).unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        recv(&mut b, Pattern::All),
        (Ok(()), b"flushed by shutdown".to_vec())
    );
    assert_eq!(a.send(b"x").1.unwrap_err().kind, ErrorKind::Closed);
    a.shutdown(Shutdown::Read).unwrap();
    a.close().unwrap();
}

fn closed_port() -> SockAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr.into()
}

/// Starts a non-blocking connect; `None` when the kernel answered at once.
fn start_connect(addr: &SockAddr) -> std::result::Result<Stream, io::Error> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_nonblocking(true).unwrap();
    match sock.connect(addr) {
        Ok(()) => Ok(Stream::connecting(sock, StreamKind::Tcp)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
            Ok(Stream::connecting(sock, StreamKind::Tcp))
        }
        Err(e) => Err(e),
    }
}

#[test]
fn nonblocking_connect_reports_refused_on_first_io() {
    let addr = closed_port();
    let ops: [fn(&mut Stream) -> Result<()>; 5] = [
        |s| s.receive(Pattern::All, &mut Vec::new()),
        |s| {
            s.read(None, None, Wait::Timeout, &mut Vec::new())
                .map(|_| ())
        },
        |s| s.send(b"x").1,
        |s| s.write(&[0; WRITE_THRESHOLD], Wait::Timeout),
        |s| s.flush(Wait::Timeout).map(|_| ()),
    ];
    for op in ops {
        match start_connect(&addr) {
            Ok(mut s) => {
                s.timeout.set(TimeoutMode::Total, 5.0);
                let e = op(&mut s).unwrap_err();
                assert_eq!(e.kind, ErrorKind::Refused, "{e}");
                assert_eq!(e.msg, "connect: connection refused");
                assert!(!s.is_connecting());
            }
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ECONNREFUSED)),
        }
    }
    // Non-blocking: either still blocked or refused, never a hang; then refused.
    if let Ok(mut s) = start_connect(&addr) {
        s.timeout.set(TimeoutMode::Total, 5.0);
        match s.read(None, None, Wait::NonBlocking, &mut Vec::new()) {
            Ok(ReadEnd::Block) => {
                let e = s.receive(Pattern::Count(1), &mut Vec::new()).unwrap_err();
                assert_eq!(e.kind, ErrorKind::Refused);
            }
            Err(e) => assert_eq!(e.kind, ErrorKind::Refused),
            Ok(other) => panic!("{other:?}"),
        }
    }
}

#[test]
fn nonblocking_connect_that_succeeds() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SockAddr = l.local_addr().unwrap().into();
    let mut s = start_connect(&addr).unwrap();
    s.timeout.set(TimeoutMode::Total, 5.0);
    // write_nb while connecting never blocks; the data goes out once connected.
    s.write_nb(b"early ").unwrap();
    s.write(b"bird", Wait::Timeout).unwrap();
    assert_eq!(s.flush(Wait::Timeout).unwrap(), 0);
    assert!(!s.is_connecting());
    let (mut peer, _) = l.accept().unwrap();
    let mut buf = [0u8; 10];
    std::io::Read::read_exact(&mut peer, &mut buf).unwrap();
    assert_eq!(&buf, b"early bird");
}

/// Throughput against plain read loops (run with
/// `cargo test --release bench_ -- --ignored --nocapture --test-threads=1`; the line mode
/// can be chosen with SOCKIT_BENCH_LINE_MODE=raw|crlf|all).
mod bench {
    use super::*;

    const TOTAL: usize = 1 << 30;
    const LINES: usize = 10_000_000;

    pub fn line_block() -> Vec<u8> {
        let mut block = Vec::new();
        for i in 0..10_000 {
            let mut line = format!("{i:08} ").into_bytes();
            line.resize(79, b'x');
            line.push(b'\n');
            block.extend_from_slice(&line);
        }
        block
    }

    fn writer(mut peer: TcpStream, block: Vec<u8>, total: usize) -> thread::JoinHandle<()> {
        thread::spawn(move || {
            let mut left = total;
            while left > 0 {
                let n = left.min(block.len());
                peer.write_all(&block[..n]).unwrap();
                left -= n;
            }
        })
    }

    /// CPU time (user + system) of the calling thread.
    fn thread_cpu() -> Duration {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: ru is a valid rusage to fill.
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(ru.ru_utime) + tv(ru.ru_stime)
    }

    fn report(what: &str, base: Duration, ours: Duration) {
        eprintln!(
            "{what}: plain loop {:.3}s, stream {:.3}s, ratio {:.3}",
            base.as_secs_f64(),
            ours.as_secs_f64(),
            base.as_secs_f64() / ours.as_secs_f64()
        );
    }

    #[test]
    #[ignore]
    fn bench_counts_64k() {
        let block = vec![b'q'; 1 << 20];
        // Plain blocking read loop.
        let (s, peer) = tcp_pair();
        let mut plain: TcpStream = Socket::into(s.sock.unwrap_or_else(|| unreachable!()));
        plain.set_nonblocking(false).unwrap();
        let h = writer(peer, block.clone(), TOTAL);
        let t = Instant::now();
        let mut buf = vec![0u8; 65536];
        let mut got = 0;
        while got < TOTAL {
            let n = plain.read(&mut buf).unwrap();
            assert!(n > 0);
            got += n;
        }
        let base = t.elapsed();
        h.join().unwrap();
        // The stream, 64 KiB counts.
        let (mut s, peer) = tcp_pair();
        let h = writer(peer, block, TOTAL);
        let t = Instant::now();
        let mut out = Vec::with_capacity(65536);
        for _ in 0..TOTAL / 65536 {
            out.clear();
            s.receive(Pattern::Count(65536), &mut out).unwrap();
        }
        let ours = t.elapsed();
        h.join().unwrap();
        report("1 GiB in 64 KiB counts", base, ours);
    }

    pub fn plain_lines(block: &[u8], total: usize) -> Duration {
        let (s, peer) = tcp_pair();
        let mut plain: TcpStream = Socket::into(s.sock.unwrap_or_else(|| unreachable!()));
        plain.set_nonblocking(false).unwrap();
        let h = writer(peer, block.to_vec(), total);
        let t = Instant::now();
        let c0 = thread_cpu();
        let mut buf = vec![0u8; 65536];
        let (mut start, mut end, mut lines) = (0, 0, 0);
        let mut line = Vec::with_capacity(256);
        let mut sum = 0usize;
        while lines < LINES {
            match memchr::memchr(b'\n', &buf[start..end]) {
                Some(i) => {
                    line.clear();
                    line.extend_from_slice(&buf[start..start + i]);
                    sum += line.len();
                    start += i + 1;
                    lines += 1;
                }
                None => {
                    buf.copy_within(start..end, 0);
                    end -= start;
                    start = 0;
                    let n = plain.read(&mut buf[end..]).unwrap();
                    assert!(n > 0);
                    end += n;
                }
            }
        }
        let base = t.elapsed();
        let cpu = thread_cpu() - c0;
        h.join().unwrap();
        assert_eq!(sum, LINES * 79);
        eprintln!("  plain loop reader cpu {:.3}s", cpu.as_secs_f64());
        base
    }

    pub fn stream_lines(block: &[u8], total: usize) -> Duration {
        let (mut s, peer) = tcp_pair();
        let h = writer(peer, block.to_vec(), total);
        let t = Instant::now();
        let c0 = thread_cpu();
        let mut out = Vec::with_capacity(256);
        let mut sum = 0usize;
        for _ in 0..LINES {
            out.clear();
            s.receive(Pattern::Line(LineMode::StripAllCr), &mut out)
                .unwrap();
            sum += out.len();
        }
        let ours = t.elapsed();
        let cpu = thread_cpu() - c0;
        h.join().unwrap();
        assert_eq!(sum, LINES * 79);
        eprintln!("  stream reader cpu {:.3}s", cpu.as_secs_f64());
        ours
    }

    #[test]
    #[ignore]
    fn bench_lines_80() {
        let block = line_block();
        let total = LINES * 80;
        for _ in 0..2 {
            let ours = stream_lines(&block, total);
            let base = plain_lines(&block, total);
            report("10M 80-byte lines", base, ours);
        }
    }
}

mod bench_parts {
    use super::bench::*;

    #[test]
    #[ignore]
    fn part_stream_lines() {
        stream_lines(&line_block(), 10_000_000 * 80);
    }

    #[test]
    #[ignore]
    fn part_plain_lines() {
        plain_lines(&line_block(), 10_000_000 * 80);
    }
}

#[test]
fn received_counts_what_reads_handed_out() {
    // LuaSocket counts the bytes its reads return, not what sits in its buffer.
    let (mut s, mut peer) = unix_pair();
    peer.write_all(b"ab\ncd\nef\n").unwrap();
    let mut line = Vec::new();
    s.receive(Pattern::Line(LineMode::StripAllCr), &mut line)
        .unwrap();
    assert_eq!(line, b"ab");
    assert_eq!(s.buffered(), b"cd\nef\n", "the rest came in the same read");
    assert_eq!(s.stats().0, 3);
    s.set_stats(100, 0, -1.0);
    assert_eq!(s.stats().0, 100);
    line.clear();
    s.receive(Pattern::Line(LineMode::StripAllCr), &mut line)
        .unwrap();
    assert_eq!(s.stats().0, 103);
    s.consume(2);
    assert_eq!(s.stats().0, 105);
    // Closing drops "\n" unread: it was never received.
    s.close().unwrap();
    assert_eq!(s.stats().0, 105);
}

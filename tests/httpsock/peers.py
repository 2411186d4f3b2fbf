#!/usr/bin/env python3
"""The symmetric HTTP socket against real peers, both roles.

    python3 tests/httpsock/peers.py [--only server,client] [--quick]

Server role: examples/http_server.c (C API, a thread per connection) and
examples/http_server.lua (sockit.http with yield sockets under one select loop), each
answering
  - h11 (PyPI, a strict HTTP/1.1 state machine) as the client: every response they write
    is parsed by h11, whatever its framing (length, chunked with trailers, HEAD, 204, 304,
    100-continue, HTTP/1.0, Connection: close, keep-alive, pipelining, error answers);
  - curl (keep-alive over several URLs, 100-continue, chunked upload, HEAD, HTTP/1.0),
    Python http.client and requests (keep-alive sessions, chunked uploads, streamed
    responses);
  - wrk with keep-alive and with pipelined requests, ab -k (HTTP/1.0 keep-alive);
  - a 256 MiB chunked upload read with read_some, at flat memory;
  - every smuggling and limit case, with the status and the bytes sent back.
Client role: tests/httpsock/client_h11.lua (sockit.http as a client) against an h11
server that parses every request strictly, and tests/httpsock/client_peers.lua against
nginx, httpbin under gunicorn and the misbehaving fault server.

Prints one "ok - ..." / "not ok - ..." line per check and ends with "N passed, M
failed". Servers are started here on 127.0.0.1 with ports chosen at run time and
stopped by their pid; every wait is bounded.
"""

import argparse
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import h11

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
LUA_ENV = dict(
    os.environ,
    LUA_PATH=os.path.join(ROOT, "build/lua51/?.lua") + ";;",
    LUA_CPATH=os.path.join(ROOT, "build/lua51/?.so") + ";;",
)

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - %s # %s" % (name, detail))
    sys.stdout.flush()
    return cond


def tap(label, text):
    """Counts the TAP lines of a sub-test's output."""
    global passed, failed
    seen = 0
    for line in text.splitlines():
        if line.startswith("ok "):
            passed += 1
            seen += 1
            print("ok - %s: %s" % (label, line[3:].lstrip("0123456789 -")))
        elif line.startswith("not ok "):
            failed += 1
            seen += 1
            print("not ok - %s: %s" % (label, line[7:].lstrip("0123456789 -")))
    return seen


# ----- processes ----------------------------------------------------------------------


def stop_group(p, grace=5):
    """Stops a child started in its own session, children included: TERM, then KILL."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


class Proc:
    """A child process whose first stdout line is "port N"."""

    def __init__(self, argv, env=None, cwd=ROOT):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, cwd=cwd, start_new_session=True)
        self.port = None
        r, _, _ = select.select([self.p.stdout], [], [], 20)
        if r:
            line = self.p.stdout.readline().decode()
            m = re.match(r"port (\d+)", line)
            if m:
                self.port = int(m.group(1))

    def stop(self):
        stop_group(self.p)
        err = self.p.stderr.read().decode(errors="replace")
        self.p.stdout.close()
        self.p.stderr.close()
        return err


def run(argv, timeout=120, env=None, input=None):
    """Runs a command (bounded); returns (exit status, stdout, stderr) as text."""
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, input=input,
                           cwd=ROOT)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode(errors="replace"), "timeout"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ----- raw sockets and h11 -----------------------------------------------------------


def raw(port, data, timeout=5.0):
    """Sends data, returns (everything the server sent, whether it closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    got, closed = b"", False
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            s.settimeout(max(0.05, end - time.monotonic()))
            piece = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not piece:
            closed = True
            break
        got += piece
    s.close()
    return got, closed


class H11Client:
    """One connection driven by an h11 client state machine: every byte the server sends
    goes through h11, which raises on anything that is not valid HTTP/1.1."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h11.Connection(h11.CLIENT)

    def send(self, *events):
        for ev in events:
            data = self.conn.send(ev)
            if data:
                self.sock.sendall(data)

    def next(self):
        while True:
            ev = self.conn.next_event()
            if ev is h11.NEED_DATA:
                data = self.sock.recv(65536)
                self.conn.receive_data(data)
                continue
            return ev

    def response(self):
        """Reads one response: (interim responses, Response, body, trailers)."""
        interim, resp, body, trailers = [], None, b"", []
        while True:
            ev = self.next()
            if isinstance(ev, h11.InformationalResponse):
                interim.append(ev)
            elif isinstance(ev, h11.Response):
                resp = ev
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                trailers = ev.headers
                return interim, resp, body, trailers
            else:
                raise AssertionError("unexpected event %r" % (ev,))

    def exchange(self, method, target, headers=(), body=None, trailers=()):
        hdrs = [("Host", "127.0.0.1")] + list(headers)
        if body is not None and not any(n.lower() == b"transfer-encoding" or
                                        n.lower() == "transfer-encoding" for n, _ in hdrs):
            hdrs.append(("Content-Length", str(len(body))))
        self.send(h11.Request(method=method, target=target, headers=hdrs))
        if body:
            self.send(h11.Data(data=body))
        self.send(h11.EndOfMessage(headers=list(trailers)))
        return self.response()

    def next_cycle(self):
        self.conn.start_next_cycle()

    def close(self):
        self.sock.close()


def header(resp, name):
    name = name.lower().encode()
    vals = [v.decode() for n, v in resp.headers if n == name]
    return ", ".join(vals) if vals else None


# ----- server role ---------------------------------------------------------------------


def server_h11(label, port):
    """Every response the server writes, parsed strictly by h11."""
    try:
        c = H11Client(port)
        _, r, body, _ = c.exchange("GET", "/")
        check(label + " h11: GET / is valid HTTP", r.status_code == 200 and body == b"Hello, World!\n",
              (r, body))
        conn = header(r, "x-conn")
        c.next_cycle()
        _, r, body, _ = c.exchange("HEAD", "/")
        check(label + " h11: HEAD has the length and no body",
              header(r, "content-length") == "14" and body == b"", (r.headers, body))
        c.next_cycle()
        _, r, body, _ = c.exchange("POST", "/echo", body=b"posted body")
        check(label + " h11: POST with Content-Length echoed", body == b"posted body", body)
        c.next_cycle()
        _, r, body, _ = c.exchange("PUT", "/echo", headers=[("Transfer-Encoding", "chunked")],
                                   body=b"chunked body", trailers=[("X-Sum", "12")])
        check(label + " h11: chunked request with a trailer", body == b"chunked body" and
              header(r, "x-trailer-x-sum") == "12", (r.headers, body))
        c.next_cycle()
        _, r, body, trailers = c.exchange("GET", "/stream?n=5")
        check(label + " h11: chunked response with a trailer",
              body == b"".join(b"chunk %d\n" % i for i in range(5)) and
              (b"x-chunks", b"5") in list(trailers), (body, trailers))
        c.next_cycle()
        for code in (204, 304):
            _, r, body, _ = c.exchange("GET", "/status/%d" % code)
            check(label + " h11: %d without body" % code, r.status_code == code and body == b"")
            c.next_cycle()
        # 100-continue: the head first, the body after the interim response
        c.send(h11.Request(method="POST", target="/echo",
                           headers=[("Host", "x"), ("Expect", "100-continue"),
                                    ("Content-Length", "4")]))
        ev = c.next()
        check(label + " h11: 100 Continue before the body",
              isinstance(ev, h11.InformationalResponse) and ev.status_code == 100, ev)
        c.send(h11.Data(data=b"late"), h11.EndOfMessage())
        _, r, body, _ = c.response()
        check(label + " h11: then the final response", body == b"late" and
              header(r, "x-expect") == "100-continue", (r.headers, body))
        check(label + " h11: one connection for all", header(r, "x-conn") == conn and
              header(r, "x-request") == "8", (conn, r.headers))
        c.next_cycle()
        # the server's Connection: close ends the connection
        _, r, body, _ = c.exchange("GET", "/close")
        check(label + " h11: Connection: close", body == b"bye\n" and
              c.conn.our_state is h11.MUST_CLOSE, c.conn.states)
        c.sock.settimeout(5)
        check(label + " h11: and the server closed", c.sock.recv(10) == b"")
        c.close()

        # HTTP/1.0 (h11 sends only 1.1: the request goes raw, h11 reads the answer)
        c = H11Client(port)
        c.sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        c.conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        c.conn.send(h11.EndOfMessage())
        _, r, body, _ = c.response()
        check(label + " h11: HTTP/1.0 answered", r.status_code == 200 and body == b"Hello, World!\n"
              and header(r, "connection") == "close", r.headers)
        c.close()

        # pipelined: three requests in one send, the responses read in order
        c = H11Client(port)
        reqs = b"".join(b"GET /echo?%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
        c.sock.sendall(reqs)
        targets = []
        for i in range(3):
            # tell h11 what was sent (the bytes already went out)
            c.conn.send(h11.Request(method="GET", target="/echo?%d" % i, headers=[("Host", "x")]))
            c.conn.send(h11.EndOfMessage())
            _, r, _, _ = c.response()
            targets.append(header(r, "x-target"))
            c.next_cycle()
        check(label + " h11: pipelined requests answered in order",
              targets == ["/echo?0", "/echo?1", "/echo?2"], targets)
        c.close()

        # an error answer is valid HTTP too
        got, closed = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        hc = h11.Connection(h11.CLIENT)
        hc.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        hc.send(h11.EndOfMessage())
        hc.receive_data(got)
        ev = hc.next_event()
        body = b""
        while not isinstance(ev, h11.EndOfMessage):
            if isinstance(ev, h11.Data):
                body += ev.data
            if isinstance(ev, h11.Response):
                status = ev.status_code
            ev = hc.next_event()
        check(label + " h11: the 400 answer is valid HTTP", status == 400 and closed, got)
    except Exception as e:  # h11 refused something, or the peer broke off
        check(label + " h11: conformance run", False, repr(e))


def server_curl(label, port, work):
    base = "http://127.0.0.1:%d" % port
    rc, out, err = run(["curl", "-s", "-D", "-", base + "/", base + "/echo?a", base + "/stream?n=2"])
    reqs = re.findall(r"x-request: (\d+)", out, re.I)
    conns = set(re.findall(r"x-conn: (\d+)", out, re.I))
    check(label + " curl: keep-alive over three URLs", rc == 0 and reqs == ["1", "2", "3"] and
          len(conns) == 1, out[-300:])
    check(label + " curl: chunked response read", "chunk 1\n" in out)
    body = os.path.join(work, "body.bin")
    with open(body, "wb") as f:
        f.write(b"x" * 5000)
    rc, out, err = run(["curl", "-sv", "-H", "Expect: 100-continue", "--expect100-timeout", "30",
                        "--data-binary", "@" + body, base + "/echo"], timeout=60)
    check(label + " curl: 100-continue", rc == 0 and "HTTP/1.1 100 Continue" in err and
          out == "x" * 5000, err[-400:])
    rc, out, err = run(["curl", "-s", "-T", "-", base + "/echo"], input=b"from stdin " * 1000)
    check(label + " curl: chunked upload from stdin", rc == 0 and out == "from stdin " * 1000, out[:80])
    rc, out, err = run(["curl", "-sI", base + "/"])
    check(label + " curl: HEAD", rc == 0 and "Content-Length: 14" in out, out)
    rc, out, err = run(["curl", "-s", "-i", "--http1.0", base + "/"])
    check(label + " curl: HTTP/1.0", rc == 0 and "Connection: close" in out and
          out.endswith("Hello, World!\n"), out)
    rc, out, err = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/status/304"])
    check(label + " curl: 304", out == "304", out)


def server_python(label, port):
    import http.client
    import requests

    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    seen = []
    for path in ("/", "/echo", "/stream?n=3"):
        c.request("GET", path)
        r = c.getresponse()
        data = r.read()
        seen.append((r.status, r.getheader("x-conn"), r.getheader("x-request"), data))
    check(label + " http.client: keep-alive", [s[2] for s in seen] == ["1", "2", "3"] and
          len({s[1] for s in seen}) == 1, seen)
    check(label + " http.client: chunked response", seen[2][3] == b"chunk 0\nchunk 1\nchunk 2\n")
    c.request("POST", "/echo", body=iter([b"a" * 10, b"b" * 20]), encode_chunked=True)
    r = c.getresponse()
    check(label + " http.client: chunked request body", r.read() == b"a" * 10 + b"b" * 20)
    c.request("HEAD", "/")
    r = c.getresponse()
    check(label + " http.client: HEAD", r.getheader("content-length") == "14" and r.read() == b"")
    c.close()

    s = requests.Session()
    rs = [s.get("http://127.0.0.1:%d/" % port, timeout=10) for _ in range(5)]
    check(label + " requests: session keep-alive", [r.headers["x-request"] for r in rs] ==
          ["1", "2", "3", "4", "5"] and all(r.text == "Hello, World!\n" for r in rs))
    r = s.post("http://127.0.0.1:%d/echo" % port, data=b"form=1", timeout=10)
    check(label + " requests: POST", r.content == b"form=1" and r.headers["x-method"] == "POST")

    def gen():
        for i in range(100):
            yield b"%04d" % i

    r = s.put("http://127.0.0.1:%d/echo" % port, data=gen(), timeout=10)
    check(label + " requests: generator upload (chunked)",
          r.content == b"".join(b"%04d" % i for i in range(100)))
    r = s.get("http://127.0.0.1:%d/stream?n=50" % port, stream=True, timeout=10)
    got = b"".join(r.iter_content(chunk_size=7))
    check(label + " requests: streamed chunked response", got.count(b"chunk") == 50)
    s.close()


WRK_PIPELINE = """
init = function(args)
   local r = {}
   for i = 1, 16 do r[i] = wrk.format(nil, "/") end
   req = table.concat(r)
end
request = function() return req end
"""


def server_load(label, port, work):
    url = "http://127.0.0.1:%d/" % port
    if shutil.which("wrk"):
        rc, out, err = run(["wrk", "-t1", "-c1", "-d1s", url], timeout=60)
        m = re.search(r"(\d+) requests in", out)
        check(label + " wrk: keep-alive", rc == 0 and m and int(m.group(1)) > 50 and
              "Non-2xx" not in out and "Socket errors" not in out, out)
        script = os.path.join(work, "pipeline.lua")
        with open(script, "w") as f:
            f.write(WRK_PIPELINE)
        rc, out, err = run(["wrk", "-t1", "-c2", "-d1s", "-s", script, url], timeout=60)
        m = re.search(r"(\d+) requests in", out)
        check(label + " wrk: 16 pipelined requests at a time", rc == 0 and m and
              int(m.group(1)) > 50 and "Non-2xx" not in out and "Socket errors" not in out, out)
    else:
        check(label + " wrk is installed", False, "scripts/install-deps.sh installs it")
    if shutil.which("ab"):
        rc, out, err = run(["ab", "-k", "-n", "2000", "-c", "2", url], timeout=120)
        check(label + " ab -k: 2000 requests, HTTP/1.0 keep-alive", rc == 0 and
              re.search(r"Complete requests:\s+2000", out) and
              re.search(r"Failed requests:\s+0", out) and
              re.search(r"Keep-Alive requests:\s+2000", out), out[-600:])
    else:
        check(label + " ab is installed", False, "scripts/install-deps.sh installs it")


def server_upload(label, port, size=256 << 20):
    """A chunked upload of `size` bytes, read by the server with read_some into a body it
    empties each time: its memory must stay flat."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n" % (1 << 20) + b"u" * (1 << 20) + b"\r\n"
    t0 = time.monotonic()
    for _ in range(size >> 20):
        s.sendall(piece)
    s.sendall(b"0\r\n\r\n")
    got = b""
    while b"\n" not in got.split(b"\r\n\r\n", 1)[-1] or b"\r\n\r\n" not in got:
        data = s.recv(4096)
        if not data:
            break
        got += data
    s.close()
    secs = time.monotonic() - t0
    m = re.search(rb"bytes=(\d+) pieces=(\d+) max_rss_kb=(\d+)", got)
    ok = m and int(m.group(1)) == size
    check(label + " 256 MiB chunked upload read whole", ok, got[-200:])
    if m:
        rss = int(m.group(3))
        print("# %s upload: %d MiB in %.1f s, %s read_some pieces, server peak RSS %d KiB"
              % (label, size >> 20, secs, m.group(2).decode(), rss))
        check(label + " upload at flat memory (peak RSS %d KiB < 64 MiB)" % rss, rss < 64 * 1024)


# (name, bytes, status) for every smuggling and limit case; each answer must be that
# status with Connection: close, the only response, and the connection closed.
SMUGGLING = [
    ("CL and TE", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("TE and CL", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400),
    ("differing Content-Lengths", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 13\r\n\r\nabc", 400),
    ("Content-Length list that differs", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", 400),
    ("Content-Length with a sign", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400),
    ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("TE not ending in chunked", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400),
    ("chunked twice", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ("unknown coding", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    ("obsolete line folding", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    ("white space before the colon", b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
    ("bare CR in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    ("NUL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("bare CR in the request line", b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("bad chunk size", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk size overflow", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400),
    ("chunk size with a sign", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    ("bare CR in a chunk extension", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk not followed by CRLF", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("request line too long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("header line too long", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ("too many header fields", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
    ("head too large", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 8000) for i in range(9)) + b"\r\n", 431),
]


def server_smuggling(label, port):
    for name, data, status in SMUGGLING:
        got, closed = raw(port, data)
        first = got.split(b"\r\n", 1)[0].decode(errors="replace")
        ok = (got.startswith(b"HTTP/1.1 %d " % status) and b"\r\nConnection: close\r\n" in got
              and got.count(b"HTTP/1.1 ") == 1 and closed)
        check("%s refuses %s: sent back '%s' and closed" % (label, name, first), ok, got[:300])
    # the smuggled request behind the refused one was never answered
    got, _ = raw(port, SMUGGLING[0][1])
    check(label + " the request smuggled behind it was not served", b"x-target" not in got.lower()
          and got.count(b"HTTP/1.1") == 1, got[:300])
    # an unread body larger than the drain limit: answered, then the connection closes
    got, closed = raw(port, b"POST /skip HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
                            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    check(label + " an unread 10 MB body: 417, Connection: close",
          got.startswith(b"HTTP/1.1 417 ") and b"Connection: close" in got and closed, got[:300])
    # an unread small body is drained: the next request on the connection is served
    got, closed = raw(port, b"POST /skip HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(label + " an unread small body is drained, the next request served",
          got.count(b"HTTP/1.1 ") == 2 and got.endswith(b"Hello, World!\n"), got[:400])


# ----- client role -----------------------------------------------------------------------


class H11Server:
    """A server that parses every request with h11 (strict) and answers by target;
    records what it got. One thread per connection; bounded lives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.errors = []
        self.stop = False
        self.t = threading.Thread(target=self.accept, daemon=True)
        self.t.start()

    def accept(self):
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(10)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                req, body, trailers = None, b"", []
                while True:
                    ev = conn.next_event()
                    if ev is h11.NEED_DATA:
                        if conn.they_are_waiting_for_100_continue:
                            c.sendall(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                        data = c.recv(65536)
                        conn.receive_data(data)
                        continue
                    if isinstance(ev, h11.ConnectionClosed):
                        return
                    if isinstance(ev, h11.Request):
                        req = ev
                    elif isinstance(ev, h11.Data):
                        body += ev.data
                    elif isinstance(ev, h11.EndOfMessage):
                        trailers = ev.headers
                        break
                target = req.target.decode()
                self.requests.append((req.method.decode(), target, req.http_version.decode(),
                                      [(n.decode(), v.decode()) for n, v in req.headers], body,
                                      [(n.decode(), v.decode()) for n, v in trailers]))
                self.answer(c, conn, req, target, body)
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    c.close()
                    return
                conn.start_next_cycle()
        except h11.ProtocolError as e:
            self.errors.append("h11 refused a request: %r" % e)
        except (OSError, ValueError) as e:
            if not isinstance(e, socket.timeout):
                self.errors.append("connection: %r" % e)
        finally:
            c.close()

    def answer(self, c, conn, req, target, body):
        def send(*evs):
            for ev in evs:
                data = conn.send(ev)
                if data:
                    c.sendall(data)

        echo = b"%s %s %d" % (req.method, req.target, len(body))
        if target == "/chunked":
            send(h11.Response(status_code=200, headers=[("Transfer-Encoding", "chunked")]),
                 h11.Data(data=b"part1,"), h11.Data(data=b"part2"),
                 h11.EndOfMessage(headers=[("X-Trailer", "t1")]))
        elif target.startswith("/status/"):
            code = int(target[8:])
            send(h11.Response(status_code=code, headers=[]), h11.EndOfMessage())
        elif target == "/close":
            send(h11.Response(status_code=200, headers=[("Connection", "close")]),
                 h11.Data(data=b"closing"), h11.EndOfMessage())
        elif req.http_version == b"1.0" or target == "/until-close":
            # no length: the body ends when the connection does
            send(h11.Response(status_code=200, headers=[("Connection", "close")]),
                 h11.Data(data=b"until close: " + echo), h11.EndOfMessage())
        else:
            send(h11.Response(status_code=200, headers=[("Content-Length", str(len(echo)))]),
                 h11.Data(data=echo) if req.method != b"HEAD" else h11.Data(data=b""),
                 h11.EndOfMessage())

    def close(self):
        self.stop = True
        self.sock.close()


def client_h11():
    srv = H11Server()
    rc, out, err = run(["lua5.1", "tests/httpsock/client_h11.lua", str(srv.port)], env=LUA_ENV,
                       timeout=120)
    n = tap("sockit client vs h11", out)
    check("client_h11.lua ran its checks", rc == 0 and n > 10, (rc, err[-500:]))
    time.sleep(0.2)
    srv.close()
    check("h11 accepted every request sockit wrote", not srv.errors, srv.errors)
    reqs = {r[1]: r for r in srv.requests}
    put = reqs.get("/stream-up")
    check("h11 saw the streamed request with its trailer", put is not None and
          put[4] == b"abcdef" and ("x-sum", "6") in put[5], put)
    post = reqs.get("/post")
    check("h11 saw the request with Content-Length", post is not None and post[4] == b"x" * 100000)
    cont = reqs.get("/continue")
    check("h11 saw the 100-continue request's body", cont is not None and cont[4] == b"after 100")
    old = reqs.get("/old")
    check("h11 saw an HTTP/1.0 request", old is not None and old[2] == "1.0", old)
    check("h11 saw the pipelined requests", all(("/pipe%d" % i) in reqs for i in range(3)))


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    keepalive_requests 1000;
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    types {{ text/plain txt; }}
    server {{
        listen 127.0.0.1:{port};
        root {work}/www;
        add_header X-Conn $connection always;
        add_header X-Conn-Requests $connection_requests always;
        location /gz/ {{
            gzip on;
            gzip_min_length 0;
            gzip_types text/plain;
            gzip_http_version 1.0;
            add_trailer X-Trailer done;
        }}
        location = /nocontent {{ return 204; }}
        location /proxy/ {{ proxy_pass http://127.0.0.1:{httpbin}/; proxy_http_version 1.1; }}
    }}
}}
"""


def client_peers(work):
    """sockit.http as a client against nginx, httpbin under gunicorn and the fault server."""
    env_file = os.path.join(work, "servers.env")
    launcher = subprocess.Popen([sys.executable, "tests/servers/launch.py", "--env-file", env_file,
                                 "--only", "http,fault", "--max-seconds", "600"], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    nginx = None
    try:
        end = time.monotonic() + 60
        while not os.path.exists(env_file) and time.monotonic() < end and launcher.poll() is None:
            time.sleep(0.1)
        if not check("httpbin and the fault server started", os.path.exists(env_file)):
            return
        env = dict(LUA_ENV)
        with open(env_file) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                env[k] = v.strip("'\"")
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        if os.path.exists(nginx_bin):
            nport = free_port()
            os.makedirs(os.path.join(work, "www", "gz"), exist_ok=True)
            os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
            with open(os.path.join(work, "www", "small.txt"), "w") as f:
                f.write("small file\n")
            with open(os.path.join(work, "www", "gz", "text.txt"), "w") as f:
                f.write("compressible text " * 1000)
            with open(os.path.join(work, "nginx.conf"), "w") as f:
                f.write(NGINX_CONF.format(work=work, port=nport, httpbin=env["SOCKIT_HTTPBIN_PORT"]))
            nginx = subprocess.Popen([nginx_bin, "-p", work, "-c", os.path.join(work, "nginx.conf"),
                                      "-e", os.path.join(work, "error.log")], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
            end = time.monotonic() + 20
            while time.monotonic() < end:
                try:
                    socket.create_connection(("127.0.0.1", nport), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            env["SOCKIT_NGINX_PORT"] = str(nport)
        else:
            check("nginx is installed", False, "scripts/install-deps.sh installs it")
        rc, out, err = run(["lua5.1", "tests/httpsock/client_peers.lua"], env=env, timeout=300)
        n = tap("sockit client vs real servers", out)
        check("client_peers.lua ran its checks", rc == 0 and n > 10, (rc, err[-800:]))
    finally:
        if nginx:
            stop_group(nginx)
        stop_group(launcher, grace=15)


def guarded(label, part):
    """Runs one group of checks; an exception (a peer that broke off) is one failure."""
    try:
        part()
    except Exception as e:
        check(label + " checks ran to their end", False, repr(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="server,client")
    ap.add_argument("--quick", action="store_true", help="a 16 MiB upload instead of 256 MiB")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    work = tempfile.mkdtemp(prefix="sockit-httpsock-")
    try:
        if "server" in parts:
            servers = [("C", [os.path.join(ROOT, "build/examples/http_server")], None),
                       ("Lua", ["lua5.1", "examples/http_server.lua"], LUA_ENV)]
            for label, argv, env in servers:
                p = Proc(argv, env=env)
                if p.port is None:
                    check(label + " server started", False, p.stop())
                    continue
                try:
                    for part in (lambda: server_h11(label, p.port),
                                 lambda: server_curl(label, p.port, work),
                                 lambda: server_python(label, p.port),
                                 lambda: server_load(label, p.port, work),
                                 lambda: server_smuggling(label, p.port),
                                 lambda: server_upload(label, p.port,
                                                       (16 if args.quick else 256) << 20)):
                        guarded(label, part)
                finally:
                    err = p.stop()
                    check(label + " server wrote no errors", err.strip() == "", err[-500:])
        if "client" in parts:
            guarded("client", client_h11)
            guarded("client", lambda: client_peers(work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

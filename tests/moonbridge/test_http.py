"""moonbridge_http under sockit-moonbridge, with real clients: Python requests, curl, wrk,
raw sockets for what clients do not do on purpose, and h11 checking responses strictly.

Run by scripts/test-moonbridge.sh (after `make lua51`).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import h11
import requests

sys.path.insert(0, os.path.dirname(__file__))
from mbtest import ROOT, Server, check, done, gone, wait_until, wanted  # noqa: E402

APP = os.path.join(ROOT, "tests", "moonbridge", "http_app.lua")
TMP = tempfile.mkdtemp(prefix="sockit-mb-http-")


def lines(text):
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def start(*args):
    srv = Server(APP, *args)
    return srv, "http://127.0.0.1:%d" % srv.port()


def finish(srv, name):
    rc, left = srv.stop()
    check(rc == 0, name + ": the server stops with status 0", "status %s\n%s" % (rc, srv.log()[-3000:]))
    check(not left, name + ": no worker is left", left)


def raw(port, data, read_all=True, timeout=20, shutdown=False):
    """Sends raw bytes, returns what came back until the server closed (or timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    if shutdown:
        s.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
            if not read_all:
                break
    except socket.timeout:
        got += b"<timeout>"
    except ConnectionResetError:
        got += b"<reset>"
    s.close()
    return got


def h11_responses(data, method=b"GET", count=1):
    """Parses `count` responses with h11 (strict); returns [(status, headers, body)]."""
    out = []
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    while len(out) < count:
        ev = conn.next_event()
        if isinstance(ev, h11.Response):
            status, headers, body = ev.status_code, dict((k.decode().lower(), v.decode()) for k, v in ev.headers), b""
        elif isinstance(ev, h11.Data):
            body += ev.data
        elif isinstance(ev, h11.EndOfMessage):
            out.append((status, headers, body))
            if len(out) < count:
                conn.start_next_cycle()
                conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
                conn.send(h11.EndOfMessage())
        elif ev is h11.NEED_DATA or isinstance(ev, h11.ConnectionClosed):
            break
    return out


def test_get_and_headers():
    srv, url = start("min_fork=2", "max_fork=4")
    r = requests.get(url + "/get", params=[("a", "1"), ("a", "2"), ("b", "x y"), ("c", "%&="), ("e", "")])
    d = lines(r.text)
    check(r.status_code == 200, "GET: 200")
    check(d.get("get.a") == "1" and d.get("getlist.a") == "1,2",
          "GET: repeated names: get_params has the first, get_params_list all", d)
    check(d.get("get.b") == "x y" and d.get("get.c") == "%25&%3D" and d.get("get.e") == "",
          "GET: spaces, escapes and empty values decoded", d)
    d = lines(requests.get(url + "/info/sub%20dir/x?y=1").text)
    check(d.get("path") == "info/sub dir/x" and d.get("query") == "?y%3D1",
          "path without slash and query, decoded; query with its question mark", d)
    d = lines(requests.get(url + "/info").text)
    check(d.get("query") == "", "no query: request.query is empty", d)
    # Header tables, sent with repeated lines through a raw request.
    port = srv.port()
    req = (b"GET /headers?name=x-list&flag=b HTTP/1.1\r\nHost: t\r\nX-List: a, b\r\nx-list: C\r\n"
           b"Connection: close\r\n\r\n")
    resp = h11_responses(raw(port, req))
    d = lines(resp[0][2].decode()) if resp else {}
    check(d.get("headers") == "a, b|C" and d.get("upper") == "a, b|C",
          "headers: one entry per line, case-insensitive", d)
    check(d.get("csv_string") == "a, b, C", "headers_csv_string merges the lines", d)
    check(d.get("csv_table") == "a|b|C", "headers_csv_table splits the values", d)
    check(d.get("value") == "false", "headers_value is false for a repeated header", d)
    check(d.get("flags") == "a:true,b:true,c:true" and d.get("flag_upper") == "true",
          "headers_flags: case-insensitive flags", d)
    check(d.get("missing") == "0,nil", "absent headers: empty sequence, nil value", d)
    d = lines(requests.get(url + "/headers", params={"name": "user-agent"},
                           headers={"User-Agent": "ua-1"}).text)
    check(d.get("value") == "ua-1" and d.get("csv_string") == "ua-1", "headers_value of a single header", d)
    # Cookies.
    d = lines(requests.get(url + "/cookies", cookies={"a": "1", "b": "x%20y"}).text)
    check(d.get("cookie.a") == "1" and d.get("cookie.b") == "x y", "request.cookies", d)
    d = lines(requests.get(url + "/cookies", headers={"Cookie": 'c=3; d="q"'}).text)
    check(d.get("cookie.c") == "3" and d.get("cookie.d") == "q", "cookies: quoted values", d)
    finish(srv, "GET")


def test_posts():
    srv, url = start("min_fork=2", "max_fork=4")
    r = requests.post(url + "/post", data=[("a", "1"), ("a", "2"), ("s", "x+y z&")])
    d = lines(r.text)
    check(d.get("post.a") == "1" and d.get("postlist.a") == "1,2" and d.get("post.s") == "x+y z&",
          "urlencoded POST: fields, repeated names, decoding", d)
    check(d.get("meta") == "nil", "urlencoded POST: no post_metadata", d)
    files = [("file", ("a.txt", b"first file\n", "text/plain")),
             ("file", ("b.bin", bytes(range(256)), "application/octet-stream")),
             ("empty", ("nothing.txt", b"", "text/plain"))]
    r = requests.post(url + "/post", data={"title": "several"}, files=files)
    d = lines(r.text)
    check(d.get("post.title") == "several", "multipart POST: a plain field", d)
    check(d.get("post.file") == "first file%0A" and len(d.get("postlist.file", "").split(",")) == 2,
          "multipart POST: the same field name twice", d)
    check(d.get("post.empty") == "", "multipart POST: an empty file", d)
    check(d.get("meta.file") == "{file_name:a.txt,content_type:text/plain}"
          or d.get("meta.file", "").startswith("{"), "multipart POST: post_metadata", d)
    check(d.get("metalist.file") == "{a.txt|text/plain},{b.bin|application/octet-stream}",
          "multipart POST: post_metadata_list has both files", d)
    check(d.get("metalist.empty") == "{nothing.txt|text/plain}", "multipart POST: the empty file's metadata", d)
    # A GET's post tables are empty.
    d = lines(requests.get(url + "/post").text)
    check(not any(k.startswith("post.") for k in d) and d.get("meta") == "nil",
          "no body: empty post_params, no post_metadata", d)
    # request.body, and streaming the raw body.
    payload = os.urandom(200000)
    r = requests.post(url + "/body", data=payload, headers={"Content-Type": "application/octet-stream"})
    check(r.content == payload, "request.body: the whole body", len(r.content))
    r = requests.post(url + "/stream", data=payload)
    d = lines(r.text)
    check(d.get("size") == str(len(payload)) and int(d.get("biggest", "0")) <= 16384,
          "stream_request_body: every byte, in chunks of at most maximum_input_chunk_size", d)
    r = requests.post(url + "/discard", data=b"x" * 50000)
    check(lines(r.text).get("discarded") == "1", "stream_request_body(nil) discards (twice is fine)")
    finish(srv, "POST")


def test_streaming_uploads():
    """Chunked request bodies, 100-continue, and a 1 GiB multipart upload through
    stream_post_param whose worker's peak RSS stays bounded."""
    srv, url = start("min_fork=1", "max_fork=2", "http.request_body_size_limit=2000000000")

    def gen():
        for i in range(100):
            yield bytes([i % 256]) * 10000

    r = requests.post(url + "/stream", data=gen())  # no length: chunked
    d = lines(r.text)
    check(d.get("size") == "1000000", "chunked upload: the whole body arrives", d)
    # 100-continue with curl (it waits for the 100 before sending the body).
    big = os.path.join(TMP, "onemeg")
    with open(big, "wb") as f:
        f.write(os.urandom(1 << 20))
    p = subprocess.run(["curl", "-sS", "-v", "-H", "Expect: 100-continue", "--data-binary", "@" + big,
                        "-H", "Content-Type: application/octet-stream", url + "/stream"],
                       capture_output=True, text=True, timeout=60)
    check("HTTP/1.1 100 Continue" in p.stderr and "size=1048576" in p.stdout,
          "100-continue: the server says 100 Continue, then reads the body", p.stderr[-600:])
    # 100-continue by hand: nothing is read (and no 100 sent) before the handler wants it.
    s = socket.create_connection(("127.0.0.1", srv.port()), timeout=20)
    s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(100)
    check(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), "100-continue by hand: 100 first", first)
    s.sendall(b"hello")
    rest = b""
    while b"size=" not in rest:
        b = s.recv(4096)
        if not b:
            break
        rest += b
    check(b"size=5" in rest, "100-continue by hand: then the final response", rest)
    s.close()
    # A handler that answers without reading a body it was asked to wait for (reading
    # deferred): no 100, and the connection closes after the answer.
    got = raw(srv.port(), b"POST /defer HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    check(b"100 Continue" not in got and b"early answer" in got and b"Connection: close" in got,
          "100-continue not needed: no 100, answer, close", got[:300])

    # 1 GiB multipart upload of a sparse file through curl -F.
    gig = os.path.join(TMP, "gig")
    with open(gig, "wb") as f:
        f.truncate(1 << 30)
    t0 = time.time()
    p = subprocess.run(["curl", "-sS", "-F", "title=big", "-F", "file=@%s;type=application/x-zero" % gig,
                        url + "/upload"], capture_output=True, text=True, timeout=600)
    took = time.time() - t0
    d = lines(p.stdout)
    f1 = d.get("file1", "").split("|")
    check(len(f1) == 6 and f1[0] == "gig" and f1[1] == "application/x-zero" and f1[2] == "true"
          and f1[3] == str(1 << 30), "1 GiB multipart upload streamed through stream_post_param", p.stdout + p.stderr)
    check(d.get("post.title") == "big", "1 GiB upload: the other field lands in post_params", d)
    rss = int(d.get("peak_rss_kib", "-1"))
    check(0 < rss < 32 * 1024, "1 GiB upload: worker peak RSS %.1f MiB (< 32 MiB)" % (rss / 1024.0), d)
    print("# 1 GiB multipart upload took %.1f s, worker peak RSS %.1f MiB" % (took, rss / 1024.0))
    os.unlink(gig)
    finish(srv, "uploads")


def test_responses():
    srv, url = start("min_fork=2", "max_fork=4")
    port = srv.port()
    r = requests.head(url + "/head")
    check(r.status_code == 200 and r.content == b"" and r.headers.get("X-Method") == "HEAD",
          "HEAD: headers, no body", r.headers)
    got = raw(port, b"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(got.count(b"HTTP/1.1 200 OK") == 2 and b"not sent for HEAD" not in got and b"Hello, World!" in got,
          "HEAD: send_data is ignored and the connection goes on", got)
    # Keep-alive: one connection, several requests, same worker.
    with requests.Session() as s:
        a = lines(s.get(url + "/info").text)
        b = lines(s.get(url + "/info").text)
        c = lines(s.post(url + "/post", data={"k": "v"}).text)
        e = lines(s.get(url + "/info").text)
    check(a.get("port") == b.get("port") == e.get("port") and a.get("pid") == b.get("pid"),
          "keep-alive: requests share the connection and the worker", (a, b, e))
    check(c.get("post.k") == "v", "keep-alive: a POST in between", c)
    resp = h11_responses(raw(port, b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * 3 +
                              b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), count=4)
    check(len(resp) == 4 and all(x[0] == 200 and x[2] == b"Hello, World!\n" for x in resp),
          "pipelined keep-alive requests, checked by h11", resp)
    check(resp and resp[0][1].get("content-length") == "14", "a short body has a Content-Length", resp[:1])
    # HTTP/1.0: closes unless keep-alive is asked for.
    got = raw(port, b"GET /hello HTTP/1.0\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in got and got.endswith(b"Hello, World!\n"),
          "HTTP/1.0 without keep-alive: answered and closed", got)
    got = raw(port, b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n")
    check(got.count(b"Hello, World!") == 2 and b"Connection: keep-alive" in got,
          "HTTP/1.0 with keep-alive", got)
    # Chunked responses (flushed pieces), and long bodies.
    r = requests.get(url + "/chunks")
    check(r.headers.get("Transfer-Encoding") == "chunked" and r.text == "".join("piece %d\n" % i for i in range(1, 6)),
          "flushed pieces go out chunked", r.headers)
    resp = h11_responses(raw(port, b"GET /chunks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    check(resp and resp[0][2].count(b"piece") == 5, "chunked response is valid for h11", resp)
    r = requests.get(url + "/big", params={"n": 1000000})
    check(len(r.content) == 1000000, "a 1 MB response", len(r.content))
    r = requests.get(url + "/length")
    check(r.text == "12345" and r.headers.get("Content-Length") == "5", "a Content-Length the handler set")
    r = requests.get(url + "/nocontent")
    check(r.status_code == 204 and "Content-Length" not in r.headers, "204: no body", r.headers)
    # close_after_finish.
    got = raw(port, b"GET /close HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    check(b"closing=1" in got and b"Connection: close" in got and b"Hello" not in got,
          "close_after_finish: Connection: close, the connection ends", got)
    # defer_reading: the answer comes before the body is read; the body is read past.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"POST /defer HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
    first = s.recv(4096)
    s.sendall(b"0123456789GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    rest = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        rest += b
    s.close()
    check(b"early answer" in first, "defer_reading: the response comes before the body was sent", first)
    check(b"Hello, World!" in rest, "defer_reading: the body is read past, the connection goes on", rest)
    # Header injection is refused.
    r = requests.get(url + "/badheader")
    check(r.headers.get("X-Checked") == "refused" and "Injected" not in r.headers,
          "send_header refuses CR/LF in values", (r.headers, r.text))
    d = lines(requests.get(url + "/order").text)
    check(d == {"header_before_status": "false", "data_before_status": "false", "status_twice": "false",
                "header_after_finish_headers": "false"}, "call order is enforced", d)
    finish(srv, "responses")


def test_limits_and_bad_input():
    events = os.path.join(TMP, "events-limits")
    srv, url = start("min_fork=2", "max_fork=4", "events=" + events,
                     "http.request_body_size_limit=1000", "http.request_header_size_limit=2000",
                     "http.request_header_timeout=1", "http.idle_timeout=3")
    port = srv.port()

    def handled(path):
        return os.path.exists(events) and (" " + path) in open(events).read()

    r = requests.post(url + "/post413", data=b"x" * 1001)
    check(r.status_code == 413, "413 for a body over request_body_size_limit", r.status_code)
    check(not handled("post413"), "413: the handler is not called")
    r = requests.get(url + "/big431", headers={"X-Big": "y" * 3000})
    check(r.status_code == 431, "431 for a head over request_header_size_limit", r.status_code)
    check(not handled("big431"), "431: the handler is not called")
    r = requests.post(url + "/stream", data=(b"z" * 600 for _ in range(3)))
    check(r.status_code == 413, "413 for a chunked body that grows over the limit", r.status_code)
    r = requests.post(url + "/stream", data=b"x" * 1000)
    check(r.status_code == 200, "a body at the limit is fine")
    flood = b"GET /hello HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(2000)) + b"\r\n"
    got = raw(port, flood)
    check(got.startswith(b"HTTP/1.1 431"), "header flood: 431", got[:100])
    got = raw(port, b"GARBAGE\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400"), "garbage request line: 400", got[:100])
    got = raw(port, b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc")
    check(got.startswith(b"HTTP/1.1 400"), "conflicting Content-Length: 400", got[:100])
    got = raw(port, b"GET /hello HTTP/1.1\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400"), "HTTP/1.1 without Host: 400", got[:100])
    got = raw(port, b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400"), "Content-Length with Transfer-Encoding (smuggling): 400", got[:100])
    got = raw(port, b"GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400") or got.startswith(b"HTTP/1.1 501"), "unknown transfer coding refused", got[:100])
    got = raw(port, b"POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    check(got.startswith(b"HTTP/1.1 400"), "malformed chunk size: 400", got[:100])
    # Slow loris: a head that never completes is cut at request_header_timeout.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    try:
        while True:
            time.sleep(0.2)
            s.sendall(b"X: y\r\n")
            if time.time() - t0 > 10:
                break
    except OSError:
        pass
    took = time.time() - t0
    s.close()
    check(took < 8, "slow-loris: the connection is dropped after request_header_timeout (%.1f s)" % took)
    # A client that resets in the middle of a body.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n" + b"a" * 300)
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    # An idle connection is closed after idle_timeout.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    t0 = time.time()
    got = s.recv(10)
    took = time.time() - t0
    s.close()
    check(got == b"" and 2 < took < 10, "idle_timeout closes a connection without a request (%.1f s)" % took)
    r = requests.get(url + "/hello")
    check(r.status_code == 200, "after bad clients the server still serves")
    finish(srv, "limits")


def test_workers():
    srv, url = start("min_fork=1", "max_fork=3", "fork_delay=0.01")
    a = lines(requests.get(url + "/recycle").text).get("pid")
    check(a and wait_until(lambda: gone(int(a)), 20), "a request handler returning false ends its worker")
    b = lines(requests.get(url + "/info").text).get("pid")
    check(b and b != a, "the next request has another worker", (a, b))
    srv.remember(int(a or 0))
    srv.remember(int(b or 0))
    c = lines(requests.get(url + "/info").text).get("pid")
    r = requests.get(url + "/fail")
    check(r.status_code == 500, "a failing handler gives 500", r.status_code)
    check(wait_until(lambda: "the handler failed on purpose" in srv.log(), 10), "the error is logged")
    r = requests.get(url + "/noresponse")
    check(r.status_code == 500, "a handler that sends nothing gives 500", r.status_code)
    d = requests.get(url + "/info")
    check(d.status_code == 200, "the server goes on after failing handlers")
    srv.remember(int(c or 0))
    srv.remember(int(lines(d.text).get("pid") or 0))
    finish(srv, "workers")


def test_wrk():
    srv, url = start("min_fork=4", "max_fork=4", "pre_fork=0")
    p = subprocess.run(["wrk", "-t2", "-c4", "-d2s", url + "/hello"], capture_output=True, text=True, timeout=60)
    import re
    m = re.search(r"(\d+) requests in", p.stdout)
    n = int(m.group(1)) if m else 0
    check(n > 100 and "Non-2xx" not in p.stdout and "Socket errors" not in p.stdout,
          "wrk: %d keep-alive requests, all 2xx, no socket errors" % n, p.stdout)
    finish(srv, "wrk")


def test_ipv6():
    srv = Server(APP, "host=::1", "min_fork=1", "max_fork=2")
    r = requests.get("http://[::1]:%d/hello" % srv.port())
    check(r.text == "Hello, World!\n", "moonbridge_http over IPv6")
    finish(srv, "ipv6")


TESTS = [test_get_and_headers, test_posts, test_streaming_uploads, test_responses,
         test_limits_and_bad_input, test_workers, test_wrk, test_ipv6]

if __name__ == "__main__":
    for t in TESTS:
        if not wanted(t.__name__):
            continue
        try:
            t()
        except Exception as e:
            import traceback
            traceback.print_exc()
            check(False, t.__name__ + " raised " + repr(e))
    sys.exit(done("moonbridge-http"))

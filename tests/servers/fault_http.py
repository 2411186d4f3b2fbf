"""A small HTTP/1.1 server that misbehaves on purpose, for the protocol tests.

It listens on 127.0.0.1 and picks its behaviour from the request path:

  /echo               200, the body is the raw request (head + body, as received); keep-alive
  /stall              reads the request, then sends nothing
  /stall-body         head with Content-Length: 100, 10 bytes of body, then nothing
  /reset-mid-body     head with Content-Length: 100000, 50000 bytes of pattern
                      (b"0123456789" repeated), a short pause, then a TCP reset
  /truncated          head with Content-Length: 1000, 100 bytes of pattern, then a clean close
  /big-headers        status line then 10 MB of header lines (a header-size limit must stop it)
  /many-headers       status line then 5000 small headers (a header-count limit must stop it)
  /bad-chunk          chunked body whose first size line is "zz"
  /chunk-overflow     chunked body whose first size is ffffffffffffffffffffffff
  /chunk-truncated    chunked body cut inside a chunk, then a clean close
  /trailers           chunked body "hello world" with trailers X-Trailer-One, X-Trailer-Two
  /garbage-status     "HTTP/1.1 abc Bogus" status line
  /not-http           a line that is not an HTTP status line, then close
  /close-delimited    200 with neither Content-Length nor chunked: body until close
  /http10             HTTP/1.0 200 without length, body until close
  /interim            103 Early Hints and 102 Processing before the final 200 "final"
  /loop               302 to /loop
  /loop-a, /loop-b    302 to each other
  /stale              200 "stale" promising keep-alive, then closes the connection anyway
  /expect-417         417 Expectation Failed without reading the body (then close)
  /stats?tag=T        JSON {"connections": k, "requests": n} for requests tagged T
                      (header X-Sockit-Tag: T)

Requests with "Expect: 100-continue" get "100 Continue" before their body is read (except
/expect-417). Every wait is bounded: sockets time out after 30 s and stalls end after at
most 60 s or when the server stops.
"""

import json
import socket
import struct
import threading
import time

PATTERN = b"0123456789"
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
MAX_REQUESTS_PER_CONN = 10000
STALL_LIMIT = 60.0


class _Closed(Exception):
    pass


class _Conn:
    """A client connection with a small read buffer."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise _Closed()
        self.buf += data

    def read_until(self, marker, limit):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise _Closed()
            self.fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _pattern(n):
    reps = n // len(PATTERN) + 1
    return (PATTERN * reps)[:n]


class FaultServer:
    def __init__(self, host="127.0.0.1"):
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.stats = {}  # tag -> {"conns": set(conn ids), "requests": n}
        self.next_conn_id = 0
        self.thread = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self):
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        if self.thread:
            self.thread.join(5)
        self.sock.close()

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                client, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.next_conn_id += 1
                conn_id = self.next_conn_id
            threading.Thread(
                target=self._serve, args=(client, conn_id), daemon=True
            ).start()

    # -- one connection ----------------------------------------------------------------
    def _serve(self, client, conn_id):
        client.settimeout(30)
        conn = _Conn(client)
        try:
            for _ in range(MAX_REQUESTS_PER_CONN):
                if not self._one_request(conn, conn_id):
                    break
        except (_Closed, OSError):
            pass
        finally:
            try:
                client.close()
            except OSError:
                pass

    def _one_request(self, conn, conn_id):
        """Serves one request; returns whether the connection stays open."""
        head = conn.read_until(b"\r\n\r\n", MAX_HEAD)
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3:
            self._send(conn, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        method, target, _version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        path, _, query = target.partition(b"?")
        path = path.decode("latin-1")
        query = query.decode("latin-1")

        tag = headers.get(b"x-sockit-tag")
        if tag is not None:
            with self.lock:
                entry = self.stats.setdefault(
                    tag.decode("latin-1"), {"conns": set(), "requests": 0}
                )
                entry["conns"].add(conn_id)
                entry["requests"] += 1

        if path == "/expect-417":
            self._send(
                conn,
                b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n",
            )
            return False
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(conn, headers)
        keep = headers.get(b"connection", b"").lower() != b"close"
        handler = getattr(self, "_route_" + path.strip("/").replace("-", "_"), None)
        if handler is None:
            self._respond(conn, b"404 Not Found", b"no such fault\n", keep)
            return keep
        return handler(conn, head + body, query, keep, method)

    def _read_body(self, conn, headers):
        if b"content-length" in headers:
            n = int(headers[b"content-length"])
            if n > MAX_BODY:
                raise _Closed()
            return conn.read_exact(n)
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            raw = b""
            while True:
                size_line = conn.read_until(b"\r\n", MAX_HEAD)
                raw += size_line
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        line = conn.read_until(b"\r\n", MAX_HEAD)
                        raw += line
                        if line == b"\r\n":
                            return raw
                if len(raw) + size > MAX_BODY:
                    raise _Closed()
                raw += conn.read_exact(size + 2)
        return b""

    # -- helpers ------------------------------------------------------------------------
    def _send(self, conn, data):
        conn.sock.sendall(data)

    def _respond(self, conn, status, body, keep, extra=b""):
        head = b"HTTP/1.1 " + status + b"\r\nContent-Length: " + str(len(body)).encode()
        head += b"\r\n" + extra
        if not keep:
            head += b"Connection: close\r\n"
        self._send(conn, head + b"\r\n" + body)
        return keep

    def _stall(self, conn):
        """Waits, bounded, until the client goes away or the server stops."""
        deadline = time.monotonic() + STALL_LIMIT
        conn.sock.settimeout(0.2)
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            try:
                if not conn.sock.recv(65536):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        return False

    # -- routes -----------------------------------------------------------------------
    def _route_echo(self, conn, raw, query, keep, method):
        return self._respond(
            conn, b"200 OK", raw, keep, b"Content-Type: application/octet-stream\r\n"
        )

    def _route_stall(self, conn, raw, query, keep, method):
        return self._stall(conn)

    def _route_stall_body(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + _pattern(10))
        return self._stall(conn)

    def _route_reset_mid_body(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        self._send(conn, _pattern(50000))
        time.sleep(0.3)
        conn.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        return False

    def _route_truncated(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + _pattern(100))
        return False

    def _route_big_headers(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\n")
        line = b"X-Filler: " + b"a" * 88 + b"\r\n"  # 100 bytes
        block = line * 1000  # 100 KB
        for _ in range(100):  # 10 MB
            self._send(conn, block)
        self._send(conn, b"Content-Length: 0\r\n\r\n")
        return False

    def _route_many_headers(self, conn, raw, query, keep, method):
        head = b"HTTP/1.1 200 OK\r\n"
        head += b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
        self._send(conn, head + b"Content-Length: 0\r\n\r\n")
        return False

    def _route_bad_chunk(self, conn, raw, query, keep, method):
        self._send(
            conn,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nhello\r\n0\r\n\r\n",
        )
        return False

    def _route_chunk_overflow(self, conn, raw, query, keep, method):
        self._send(
            conn,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\nffffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        )
        return False

    def _route_chunk_truncated(self, conn, raw, query, keep, method):
        self._send(
            conn,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n10\r\nabc",
        )
        return False

    def _route_trailers(self, conn, raw, query, keep, method):
        self._send(
            conn,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer-One\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
            b"X-Trailer-One: one\r\nX-Trailer-Two: two\r\n\r\n",
        )
        return keep

    def _route_garbage_status(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 abc Bogus\r\nContent-Length: 0\r\n\r\n")
        return False

    def _route_not_http(self, conn, raw, query, keep, method):
        self._send(conn, b"SSH-2.0-OpenSSH_9.0\r\n")
        return False

    def _route_close_delimited(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + _pattern(12345))
        return False

    def _route_http10(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.0 200 OK\r\n\r\n" + _pattern(777))
        return False

    def _route_interim(self, conn, raw, query, keep, method):
        self._send(
            conn,
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 102 Processing\r\n\r\n",
        )
        return self._respond(conn, b"200 OK", b"final", keep)

    def _route_loop(self, conn, raw, query, keep, method):
        return self._respond(conn, b"302 Found", b"", keep, b"Location: /loop\r\n")

    def _route_loop_a(self, conn, raw, query, keep, method):
        return self._respond(conn, b"302 Found", b"", keep, b"Location: /loop-b\r\n")

    def _route_loop_b(self, conn, raw, query, keep, method):
        return self._respond(conn, b"302 Found", b"", keep, b"Location: /loop-a\r\n")

    def _route_stale(self, conn, raw, query, keep, method):
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
        return False

    def _route_stats(self, conn, raw, query, keep, method):
        tag = ""
        for part in query.split("&"):
            if part.startswith("tag="):
                tag = part[4:]
        with self.lock:
            entry = self.stats.get(tag, {"conns": set(), "requests": 0})
            body = json.dumps(
                {"tag": tag, "connections": len(entry["conns"]), "requests": entry["requests"]}
            ).encode()
        return self._respond(
            conn, b"200 OK", body, keep, b"Content-Type: application/json\r\n"
        )

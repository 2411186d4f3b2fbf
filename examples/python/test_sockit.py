"""Tests of sockit from Python through ctypes (run by scripts/test-python.sh).

Each test_* function asserts; the last line printed is "python: N passed, M failed" and
the exit status is 1 when anything failed. Only loopback is used; every wait is bounded.

    SOCKIT_LIBDIR=build/lib python3 examples/python/test_sockit.py [name-filter]
"""

import os
import re
import socket
import socketserver
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import echo  # noqa: E402
import sockit  # noqa: E402

WAIT = 5.0  # upper bound of every wait in these tests


def free_port():
    """A port nobody listens on (was free a moment ago)."""
    with sockit.bind("127.0.0.1", 0) as s:
        return s.getsockname()[1]


class SockitServer:
    """A sockit listener on loopback whose accepted connection a handler runs in a thread."""

    def __init__(self, handler):
        self.listener = sockit.bind("127.0.0.1", 0)
        self.listener.settimeout(WAIT)
        self.port = self.listener.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(handler,))
        self.thread.start()

    def _run(self, handler):
        try:
            with self.listener.accept() as conn:
                conn.settimeout(WAIT)
                handler(conn)
        except Exception as e:  # reported by join()
            self.error = e

    def join(self):
        self.thread.join(2 * WAIT)
        assert not self.thread.is_alive(), "server thread still running"
        self.listener.free()
        if self.error:
            raise self.error


def echo_lines(conn):
    try:
        while True:
            conn.send(conn.receive_line() + b"\n")
    except sockit.Closed:
        pass


def test_version_and_status_strings():
    assert re.fullmatch(r"\d+\.\d+\.\d+", sockit.version()), sockit.version()
    assert sockit.status_str(sockit.OK) == "ok"
    assert sockit.status_str(sockit.TIMEOUT) == "timeout"
    assert sockit.status_str(sockit.CLOSED) == "closed"
    assert sockit.status_str(sockit.REFUSED) == "connection refused"
    assert sockit.status_str(sockit.INVALID) == "invalid argument"
    assert sockit.status_str(12345) == "unknown status"


def test_echo_example():
    lines = [b"one", b"two with spaces", b"", b"x" * 10000]
    assert echo.echo(lines, log=lambda *a: None) == lines


def test_echo_sockit_both_sides_binary():
    blob = bytes(range(256)) * 4096  # 1 MiB, NULs included

    def handler(conn):
        n = int(conn.receive_line())
        conn.send(conn.receive(n))

    srv = SockitServer(handler)
    with sockit.connect("127.0.0.1", srv.port, timeout=WAIT) as c:
        c.settimeout(WAIT)
        assert c.send(b"%d\r\n" % len(blob)) == len(str(len(blob))) + 2
        # The server reads it all before it answers, so one thread does.
        assert c.send(blob) == len(blob)
        got = c.receive(len(blob))
    srv.join()
    assert got == blob


def test_crlf_and_prefix():
    srv = SockitServer(lambda conn: conn.send(b"first\r\nsec\rond\n" + b"tail"))
    with sockit.connect("127.0.0.1", srv.port, timeout=WAIT) as c:
        c.settimeout(WAIT)
        assert c.receive_line() == b"first"
        assert c.receive_line(prefix=b">") == b">second"
        assert c.receive_all() == b"tail"
    srv.join()


def test_sockit_client_python_server():
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(line.upper())

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        t.start()
        try:
            with sockit.connect("127.0.0.1", server.server_address[1], timeout=WAIT) as c:
                c.settimeout(WAIT)
                for line in (b"abc", b"sockit from python", b"\x00nul\x00"):
                    c.send(line + b"\n")
                    assert c.receive_line() == line.upper()
                addr, port, fam = c.getpeername()
                assert (addr, port, fam) == ("127.0.0.1", server.server_address[1], "inet")
        finally:
            server.shutdown()
            t.join(WAIT)


def test_python_client_sockit_server():
    srv = SockitServer(echo_lines)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as c:
        f = c.makefile("rwb")
        for line in (b"hello", b"world"):
            f.write(line + b"\r\n")
            f.flush()
            assert f.readline() == line + b"\n"  # the line pattern drops CRs
        f.close()
    srv.join()


def test_timeout_delivers_partial_data():
    gate = threading.Event()

    def handler(conn):
        conn.send(b"no newline")
        gate.wait(WAIT)
        conn.send(b" yet\n")

    srv = SockitServer(handler)
    with sockit.connect("127.0.0.1", srv.port, timeout=WAIT) as c:
        c.settimeout(0.2)
        t0 = time.monotonic()
        try:
            c.receive_line()
            raise AssertionError("receive_line should time out")
        except sockit.Timeout as e:
            elapsed = time.monotonic() - t0
            assert e.partial == b"no newline", e.partial
            assert e.status == sockit.TIMEOUT and e.name == "timeout"
            assert 0.15 <= elapsed < 2.0, elapsed
        gate.set()
        c.settimeout(WAIT)
        assert c.receive_line() == b" yet"
    srv.join()


def test_closed_delivers_partial_data():
    srv = SockitServer(lambda conn: conn.send(b"line\nunfinished"))
    with sockit.connect("127.0.0.1", srv.port, timeout=WAIT) as c:
        c.settimeout(WAIT)
        assert c.receive_line() == b"line"
        try:
            c.receive(100)
            raise AssertionError("receive should report closed")
        except sockit.Closed as e:
            assert e.partial == b"unfinished", e.partial
            assert e.name == "closed"
    srv.join()


def test_connect_refused():
    port = free_port()
    try:
        sockit.connect("127.0.0.1", port, timeout=WAIT)
        raise AssertionError("connect should be refused")
    except sockit.Error as e:
        assert e.status == sockit.REFUSED, e
        assert e.name == "connection refused"
        assert str(port) in e.message and "refused" in e.message, e.message
        assert sockit.last_error() == e.message


def test_bad_arguments():
    # Each is refused before any lookup or connection is tried.
    for host, port in (("127.0.0.1", 70000), ("127.0.0.1", -1), ("", 80)):
        try:
            sockit.connect(host, port, timeout=1)
            raise AssertionError(f"connect {host!r}:{port} should fail")
        except sockit.Error as e:
            assert e.status == sockit.INVALID, e
            assert e.message, "the message says what is wrong"
    try:
        sockit.bind("127.0.0.1", 1 << 20)
        raise AssertionError("bind to port 2^20 should fail")
    except sockit.Error as e:
        assert e.status == sockit.INVALID, e


def test_closed_and_freed_handles():
    srv = SockitServer(echo_lines)
    c = sockit.connect("127.0.0.1", srv.port, timeout=WAIT)
    assert c.fileno() >= 0
    c.close()
    c.close()  # idempotent
    assert c.fileno() == -1
    try:
        c.send(b"x\n")
        raise AssertionError("send on a closed socket should fail")
    except sockit.Closed:
        pass
    c.free()
    c.free()  # the wrapper keeps this harmless
    try:
        c.receive_line()  # a NULL handle: SOCKIT_INVALID, not a crash
        raise AssertionError("receive on a freed socket should fail")
    except sockit.Error as e:
        assert e.status == sockit.INVALID, e
    srv.join()


def test_select():
    srv = SockitServer(echo_lines)
    with sockit.connect("127.0.0.1", srv.port, timeout=WAIT) as c:
        c.settimeout(WAIT)
        assert sockit.select([c], timeout=0) == ([], [])
        r, w = sockit.select([c], [c], timeout=WAIT)
        assert r == [] and w == [c]
        c.send(b"ping\n")
        r, _ = sockit.select([c], timeout=WAIT)
        assert r == [c]
        t0 = time.monotonic()
        assert c.receive_line() == b"ping"
        assert sockit.select([c], timeout=0.1) == ([], [])
        assert time.monotonic() - t0 >= 0.08
    srv.join()


def test_many_connections():
    """50 sequential connect/echo/close rounds against one sockit server thread."""
    listener = sockit.bind("127.0.0.1", 0)
    listener.settimeout(WAIT)
    port = listener.getsockname()[1]
    rounds = 50

    def serve():
        for _ in range(rounds):
            with listener.accept() as conn:
                conn.settimeout(WAIT)
                echo_lines(conn)

    t = threading.Thread(target=serve)
    t.start()
    for i in range(rounds):
        with sockit.connect("127.0.0.1", port, timeout=WAIT) as c:
            c.settimeout(WAIT)
            c.send(b"round %d\n" % i)
            assert c.receive_line() == b"round %d" % i
    t.join(2 * WAIT)
    assert not t.is_alive()
    listener.free()


def main(argv):
    wanted = argv[0] if argv else ""
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f) and wanted in n]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"  ok    {name} ({time.monotonic() - t0:.2f}s)")
        except Exception:
            failed += 1
            print(f"  FAIL  {name}")
            print("".join("      " + l for l in traceback.format_exc().splitlines(True)))
    print(f"python: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

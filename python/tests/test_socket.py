"""Stream, UDP and Unix sockets: LuaSocket receive patterns, timeouts, partial data,
Moonbridge's buffered and non-blocking calls, addresses and options."""

import socket
import threading
import time

import pytest

import sockit
from conftest import WAIT


def test_with_block_closes_and_echo_with_python_peer(peer):
    def echo(conn):
        f = conn.makefile("rb")
        for line in f:
            conn.sendall(line)

    p = peer(echo)
    with sockit.connect("127.0.0.1", p.port, timeout=WAIT) as s:
        s.settimeout(WAIT)
        assert s.state == "client"
        assert s.send(b"hello\n") == 6
        assert s.receive_line() == b"hello"
        s.send(b"a\r\nb\n")
        assert s.receive_line() == b"a"
        assert s.receive_line() == b"b"
    assert s.state == "closed"


def test_sockit_on_both_sides():
    srv = sockit.bind("127.0.0.1", 0)
    srv.settimeout(WAIT)
    port = srv.getsockname()[1]
    result = {}

    def serve():
        with srv.accept() as c:
            c.settimeout(WAIT)
            result["peer"] = c.getpeername()
            for line in c:
                c.send(line[::-1] + b"\n")

    t = threading.Thread(target=serve)
    t.start()
    with sockit.connect("127.0.0.1", port, timeout=WAIT) as s:
        s.settimeout(WAIT)
        for word in (b"abc", b"hello world", b""):
            s.send(word + b"\n")
            assert s.receive_line() == word[::-1]
        local = s.getsockname()
    t.join(WAIT)
    srv.close()
    assert result["peer"] == local


def test_receive_patterns(pair):
    s, py = pair
    py.sendall(b"line one\r\nx\r\ry\n12345" + b"rest of it")
    py.shutdown(socket.SHUT_WR)
    assert s.receive_line() == b"line one"
    assert s.receive_line() == b"xy"  # LuaSocket 2/3 drops every CR
    assert s.receive(5) == b"12345"
    assert s.receive(4, prefix=b">") == b">rest"
    assert s.receive_all() == b" of it"
    assert s.receive_all() == b""  # "*a" at the end is not an error
    with pytest.raises(sockit.Closed):
        s.receive_line()


def test_receive_lua_pattern_strings(pair):
    s, py = pair
    py.sendall(b"  word1 word2\nraw\r\nall")
    py.shutdown(socket.SHUT_WR)
    assert s.receive("*w") == b"word1"
    assert s.receive("*l") == b" word2"
    assert s.receive("*lu") == b"raw\r"
    assert s.receive("*a") == b"all"
    with pytest.raises(ValueError):
        s.receive("*x")


def test_partial_data_on_timeout_and_close(pair):
    s, py = pair
    s.settimeout(0.2)
    py.sendall(b"incomplete")
    with pytest.raises(sockit.Timeout) as ei:
        s.receive_line()
    assert ei.value.partial == b"incomplete"
    assert isinstance(ei.value, TimeoutError)
    py.sendall(b"abc")
    with pytest.raises(sockit.Timeout) as ei:
        s.receive(10)
    assert ei.value.partial == b"abc"
    py.sendall(b"tail")
    py.close()
    s.settimeout(WAIT)
    with pytest.raises(sockit.Closed) as ei:
        s.receive(100)
    assert ei.value.partial == b"tail"


def test_total_timeout_bounds_the_whole_call(pair):
    s, py = pair
    s.settimeout(None)
    s.settimeout(0.3, "t")
    assert s.gettimeouts() == (None, pytest.approx(0.3))
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            try:
                py.sendall(b"x")
            except OSError:
                return
            time.sleep(0.05)

    t = threading.Thread(target=trickle)
    t.start()
    t0 = time.monotonic()
    with pytest.raises(sockit.Timeout) as ei:
        s.receive(10**6)
    stop.set()
    t.join()
    # The block timeout alone would never fire (bytes keep coming): the total one did.
    assert time.monotonic() - t0 < WAIT
    assert len(ei.value.partial) < 100


def test_line_lookahead_is_settled_before_other_reads(pair):
    s, py = pair
    lines = [b"L%04d" % i for i in range(2000)]
    py.sendall(b"\n".join(lines) + b"\nTAIL-BYTES")
    got = [s.receive_line() for _ in range(1000)]
    assert got == lines[:1000]
    # Another pattern sees exactly what receive_line did not hand out.
    assert s.receive(6) == b"L1000\n"
    assert s.getstats()[0] == sum(len(x) + 1 for x in lines[:1001])
    got = [s.receive_line() for _ in range(999)]
    assert got == lines[1001:]
    assert s.dirty()
    assert s.read(4) == (b"TAIL", "maxlen")
    s.settimeout(0.1)
    with pytest.raises(sockit.Timeout) as ei:
        s.receive_line()
    assert ei.value.partial == b"-BYTES"
    assert not s.dirty()


def test_lines_iteration(pair):
    s, py = pair
    py.sendall(b"a\nb\nc")
    py.close()
    assert list(s) == [b"a", b"b", b"c"]


def test_send_range_and_sent_count(pair):
    s, py = pair
    assert s.send(b"0123456789", 3, 5) == 5  # bytes 3..5 ("234"); the index of the last
    assert py.recv(10) == b"234"


def test_moonbridge_read_drain_write(pair):
    s, py = pair
    py.sendall(b"key: value\nmore data here")
    assert s.read(None, b"\n") == (b"key: value\n", "term")
    assert s.read(4) == (b"more", "maxlen")
    assert s.drain(6) == (6, "maxlen")
    assert s.read_nb() == (b"here", "block")
    assert s.read_nb() == (b"", "block")
    assert s.drain_nb() == (0, "block")
    s.write(b"buffered ")
    pending = s.write_nb(b"and more")
    assert 0 <= pending <= len(b"buffered and more")
    s.flush()
    assert s.flush_nb() == 0
    got = b""
    while len(got) < 17:
        got += py.recv(100)
    assert got == b"buffered and more"
    py.sendall(b"x")
    py.shutdown(socket.SHUT_WR)
    assert s.read() == (b"x", "eof")
    s.write(b"last")
    s.finish()
    assert py.recv(10) == b"last"
    assert py.recv(10) == b""  # finish shut the sending side down


def test_read_call_waits_with_python_function(pair):
    s, py = pair
    calls = []

    def wait(fd, events):
        calls.append((fd, events))
        assert events == sockit._ffi.lib.SOCKIT_WAIT_READ
        if len(calls) == 1:
            py.sendall(b"ping\n")
        import select as pyselect

        pyselect.select([fd], [], [], WAIT)

    assert s.read_call(wait, None, "\n") == (b"ping\n", "term")
    assert calls and calls[0][0] == s.fileno()


def test_read_call_aborted_by_wait_function(pair):
    s, py = pair

    def wait(fd, events):
        raise KeyboardInterrupt("stop waiting")

    with pytest.raises(KeyboardInterrupt):
        s.read_call(wait, 10)
    assert s.state == "client"


def test_write_call_and_flush_call(pair):
    s, py = pair
    s.write_call(lambda fd, ev: None, b"x" * 1000)
    s.flush_call(lambda fd, ev: None)
    got = b""
    while len(got) < 1000:
        got += py.recv(4096)
    assert got == b"x" * 1000


def test_reset_gives_peer_a_reset(pair):
    s, py = pair
    s.setoption("linger", (True, 0))
    s.reset()
    with pytest.raises(ConnectionResetError):
        py.recv(10)
    assert s.state == "closed"


def test_accept_nb_connect_nb_and_select_for_writing():
    with sockit.listen("127.0.0.1", 0) as srv:
        port = srv.getsockname()[1]
        assert srv.accept_nb() is None
        c = sockit.connect_nb("127.0.0.1", port)
        _, w = sockit.select([], [c], WAIT)
        assert w == [c]
        r, _ = sockit.select([srv], [], WAIT)
        assert r == [srv]
        a = srv.accept_nb()
        assert a is not None and a.state == "client"
        c.send(b"hi")
        a.settimeout(WAIT)
        assert a.receive(2) == b"hi"
        a.close()
        c.close()


def test_master_socket_options_bind_connect():
    with sockit.bind("127.0.0.1", 0) as srv:
        port = srv.getsockname()[1]
        s = sockit.tcp()
        assert s.state == "master"
        s.setoption("reuseaddr", True)
        s.setoption("tcp-nodelay", True)
        s.setoption("keepalive", True)
        s.settimeout(WAIT)
        s.bind("127.0.0.1", 0)
        s.connect("127.0.0.1", port)
        assert s.getoption("tcp-nodelay") is True
        assert s.getoption("keepalive") is True
        assert s.getoption("rcvbuf") > 0
        assert s.family == "inet"
        assert s.getpeername() == ("127.0.0.1", port)
        raw, p = s.remote_ip_raw
        assert raw == b"\x7f\x00\x00\x01" and p == port
        with pytest.raises(sockit.InvalidArgument):
            s.setoption("no-such-option", 1)
        s.close()


def test_ipv6_loopback():
    try:
        srv = sockit.listen("::1", 0)
    except sockit.Error:
        pytest.skip("no IPv6 loopback")
    with srv:
        port = srv.getsockname()[1]
        with sockit.connect("::1", port, timeout=WAIT, family="inet6") as c:
            assert c.family == "inet6"
            assert len(c.local_ip_raw[0]) == 16


def test_unix_stream(tmp_path):
    path = str(tmp_path / "s.sock")
    with sockit.unix_listen(path) as srv:
        srv.settimeout(WAIT)
        c = sockit.unix_connect(path)
        a = srv.accept()
        a.settimeout(WAIT)
        c.send(b"over unix\n")
        assert a.receive_line() == b"over unix"
        assert c.family == "unix"
        assert a.getsockname() == path
        c.close()
        a.close()
    m = sockit.unix()
    m.bind(str(tmp_path / "m.sock"))
    m.listen()
    assert m.state == "server"
    m.close()


def test_udp(tmp_path):
    with sockit.udp4() as a, sockit.udp4() as b:
        a.setsockname("127.0.0.1", 0)
        b.setsockname("127.0.0.1", 0)
        a.settimeout(WAIT)
        b.settimeout(WAIT)
        pa = a.getsockname()[1]
        pb = b.getsockname()[1]
        assert b.sendto(b"datagram", "127.0.0.1", pa) == 8
        assert a.receivefrom() == (b"datagram", "127.0.0.1", pb)
        b.setpeername("127.0.0.1", pa)
        assert b.connected
        b.send(b"0123456789")
        assert a.receive(4) == b"0123"  # the rest of the datagram is dropped
        a.settimeout(0.1)
        with pytest.raises(sockit.Timeout):
            a.receive()
        a.setoption("broadcast", 1)
        assert a.getoption("broadcast") == 1


def test_unix_datagram(tmp_path):
    pa = str(tmp_path / "a.dg")
    with sockit.unix_dgram() as a, sockit.unix_dgram() as b:
        a.bind(pa)
        b.bind(str(tmp_path / "b.dg"))
        a.settimeout(WAIT)
        b.sendto(b"hello", pa)
        assert a.receivefrom() == (b"hello", str(tmp_path / "b.dg"))
        assert a.getsockname() == pa


def test_setfd_moves_a_descriptor_between_sockets(pair):
    s, py = pair
    fd = s.fileno()
    s.setfd(-1)  # detached: reads as closed, the descriptor is not closed
    assert s.fileno() == -1
    with pytest.raises(sockit.Closed):
        s.send(b"x")
    s.setfd(fd)
    assert s.fileno() == fd
    s.send(b"back\n")
    assert py.recv(10) == b"back\n"


def test_stats(pair):
    s, py = pair
    s.send(b"12345")
    py.sendall(b"ab\n")
    s.receive_line()
    received, sent, age = s.getstats()
    assert (received, sent) == (3, 5)
    assert age >= 0
    s.setstats(0, 0, 0)
    assert s.getstats()[:2] == (0, 0)

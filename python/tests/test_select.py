"""select and Poller over sockit sockets, Python sockets, files and descriptors."""

import os
import resource
import socket

import pytest

import sockit
from conftest import WAIT


def test_select_mixes_sockit_python_and_fds(pair):
    s, py = pair
    a, b = socket.socketpair()
    rfd, wfd = os.pipe()
    try:
        r, w = sockit.select([s, a, rfd], [], 0.1)
        assert (r, w) == ([], [])
        b.sendall(b"x")
        os.write(wfd, b"y")
        r, _ = sockit.select([s, a, rfd, None], [], WAIT)
        assert r == [a, rfd]
        py.sendall(b"line\n")
        r, w = sockit.select([s, a], [py, b], WAIT)
        assert r == [s, a] and w == [py, b]
    finally:
        a.close()
        b.close()
        os.close(rfd)
        os.close(wfd)


def test_dirty_socket_is_readable_without_the_kernel(pair):
    s, py = pair
    py.sendall(b"one\ntwo\nthree\n")
    assert s.receive_line() == b"one"
    # The other lines sit in sockit's buffer: select answers at once.
    r, _ = sockit.select([s], [], 0)
    assert r == [s]
    assert s.receive_line() == b"two"
    assert s.receive_line() == b"three"
    r, _ = sockit.select([s], [], 0)
    assert r == []  # every handed-out line was settled before the wait


def test_closed_sockets_are_never_ready(pair):
    s, py = pair
    py.sendall(b"x")
    s.close()
    assert sockit.select([s], [s], 0.05) == ([], [])


def test_poller(pair):
    s, py = pair
    a, b = socket.socketpair()
    try:
        p = sockit.Poller()
        p.register(s, sockit.POLLIN)
        p.register(a, sockit.POLLIN)
        assert len(p) == 2
        assert p.poll(0.05) == []
        py.sendall(b"data")
        assert p.poll(WAIT) == [(s, sockit.POLLIN)]
        s.receive(4)
        b.close()
        ready = dict((id(o), ev) for o, ev in p.poll(WAIT))
        assert ready[id(a)] & (sockit.POLLIN | sockit.POLLHUP)
        p.unregister(a)
        assert p.poll(0.05) == []
        p.register(s, sockit.POLLOUT)
        assert p.poll(WAIT) == [(s, sockit.POLLOUT)]
    finally:
        a.close()


def test_no_fd_setsize_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1200
    if hard != resource.RLIM_INFINITY and hard < want + 64:
        pytest.skip("the descriptor limit is %d" % hard)
    if soft < want + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want + 64, hard))
    pipes = []
    try:
        for _ in range(want // 2):
            pipes.append(os.pipe())
        rfd, wfd = pipes[-1]
        assert rfd > 1024
        os.write(wfd, b"z")
        r, _ = sockit.select([p[0] for p in pipes], [], WAIT)
        assert r == [rfd]
    finally:
        for a, b in pipes:
            os.close(a)
            os.close(b)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_udp_in_select():
    with sockit.udp4() as u, sockit.udp4() as v:
        u.setsockname("127.0.0.1", 0)
        assert sockit.select([u], [], 0.05) == ([], [])
        v.sendto(b"d", "127.0.0.1", u.getsockname()[1])
        assert sockit.select([u], [], WAIT)[0] == [u]

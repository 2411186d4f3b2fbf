"""Threads: blocking calls release the GIL, and handles are shared between threads."""

import socket
import threading
import time
import uuid

import sockit
from sockit import ltn12
from conftest import WAIT


def test_blocking_receive_releases_the_gil(pair):
    s, py = pair
    s.settimeout(0.5)
    count = [0]
    done = threading.Event()

    def blocked():
        try:
            s.receive_line()
        except sockit.Timeout:
            pass
        done.set()

    t = threading.Thread(target=blocked)
    t.start()
    while not done.is_set():
        count[0] += 1
    t.join()
    assert count[0] > 10000  # the main thread kept running during the wait


def test_threads_share_one_socket_for_receiving(pair):
    s, py = pair
    n_threads, per, size = 4, 50, 100
    payload = b"".join(bytes([i % 251]) * size for i in range(n_threads * per))
    got = []
    lock = threading.Lock()
    errors = []

    def reader():
        try:
            for _ in range(per):
                chunk = s.receive(size)
                with lock:
                    got.append(chunk)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(n_threads)]
    for t in threads:
        t.start()
    py.sendall(payload)
    for t in threads:
        t.join(WAIT * 3)
    assert not errors
    # Each call got one whole, uninterleaved piece; together they are the stream.
    assert len(got) == n_threads * per
    assert all(len(c) == size and c == c[:1] * size for c in got)
    assert sorted(got) == sorted(payload[i:i + size] for i in range(0, len(payload), size))


def test_threads_share_one_socket_for_lines(pair):
    s, py = pair
    n = 4000
    lines = [b"%05d" % i for i in range(n)]
    got = []
    lock = threading.Lock()

    errors = []

    def reader():
        while True:
            try:
                line = s.receive_line()
            except sockit.Closed:
                return
            except Exception as e:  # reported below
                errors.append(e)
                return
            with lock:
                got.append(line)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    py.sendall(b"\n".join(lines) + b"\n")
    py.shutdown(socket.SHUT_WR)
    for t in threads:
        t.join(WAIT * 3)
    assert errors == []
    assert sorted(got) == lines  # every line exactly once


def test_send_and_receive_from_different_threads(pair):
    s, py = pair

    def echo():
        f = py.makefile("rb")
        for line in f:
            py.sendall(line)

    t = threading.Thread(target=echo)
    t.start()
    received = []

    def receiver():
        for _ in range(200):
            received.append(s.receive_line())

    r = threading.Thread(target=receiver)
    r.start()
    for i in range(200):
        s.send(b"%d\n" % i)
    r.join(WAIT * 3)
    py.shutdown(socket.SHUT_WR)
    s.close()
    t.join(WAIT)
    assert received == [b"%d" % i for i in range(200)]


def test_session_shared_by_threads(httpbin):
    errors = []
    codes = []
    tag = "py-threads-%s" % uuid.uuid4().hex
    with sockit.http.Session(timeout=WAIT, headers={"X-Sockit-Tag": tag}) as sess:
        def worker(k):
            try:
                for i in range(10):
                    r = sess.get(httpbin + "/get", params={"k": k, "i": i})
                    assert r.json()["args"] == {"k": str(k), "i": str(i)}
                    codes.append(r.status_code)
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert time.monotonic() - t0 < 60
        peers = sockit.http.get(httpbin + "/sockit/peers", params={"tag": tag}).json()
    assert not errors, errors
    assert codes == [200] * 60
    assert peers["requests"] == 60
    # Connections are reused: at most one per concurrent client.
    assert 1 <= peers["connections"] <= 6


def test_pumps_in_parallel_threads():
    results = []

    def work(i):
        data = bytes([i]) * 200000
        src = ltn12.Source.string(data) | sockit.mime.encode("base64")
        snk = ltn12.Sink.buffer()
        ltn12.pump(src, snk)
        results.append(sockit.mime.b64decode(snk.getvalue()) == data)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert results == [True] * 8


def test_close_from_another_thread_wakes_a_waiting_reader(pair):
    s, py = pair
    s.settimeout(None)  # no limit: only the close can end the wait
    result = []

    def reader():
        try:
            s.receive_line()
        except sockit.Error as e:
            result.append(e)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    s.close()  # does not wait for the reader: the reader holds no lock while it waits
    t.join(WAIT)
    assert not t.is_alive()  # woken by the close (no timeout was set)
    assert time.monotonic() - t0 < WAIT
    assert isinstance(result[0], (sockit.Closed, sockit.InvalidArgument))


def test_close_from_another_thread_stops_accept():
    srv = sockit.bind("127.0.0.1", 0)
    result = []

    def acceptor():
        try:
            srv.accept()
        except sockit.Error as e:
            result.append(e)

    t = threading.Thread(target=acceptor)
    t.start()
    time.sleep(0.2)
    srv.close()
    t.join(WAIT)
    assert not t.is_alive() and isinstance(result[0], sockit.Closed)


def test_full_duplex_with_one_reader_and_one_writer_thread(pair):
    s, py = pair
    n = 3000
    payload = b"".join(b"%06d\n" % i for i in range(n))

    def py_echo():
        f = py.makefile("rb")
        for line in f:
            py.sendall(line)
        py.shutdown(socket.SHUT_WR)

    echo = threading.Thread(target=py_echo)
    echo.start()
    got = []
    reader = threading.Thread(target=lambda: got.extend(s))
    reader.start()
    for i in range(0, len(payload), 7000):  # while the reader waits on the same socket
        s.send(payload[i:i + 7000])
    s.shutdown("send")
    reader.join(WAIT * 3)
    echo.join(WAIT)
    assert got == [b"%06d" % i for i in range(n)]

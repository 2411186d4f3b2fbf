"""The Python package against what Python users use today (run by bench/python/run.sh).

    python bench.py BASE_URL        BASE_URL serves big.bin (1 GiB) and small.txt

Rows, each side best of 3 runs, the sides taking turns:
  1. 1 GiB from nginx into a null sink: sockit (http.get with a null sink) against
     requests (iter_content, 64 KiB chunks) and urllib3 (stream, 64 KiB chunks);
  2. 2,000 small GETs on one keep-alive connection: sockit.http.Session against
     requests.Session;
  3. 100 MiB of lines from a local sender process: Socket.receive_line() against
     socket.makefile("rb").readline(), and iterating over each.
Prints the times, the ratios (how many times faster sockit is) and whether each target
holds.
"""

import os
import socket
import subprocess
import sys
import time

import requests
import urllib3

import sockit
from sockit import ltn12

ROUNDS = 3
GIB = 1 << 30
CHUNK = 65536


def best(fns):
    """Runs each function ROUNDS times, taking turns; the best time of each."""
    times = [[] for _ in fns]
    for _ in range(ROUNDS):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [min(t) for t in times]


def big(base):
    url = base + "/big.bin"

    def with_sockit():
        r = sockit.http.get(url, sink=ltn12.Sink.null(), timeout=60)
        assert r.received == GIB, r.received

    def with_requests():
        n = 0
        with requests.get(url, stream=True, timeout=60) as r:
            for chunk in r.iter_content(chunk_size=CHUNK):
                n += len(chunk)
        assert n == GIB, n

    pool = urllib3.PoolManager()

    def with_urllib3():
        n = 0
        r = pool.request("GET", url, preload_content=False)
        for chunk in r.stream(CHUNK):
            n += len(chunk)
        r.release_conn()
        assert n == GIB, n

    return best([with_sockit, with_requests, with_urllib3])


def many(base, n=2000):
    url = base + "/small.txt"

    def with_sockit():
        with sockit.http.Session(timeout=10) as s:
            for _ in range(n):
                r = s.get(url)
                assert r.status_code == 200 and len(r.content) == 100
            assert r.reused

    def with_requests():
        with requests.Session() as s:
            for _ in range(n):
                r = s.get(url, timeout=10)
                assert r.status_code == 200 and len(r.content) == 100

    return best([with_sockit, with_requests])


SENDER = r"""
import socket, sys
size, port_file = int(sys.argv[1]), sys.argv[2]
line = b"x" * 71 + b"\n"
data = (line * (size // len(line) + 1))[:size]
data = data[:data.rindex(b"\n") + 1]
lst = socket.create_server(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write("%d %d" % (lst.getsockname()[1], data.count(b"\n")))
import os; os.rename(port_file + ".tmp", port_file)
lst.settimeout(120)
while True:
    try:
        c, _ = lst.accept()
    except socket.timeout:
        break
    with c:
        if c.recv(1) == b"q":
            break
        c.sendall(data)
"""


def lines(size=100 << 20):
    import tempfile

    port_file = tempfile.mktemp(prefix="sockit-bench-lines-")
    sender = subprocess.Popen([sys.executable, "-c", SENDER, str(size), port_file])
    try:
        for _ in range(300):
            if os.path.exists(port_file):
                break
            time.sleep(0.1)
        port, count = map(int, open(port_file).read().split())

        def with_sockit():
            with sockit.connect("127.0.0.1", port, timeout=10) as s:
                s.settimeout(30)
                s.send(b"g")
                n = 0
                try:
                    while True:
                        s.receive_line()
                        n += 1
                except sockit.Closed:
                    pass
            assert n == count, (n, count)

        def with_makefile():
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(b"g")
                f = s.makefile("rb")
                readline = f.readline
                n = 0
                while readline():
                    n += 1
                f.close()
            assert n == count, (n, count)

        def iter_sockit():
            with sockit.connect("127.0.0.1", port, timeout=10) as s:
                s.settimeout(30)
                s.send(b"g")
                n = 0
                for _ in s:
                    n += 1
            assert n == count, (n, count)

        def iter_makefile():
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(b"g")
                n = 0
                with s.makefile("rb") as f:
                    for _ in f:
                        n += 1
            assert n == count, (n, count)

        return best([with_sockit, with_makefile, iter_sockit, iter_makefile]) + [count]
    finally:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"q")
        except Exception:
            pass
        try:
            sender.wait(10)
        except subprocess.TimeoutExpired:
            sender.kill()
            sender.wait()
        if os.path.exists(port_file):
            os.unlink(port_file)


def verdict(ratio, target):
    return "ok" if ratio >= target else "BELOW TARGET"


def main():
    base = sys.argv[1]
    print("sockit %s (%s), requests %s, urllib3 %s, Python %s; best of %d" % (
        sockit.version(), os.path.dirname(sockit.__file__), requests.__version__,
        urllib3.__version__, sys.version.split()[0], ROUNDS))
    s, rq, u3 = big(base)
    mib = GIB / (1 << 20)
    print("1 GiB from nginx into a null sink:")
    print("  sockit            %.3fs (%d MiB/s)" % (s, mib / s))
    print("  requests          %.3fs (%d MiB/s; iter_content, %d KiB chunks)" % (rq, mib / rq, CHUNK >> 10))
    print("  urllib3           %.3fs (%d MiB/s; stream, %d KiB chunks)" % (u3, mib / u3, CHUNK >> 10))
    print("  sockit / requests: %.2fx (target >= 2) %s" % (rq / s, verdict(rq / s, 2)))
    print("  sockit / urllib3:  %.2fx (target >= 1) %s" % (u3 / s, verdict(u3 / s, 1)))
    s, rq = many(base)
    print("2,000 small GETs on one keep-alive connection:")
    print("  sockit Session    %.3fs (%.0f us per request)" % (s, s / 2000 * 1e6))
    print("  requests.Session  %.3fs (%.0f us per request)" % (rq, rq / 2000 * 1e6))
    print("  sockit / requests: %.2fx (target >= 2) %s" % (rq / s, verdict(rq / s, 2)))
    s, mf, si, mi, count = lines()
    print("100 MiB as %d lines of 72 bytes from a local sender:" % count)
    print("  sockit receive_line()       %.3fs (%.0f ns per line)" % (s, s / count * 1e9))
    print("  makefile().readline()       %.3fs (%.0f ns per line)" % (mf, mf / count * 1e9))
    print("  sockit / readline: %.2fx (target >= 1) %s" % (mf / s, verdict(mf / s, 1)))
    print("  for line in sock            %.3fs (%.0f ns per line)" % (si, si / count * 1e9))
    print("  for line in makefile()      %.3fs (%.0f ns per line)" % (mi, mi / count * 1e9))
    print("  sockit / makefile, iterating: %.2fx" % (mi / si))


if __name__ == "__main__":
    main()

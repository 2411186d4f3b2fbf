"""Fixtures of the Python package's tests (run by scripts/test-python.sh).

The protocol servers (httpbin under gunicorn, the fault server, pyftpdlib, aiosmtpd) come
from tests/servers/launch.py: scripts/test-python.sh starts them and puts their ports in
the environment (SOCKIT_HTTPBIN_PORT, ...); run alone, this file starts them itself. nginx
(SOCKIT_NGINX_PORT, serving SOCKIT_NGINX_ROOT) is started by the script; the tests that
need it are skipped when it is not there. Only loopback is used, and every wait is
bounded.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import sockit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WAIT = 10.0  # upper bound of a wait in these tests


def pytest_report_header(config):
    return "sockit %s from %s (library %s)" % (sockit.version(), os.path.dirname(sockit.__file__),
                                              sockit.LIBRARY_PATH)


@pytest.fixture(scope="session")
def servers():
    """The protocol servers' environment (ports, FTP root, SMTP spool)."""
    if os.environ.get("SOCKIT_HTTPBIN_PORT"):
        yield dict(os.environ)
        return
    work = tempfile.mkdtemp(prefix="sockit-pytest-")
    env_file = os.path.join(work, "servers.env")
    python = os.environ.get("SOCKIT_SERVERS_PYTHON", "python3")
    proc = subprocess.Popen([python, os.path.join(REPO, "tests", "servers", "launch.py"),
                             "--env-file", env_file, "--max-seconds", "1800"],
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.path.exists(env_file) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    if not os.path.exists(env_file):
        proc.kill()
        proc.wait()
        pytest.fail("the test servers did not start")
    env = dict(os.environ)
    with open(env_file) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    try:
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def httpbin(servers):
    return "http://127.0.0.1:%s" % servers["SOCKIT_HTTPBIN_PORT"]


@pytest.fixture(scope="session")
def fault(servers):
    return "http://127.0.0.1:%s" % servers["SOCKIT_FAULT_PORT"]


@pytest.fixture(scope="session")
def nginx():
    """(base URL, document root) of the local nginx, or skip."""
    port = os.environ.get("SOCKIT_NGINX_PORT")
    root = os.environ.get("SOCKIT_NGINX_ROOT")
    if not port or not root:
        pytest.skip("nginx is not running (scripts/test-python.sh starts it)")
    return "http://127.0.0.1:%s" % port, root


class Peer:
    """A Python-socket server on loopback that runs ``handler(conn)`` for one
    connection in a thread; ``join()`` re-raises what the handler raised."""

    def __init__(self, handler, family=socket.AF_INET):
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(WAIT)
        self.port = self.listener.getsockname()[1]
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self.thread.start()

    def _run(self, handler):
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(WAIT)
                handler(conn)
        except Exception as e:  # reported by join()
            self.error = e

    def join(self):
        self.thread.join(2 * WAIT)
        assert not self.thread.is_alive(), "peer thread still running"
        self.listener.close()
        if self.error:
            raise self.error


@pytest.fixture
def peer():
    """Makes Peer servers and joins them at the end of the test."""
    made = []

    def make(handler, **kw):
        p = Peer(handler, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.join()


@pytest.fixture
def pair():
    """A connected (sockit client, Python server-side socket) pair on loopback."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(WAIT)
    client = sockit.connect("127.0.0.1", lst.getsockname()[1], timeout=WAIT)
    client.settimeout(WAIT)
    server, _ = lst.accept()
    server.settimeout(WAIT)
    lst.close()
    yield client, server
    client.close()
    server.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "big: a long transfer (bounded in time)")


sys.path.insert(0, HERE)

"""Helpers for the sockit-moonbridge tests: start an application, find its ports in the
log, look at its processes, stop it, count checks.

Every server a test starts is stopped by the test (by pid), and every process it forked
is checked to be gone. Checks print "ok - name" / "not ok - name"; `done()` prints
"N passed, M failed" and returns the exit status.
"""

import os
import re
import signal as signals
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SOCKIT_LUA51_OUT", os.path.join(ROOT, "build", "lua51"))
EXE = os.path.join(BUILD, "sockit-moonbridge")

passed = 0
failed = 0
VERBOSE = os.environ.get("SOCKIT_TEST_VERBOSE") == "1"
FILTER = os.environ.get("SOCKIT_TEST_FILTER", "")


def check(cond, name, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - " + name + (": " + str(detail) if detail else ""))
    sys.stdout.flush()
    return cond


def done(label):
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return 1 if failed else 0


def wanted(name):
    return FILTER in name


def proc_state(pid):
    """'R', 'S', 'Z', ... or None when the process does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2]


def gone(pid):
    """True when pid neither runs nor lingers as a zombie."""
    return proc_state(pid) is None


def children(pid):
    """Pids whose parent is pid (zombies included)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        if int(rest[1]) == pid:
            out.append(int(d))
    return out


def wait_until(cond, seconds=10.0, step=0.02):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Server:
    """A sockit-moonbridge process running app with args; log in self.log_path."""

    def __init__(self, app, *args, options=(), tmp=None, wait=True):
        self.tmp = tmp or tempfile.mkdtemp(prefix="sockit-mb-")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log_file = open(self.log_path, "ab")
        cmd = [EXE] + list(options) + [app] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ROOT)
        self.pid = self.proc.pid
        self.known = set()  # every worker pid seen
        if wait and not wait_until(lambda: "server started" in self.log()
                                   or self.proc.poll() is not None, 20):
            raise RuntimeError("server did not start:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ports(self):
        """TCP ports from the log, in listener order: [(host, port), ...]."""
        return [(h, int(p)) for h, p in
                re.findall(r"listening on TCP (\S+) port (\d+)", self.log())]

    def port(self, i=0):
        return self.ports()[i][1]

    def workers(self):
        pids = children(self.pid)
        self.known.update(pids)
        return pids

    def remember(self, pid):
        if pid:
            self.known.add(pid)

    def signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, seconds=30.0):
        """The exit status, or None if still running after seconds."""
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signals.SIGTERM, seconds=30.0):
        """Stops the server; returns (exit status, pids still there)."""
        self.workers()
        if self.proc.poll() is None:
            self.signal(sig)
        rc = self.wait(seconds)
        if rc is None:
            self.signal(signals.SIGKILL)
            rc = self.wait(10)
        left = [p for p in self.known if not gone(p)]
        # Nothing may outlive a test: kill leftovers (and count them as failures).
        for p in left:
            try:
                os.kill(p, signals.SIGKILL)
            except OSError:
                pass
        self.log_file.close()
        return rc, left


class Client:
    """A line client: each ask() sends one command line and reads one answer line."""

    def __init__(self, port, host="127.0.0.1", family=socket.AF_INET, path=None, timeout=30):
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        else:
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.f = self.sock.makefile("rb")

    def ask(self, line):
        self.sock.sendall((line + "\n").encode())
        return self.f.readline().decode().rstrip("\n")

    def close(self):
        self.f.close()
        self.sock.close()


def ask_once(port, line, **kw):
    """One connection, one command; '' when the connection ended without an answer."""
    try:
        c = Client(port, **kw)
    except OSError as e:
        return "connect failed: %s" % e
    try:
        return c.ask(line)
    except OSError as e:
        return "error: %s" % e
    finally:
        c.close()

"""sockit-moonbridge: listeners, the worker pool, timeout(), signals, the executable's
options and exit codes. Real processes, real sockets on loopback; every pid is checked.

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

sys.path.insert(0, os.path.dirname(__file__))
from mbtest import (EXE, ROOT, Client, Server, ask_once, check, children, done, gone,  # noqa: E402
                    proc_state, wait_until, wanted)

APP = os.path.join(ROOT, "tests", "moonbridge", "pool_app.lua")
TMP = tempfile.mkdtemp(prefix="sockit-mb-test-")


def finish(srv, name, sig=signal.SIGTERM):
    rc, left = srv.stop(sig)
    check(rc == 0, name + ": the master exits 0", "status %s\n%s" % (rc, srv.log()[-2000:]))
    check(not left, name + ": no worker is left", left)
    return rc


def test_listeners():
    path = os.path.join(TMP, "app.sock")
    # A stale socket file where the local listener goes is replaced.
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    srv = Server(APP, "tcp=127.0.0.1", "tcp=::1", "local=" + path, "min_fork=2")
    ports = srv.ports()
    check(len(ports) == 2 and all(p > 0 for _, p in ports),
          "listeners: port 0 picks a free port, logged", ports)
    check(ports and ports[0][0] == "127.0.0.1" and ports[1][0] == "::1",
          "listeners: IPv4 and IPv6 hosts", ports)
    a = ask_once(ports[0][1], "pid")
    check(a.isdigit() and int(a) != srv.pid, "listeners: TCP over IPv4 is served by a worker", a)
    b = ask_once(ports[1][1], "pid", host="::1", family=socket.AF_INET6)
    check(b.isdigit(), "listeners: TCP over IPv6", b)
    c = ask_once(0, "pid", path=path)
    check(c.isdigit(), "listeners: the local socket (stale file replaced)", c)
    for x in (a, b, c):
        srv.remember(int(x) if x.isdigit() else 0)
    # Socket fields, as the spec lists them.
    f = ask_once(ports[0][1], "fields").split()
    check(f[:3] == ["7f000001", "nil", str(ports[0][1])] and f[3:5] == ["7f000001", "nil"]
          and f[5].isdigit() and f[6] == "nil",
          "fields: local_ip4, local_tcpport, remote_ip4, remote_tcpport over IPv4", f)
    f6 = ask_once(ports[1][1], "fields", host="::1", family=socket.AF_INET6).split()
    check(f6[:3] == ["nil", "0" * 31 + "1", str(ports[1][1])] and f6[4] == "0" * 31 + "1",
          "fields: local_ip6 and remote_ip6 are 16 raw bytes over IPv6", f6)
    fl = ask_once(0, "fields", path=path).split()
    check(fl == ["nil"] * 7, "fields: a local socket has no IP fields", fl)
    check(ask_once(ports[0][1], "prepared").isdigit(), "prepare ran in the worker before connect")
    r = ask_once(ports[0][1], "listen")
    check(r.startswith("false") and "cannot be called from" in r,
          "listen{} from a handler is an error", r)
    finish(srv, "listeners")
    check(not os.path.exists(path), "listeners: the local socket file is removed at the end")

    # A plain file is not replaced: startup fails with a message.
    plain = os.path.join(TMP, "plain")
    with open(plain, "w") as fp:
        fp.write("keep")
    p = subprocess.run([EXE, APP, "local=" + plain], capture_output=True, text=True, timeout=30)
    check(p.returncode == 3 and "address already in use" in p.stdout + p.stderr,
          "listeners: a plain file at the local path fails startup (exit 3)",
          (p.returncode, p.stderr[-500:]))
    check(open(plain).read() == "keep", "listeners: the plain file is left alone")


def test_concurrency():
    """64 concurrent clients, min_fork=2, max_fork=8: every one is served, by at most 8
    workers, and the master never has more than 8 children."""
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=2", "max_fork=8", "pre_fork=2",
                 "fork_delay=0.01")
    port = srv.port()
    answers = [None] * 64
    most = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            most[0] = max(most[0], len(srv.workers()))
            time.sleep(0.01)

    def client(i):
        try:
            c = Client(port, timeout=60)
            answers[i] = c.ask("sleep 0.05") + "/" + c.ask("pid")
            c.close()
        except OSError as e:
            answers[i] = "error %s" % e

    w = threading.Thread(target=watch)
    w.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    w.join()
    served = [a for a in answers if a and a.startswith("slept/")]
    pids = {int(a.split("/")[1]) for a in served}
    for p in pids:
        srv.remember(p)
    check(len(served) == 64, "pool: 64 concurrent clients are all served", answers)
    check(2 <= len(pids) <= 8, "pool: by 2 to 8 workers (%d)" % len(pids), pids)
    check(most[0] <= 8, "pool: never more than max_fork workers (%d seen)" % most[0])
    finish(srv, "pool")


def test_recycling():
    events = os.path.join(TMP, "events-recycle")
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=1", "pre_fork=1", "max_fork=4",
                 "fork_delay=0.01", "fork_error_delay=0.01", "events=" + events)
    port = srv.port()
    a = ask_once(port, "quit")
    check(a.isdigit(), "recycle: a handler returning false answers first", a)
    a = int(a) if a.isdigit() else 0
    srv.remember(a)
    check(wait_until(lambda: gone(a), 20), "recycle: its worker ends and is reaped (no zombie)",
          proc_state(a))
    b = ask_once(port, "pid")
    check(b.isdigit() and int(b) != a, "recycle: the next connection has another worker", (a, b))
    srv.remember(int(b) if b.isdigit() else 0)
    ev = open(events).read() if os.path.exists(events) else ""
    check(("finish %d" % a) in ev, "recycle: finish ran in the recycled worker", ev)

    # A handler error, an os.exit and a SIGSEGV: each worker is replaced, the server goes on.
    for cmd, what in (("error", "a Lua error"), ("exit", "os.exit"), ("segv", "SIGSEGV")):
        c = Client(port)
        before = c.ask("pid")  # the worker that then gets the command
        srv.remember(int(before) if before.isdigit() else 0)
        try:
            r = c.ask(cmd)
        except OSError as e:
            r = "error %s" % e
        c.close()
        check(r == "" or "reset" in r, "crash: %s ends the connection without an answer" % what, r)
        after = ask_once(port, "pid")
        check(after.isdigit(), "crash: the server still serves after %s" % what, after)
        srv.remember(int(after) if after.isdigit() else 0)
        if before.isdigit():
            check(wait_until(lambda: gone(int(before)), 20),
                  "crash: the worker that hit %s is gone and reaped" % what)
    log = srv.log()
    check("told to fail" in log, "crash: the handler's error is logged", log[-1500:])
    check("exited with status 7" in log, "crash: os.exit(7) is logged with its status")
    check("died from signal 11" in log, "crash: SIGSEGV is logged")
    finish(srv, "recycle")


def test_idle_timeout():
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=1", "pre_fork=1", "max_fork=2",
                 "idle_timeout=0.5", "fork_delay=0.01")
    port = srv.port()
    a = ask_once(port, "pid")
    check(a.isdigit(), "idle_timeout: served", a)
    a = int(a) if a.isdigit() else 0
    srv.remember(a)
    check(wait_until(lambda: gone(a), 15), "idle_timeout: an idle worker ends after it")
    b = ask_once(port, "pid")
    check(b.isdigit() and int(b) != a, "idle_timeout: a new worker takes its place", (a, b))
    srv.remember(int(b) if b.isdigit() else 0)
    finish(srv, "idle_timeout")
    # idle_time is the same parameter.
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=1", "max_fork=2", "idle_time=0.3")
    a = ask_once(srv.port(), "pid")
    srv.remember(int(a) if a.isdigit() else 0)
    check(a.isdigit() and wait_until(lambda: gone(int(a)), 15),
          "idle_time: the spec's name works the same")
    finish(srv, "idle_time")


def test_timeout():
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=1", "max_fork=3", "fork_delay=0.01")
    port = srv.port()
    c = Client(port)
    check(c.ask("left") == "0", "timeout(): 0 when no timer is set")
    check(c.ask("settimer 100") == "0", "timeout(n) returns the time that was left (0)")
    left = float(c.ask("left"))
    check(99 < left <= 100, "timeout() tells the time left", left)
    r = c.ask("sub 5 0.1").split()
    check(r[0] == "done" and 4 < float(r[1]) <= 5,
          "timeout(n, fn, ...) runs fn with its arguments under the sub-timer, returns its results", r)
    left = float(c.ask("left"))
    check(98 < left <= 100, "after timeout(n, fn) the outer timer goes on", left)
    r = c.ask("sub 500 0").split()
    check(98 < float(r[1]) <= 100, "a longer sub-timer leaves the shorter outer one in charge", r)
    r = c.ask("suberror")
    check(r.startswith("false") and "inner" in r and 98 < float(r.split()[-1]) <= 100,
          "an error in timeout(n, fn) propagates and the outer timer is restored", r)
    check(c.ask("settimer 0") != "0", "timeout(0) disables the timer (and returns what was left)")
    check(c.ask("left") == "0", "timeout(0): no timer any more")
    c.ask("settimer 100")
    c.close()
    # Reset when the handler returns: a new connection (same worker) has no timer.
    check(ask_once(port, "left") == "0", "the timer is reset when a handler returns")
    pid = ask_once(port, "pid")
    srv.remember(int(pid) if pid.isdigit() else 0)
    t0 = time.time()
    r = ask_once(port, "stuck 0.5")
    took = time.time() - t0
    check(r == "" and took < 20, "timeout(n) kills a stuck handler (connection closed)", (r, took))
    check(wait_until(lambda: "killed by its timeout" in srv.log(), 10),
          "the master logs the timeout", srv.log()[-800:])
    after = ask_once(port, "pid")
    check(after.isdigit(), "the server serves after a timeout kill", after)
    srv.remember(int(after) if after.isdigit() else 0)
    finish(srv, "timeout")


def test_intervals():
    events = os.path.join(TMP, "events-interval")
    srv = Server(APP, "interval=tick:0.1", "interval=beat:0.15:strict", "min_fork=1",
                 "max_fork=2", "events=" + events)
    check(wait_until(lambda: os.path.exists(events) and
                     open(events).read().count("tick tick ") >= 3 and
                     open(events).read().count("tick beat ") >= 3, 20),
          "interval listeners fire (plain and strict)",
          open(events).read() if os.path.exists(events) else "")
    for line in open(events):
        if line.startswith("tick "):
            srv.remember(int(line.split()[2]))
    finish(srv, "intervals")
    log = srv.log()
    check('listening on interval "beat" every 0.15 s (strict)' in log, "intervals are logged")


def test_signals():
    # SIGTERM: the connection in hand is finished first.
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=2", "max_fork=4")
    port = srv.port()
    for _ in range(3):
        a = ask_once(port, "pid")
        srv.remember(int(a) if a.isdigit() else 0)
    c = Client(port)
    srv.remember(int(c.ask("pid")))
    result = {}

    def slow():
        result["r"] = c.ask("sleep 1")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    srv.signal(signal.SIGTERM)
    t.join(30)
    check(result.get("r") == "slept", "SIGTERM: the request in hand is answered", result)
    c.close()
    finish(srv, "SIGTERM")
    check(wait_until(lambda: gone(srv.pid), 5), "SIGTERM: the master is gone")

    # SIGINT: at once; the client in the middle of a request is cut off.
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=2", "max_fork=4")
    port = srv.port()
    c = Client(port)
    srv.remember(int(c.ask("pid")))
    result = {}

    def slow2():
        try:
            result["r"] = c.ask("sleep 30")
        except OSError as e:
            result["r"] = "error %s" % e

    t = threading.Thread(target=slow2)
    t.start()
    time.sleep(0.3)
    t0 = time.time()
    srv.signal(signal.SIGINT)
    rc = srv.wait(20)
    t.join(30)
    check(rc == 0 and time.time() - t0 < 10, "SIGINT: the master stops at once, status 0", rc)
    check(result.get("r") in ("", None) or result.get("r", "").startswith("error"),
          "SIGINT: the request in hand is cut off", result)
    c.close()
    finish(srv, "SIGINT")
    # SIGHUP as SIGINT.
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=2")
    srv.workers()
    finish(srv, "SIGHUP", signal.SIGHUP)


def test_memory_limit():
    srv = Server(APP, "tcp=127.0.0.1", "min_fork=1", "max_fork=2", "memory_limit=16000000",
                 "fork_delay=0.01")
    port = srv.port()
    check(ask_once(port, "alloc 1000000") == "1000000", "memory_limit: small allocations work")
    c = Client(port)
    a = c.ask("pid")  # the worker that then gets the allocation
    srv.remember(int(a) if a.isdigit() else 0)
    try:
        r = c.ask("alloc 40000000")
    except OSError as e:
        r = "error %s" % e
    c.close()
    check(r == "" or "reset" in r, "memory_limit: an allocation past it fails the handler", r)
    check(wait_until(lambda: "not enough memory" in srv.log(), 10),
          "memory_limit: the worker reports 'not enough memory'", srv.log()[-800:])
    check(a.isdigit() and wait_until(lambda: gone(int(a)), 20), "memory_limit: that worker ends")
    b = ask_once(port, "pid")
    check(b.isdigit() and b != a, "memory_limit: the worker is replaced", (a, b))
    srv.remember(int(b) if b.isdigit() else 0)
    finish(srv, "memory_limit")


def test_two_pools():
    srv = Server(APP, "tcp=127.0.0.1", "pools=2", "min_fork=1", "max_fork=2")
    ports = srv.ports()
    check(len(ports) == 2 and "pool #2: listening" in srv.log(), "listen{} twice: two pools", ports)
    a = ask_once(ports[0][1], "pid")
    b = ask_once(ports[1][1], "pid")
    check(a.isdigit() and b.isdigit() and a != b, "each pool has its own workers", (a, b))
    for x in (a, b):
        srv.remember(int(x) if x.isdigit() else 0)
    finish(srv, "two pools")


def run_exe(args, **kw):
    return subprocess.run([EXE] + args, capture_output=True, text=True, timeout=60, cwd=ROOT, **kw)


def test_startup_errors():
    script = os.path.join(TMP, "nolisten.lua")
    with open(script, "w") as f:
        f.write("x = 1\n")
    p = run_exe([script])
    check(p.returncode == 3 and "called no listen" in p.stderr,
          "startup: no listen{} is exit 3 with a message", (p.returncode, p.stderr))
    bad = os.path.join(TMP, "syntax.lua")
    with open(bad, "w") as f:
        f.write("listen{ = }\n")
    p = run_exe([bad])
    check(p.returncode == 3 and "cannot load" in p.stderr, "startup: a syntax error is exit 3",
          (p.returncode, p.stderr))
    err = os.path.join(TMP, "error.lua")
    with open(err, "w") as f:
        f.write("error('the script failed')\n")
    p = run_exe([err])
    check(p.returncode == 3 and "the script failed" in p.stderr,
          "startup: a failing script is exit 3 with its error", (p.returncode, p.stderr))
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    used = holder.getsockname()[1]
    inuse = os.path.join(TMP, "inuse.lua")
    with open(inuse, "w") as f:
        f.write('listen{{proto="tcp", host="127.0.0.1", port=%d}, connect=function() end}\n' % used)
    p = run_exe([inuse])
    holder.close()
    check(p.returncode == 3 and "address already in use" in p.stderr and str(used) in p.stderr,
          "startup: a port in use is exit 3 naming the port", (p.returncode, p.stderr))
    for body, what in (("listen{}", "no listeners"),
                       ('listen{{proto="udp"}, connect=function() end}', "an unknown protocol"),
                       ('listen{{proto="tcp", host="127.0.0.1", port=0}}', "no connect handler"),
                       ('listen{{proto="interval", delay=0}, connect=function() end}', "a zero delay"),
                       ('listen{{proto="tcp", host="127.0.0.1", port=0}, min_fork=3, max_fork=2,'
                        ' connect=function() end}', "min_fork above max_fork"),
                       ('listen{{proto="tcp", host="127.0.0.1", port=0}, pre_fork=-1,'
                        ' connect=function() end}', "a negative pre_fork")):
        s = os.path.join(TMP, "bad.lua")
        with open(s, "w") as f:
            f.write(body + "\n")
        p = run_exe([s])
        check(p.returncode == 3 and "error while running" in p.stderr,
              "startup: listen{} with %s is exit 3" % what, (p.returncode, p.stderr[-300:]))
    p = run_exe(["--bogus", APP])
    check(p.returncode == 1 and "usage" in p.stderr, "options: an unknown option is exit 1")
    p = run_exe([])
    check(p.returncode == 1, "options: no script is exit 1")
    p = run_exe(["-h"])
    check(p.returncode == 0 and "--pidfile" in p.stdout, "options: -h prints the help")


def test_options():
    pidfile = os.path.join(TMP, "mb.pid")
    logfile = os.path.join(TMP, "mb.log")
    srv = Server(APP, "tcp=127.0.0.1", options=["-p", pidfile, "-l", logfile], wait=False)
    check(wait_until(lambda: os.path.exists(logfile) and "server started" in open(logfile).read(), 20),
          "options: -l logs to the file")
    check(wait_until(lambda: os.path.exists(pidfile) and open(pidfile).read().strip() == str(srv.pid), 5),
          "options: -p writes the master's pid")
    # A second server with the same pid file refuses to start.
    p = run_exe(["-p", pidfile, APP, "tcp=127.0.0.1"])
    check(p.returncode == 2 and "locked" in p.stderr, "options: a locked pid file is exit 2",
          (p.returncode, p.stderr))
    import re
    port = int(re.findall(r"port (\d+)", open(logfile).read())[0])
    a = ask_once(port, "pid")
    srv.remember(int(a) if a.isdigit() else 0)
    check(a.isdigit(), "options: the server with -p and -l serves")
    finish(srv, "options")
    check(not os.path.exists(pidfile), "options: the pid file is removed at the end")

    # -b: detaches once the listeners are up; the pid file names the daemon.
    pidfile = os.path.join(TMP, "bg.pid")
    logfile = os.path.join(TMP, "bg.log")
    p = run_exe(["-b", "-p", pidfile, "-l", logfile, APP, "tcp=127.0.0.1", "min_fork=1"])
    check(p.returncode == 0, "options: -b returns at once with status 0", p.returncode)
    ok = wait_until(lambda: os.path.exists(pidfile) and open(pidfile).read().strip().isdigit(), 10)
    check(ok, "options: -b writes the daemon's pid")
    if ok:
        dpid = int(open(pidfile).read())
        port = int(re.findall(r"port (\d+)", open(logfile).read())[0])
        a = ask_once(port, "pid")
        check(a.isdigit(), "options: the daemon serves", a)
        workers = children(dpid)
        os.kill(dpid, signal.SIGTERM)
        check(wait_until(lambda: gone(dpid) and all(gone(w) for w in workers), 30),
              "options: SIGTERM stops the daemon and its workers")
        for w in workers + [dpid]:
            if not gone(w):
                os.kill(w, signal.SIGKILL)
    # -b with a failing script still reports the failure to the caller.
    p = run_exe(["-b", "-l", logfile, os.path.join(TMP, "nolisten.lua")])
    check(p.returncode == 3, "options: -b with a script that calls no listen is exit 3", p.returncode)


TESTS = [test_listeners, test_concurrency, test_recycling, test_idle_timeout, test_timeout,
         test_intervals, test_signals, test_memory_limit, test_two_pools, test_startup_errors,
         test_options]

if __name__ == "__main__":
    if not os.path.exists(EXE):
        print("test_server: %s is missing (make lua51)" % EXE)
        print("moonbridge-server: 0 passed, 1 failed")
        sys.exit(1)
    for t in TESTS:
        if not wanted(t.__name__):
            continue
        try:
            t()
        except Exception as e:  # a broken test counts as a failure, the rest still run
            import traceback
            traceback.print_exc()
            check(False, t.__name__ + " raised " + repr(e))
    sys.exit(done("moonbridge-server"))

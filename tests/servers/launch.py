#!/usr/bin/env python3
"""Starts the protocol test servers on 127.0.0.1 with ports chosen at run time.

    python3 tests/servers/launch.py --env-file FILE [--only http,fault,ftp,smtp]
                                    [--max-seconds 900]

It installs nothing: it needs the PyPI packages httpbin, gunicorn, pyftpdlib and aiosmtpd
(scripts/requirements-test.txt). Once every server answers, it writes FILE (atomically) with
shell-compatible lines that tests read from the environment:

    SOCKIT_HTTPBIN_PORT   httpbin under gunicorn (gthread worker, keep-alive on);
                          GET /sockit/peers?tag=T counts the TCP connections that carried
                          requests with header X-Sockit-Tag: T
    SOCKIT_FAULT_PORT     the misbehaving HTTP server (see fault_http.py)
    SOCKIT_FTP_PORT       pyftpdlib, anonymous + SOCKIT_FTP_USER / SOCKIT_FTP_PASS
    SOCKIT_FTP_MASQ_PORT  pyftpdlib refusing EPSV and lying in its PASV replies
    SOCKIT_FTP_ROOT       the directory both FTP servers serve (tests compare files there)
    SOCKIT_SMTP_PORT      aiosmtpd offering AUTH PLAIN/LOGIN (SOCKIT_SMTP_USER / _PASS)
    SOCKIT_SMTP_AUTH_PORT aiosmtpd requiring AUTH
    SOCKIT_SMTP_HELO_PORT aiosmtpd refusing EHLO
    SOCKIT_SMTP_SPOOL     where the SMTP servers store NNNN.eml + NNNN.json per message
    SOCKIT_SERVERS_PID    this process (send it SIGTERM to stop everything)

It then runs until SIGTERM or SIGINT, until its standard input reaches end of file when
--stdin-eof is given, or for at most --max-seconds; then it stops every server, kills
gunicorn, and removes its temporary directories.
"""

import argparse
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the gunicorn child: get SIGTERM if the launcher dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


def _wait_port(port, deadline):
    """Waits, bounded, until something accepts connections on 127.0.0.1:port."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _http_ok(port, deadline):
    """Waits, bounded, until GET /get answers 200 on 127.0.0.1:port."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /get HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                s.settimeout(2)
                data = s.recv(64)
                if data.startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


class Gunicorn:
    def __init__(self, workdir):
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.sock.getsockname()[1]
        self.log = open(os.path.join(workdir, "gunicorn.log"), "wb")
        fd = self.sock.fileno()
        cmd = [
            sys.executable, "-m", "gunicorn",
            "--bind", "fd://%d" % fd,
            "--worker-class", "gthread", "--workers", "1", "--threads", "16",
            "--keep-alive", "30", "--timeout", "120", "--graceful-timeout", "2",
            "--chdir", HERE, "httpbin_app:app",
        ]
        self.proc = subprocess.Popen(
            cmd, pass_fds=(fd,), stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )
        self.sock.close()  # gunicorn holds its own copy now

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env-file", required=True)
    ap.add_argument("--only", default="http,fault,ftp,smtp")
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--stdin-eof", action="store_true")
    args = ap.parse_args()
    wanted = set(x.strip() for x in args.only.split(",") if x.strip())
    unknown = wanted - {"http", "fault", "ftp", "smtp"}
    if unknown:
        ap.error("unknown servers: " + ", ".join(sorted(unknown)))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    workdir = tempfile.mkdtemp(prefix="sockit-servers-")
    env = {"SOCKIT_SERVERS_PID": str(os.getpid())}
    stoppers = []
    ok = True
    try:
        deadline = time.monotonic() + 60
        if "http" in wanted:
            g = Gunicorn(workdir)
            stoppers.append(g.stop)
            if not _http_ok(g.port, deadline):
                sys.stderr.write("httpbin under gunicorn did not start; see its log:\n")
                with open(os.path.join(workdir, "gunicorn.log"), "rb") as f:
                    sys.stderr.write(f.read()[-4000:].decode("utf-8", "replace"))
                ok = False
            env["SOCKIT_HTTPBIN_PORT"] = str(g.port)
        if ok and "fault" in wanted:
            from fault_http import FaultServer

            fs = FaultServer()
            fs.start()
            stoppers.append(fs.stop)
            env["SOCKIT_FAULT_PORT"] = str(fs.port)
        if ok and "ftp" in wanted:
            from ftp_server import PASSWORD, USER, FtpServers

            root = os.path.join(workdir, "ftp")
            os.mkdir(root)
            ftp = FtpServers(root)
            ftp.start()
            stoppers.append(ftp.stop)
            ok = _wait_port(ftp.port, deadline) and _wait_port(ftp.masquerade_port, deadline)
            env.update(
                SOCKIT_FTP_PORT=str(ftp.port),
                SOCKIT_FTP_MASQ_PORT=str(ftp.masquerade_port),
                SOCKIT_FTP_ROOT=root,
                SOCKIT_FTP_USER=USER,
                SOCKIT_FTP_PASS=PASSWORD,
            )
        if ok and "smtp" in wanted:
            from smtp_server import PASSWORD as SPASS, USER as SUSER, SmtpServers

            spool = os.path.join(workdir, "smtp")
            os.mkdir(spool)
            smtp = SmtpServers(spool)
            smtp.start()
            stoppers.append(smtp.stop)
            env.update(
                SOCKIT_SMTP_PORT=str(smtp.main.port),
                SOCKIT_SMTP_AUTH_PORT=str(smtp.auth.port),
                SOCKIT_SMTP_HELO_PORT=str(smtp.helo.port),
                SOCKIT_SMTP_SPOOL=spool,
                SOCKIT_SMTP_USER=SUSER,
                SOCKIT_SMTP_PASS=SPASS,
            )
        if not ok:
            return 1

        tmp = args.env_file + ".tmp"
        with open(tmp, "w") as f:
            for k, v in env.items():
                f.write("%s=%s\n" % (k, v))
        os.rename(tmp, args.env_file)

        if args.stdin_eof:
            threading.Thread(
                target=lambda: (sys.stdin.read(), stop.set()), daemon=True
            ).start()
        end = time.monotonic() + args.max_seconds
        while not stop.is_set() and time.monotonic() < end:
            stop.wait(0.5)
        return 0
    finally:
        for s in reversed(stoppers):
            try:
                s()
            except Exception as e:  # keep stopping the others
                sys.stderr.write("stopping a server failed: %r\n" % (e,))
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            os.unlink(args.env_file)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())

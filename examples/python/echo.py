"""TCP echo through sockit from Python: both the server and the client are sockit sockets.

    pip install .                      # from the top of the repository (see python/README.md)
    python3 examples/python/echo.py [line ...]

The server listens on 127.0.0.1 (a port the system picks) and runs in a thread: it accepts
one connection and sends every line back until the client closes. The client sends the
lines given on the command line (or a few of its own) and prints what comes back. Exits 0
when every line came back unchanged.
"""

import sys
import threading

import sockit


def serve_one(listener, log):
    """Accepts one connection and echoes it line by line until the peer closes."""
    with listener.accept() as conn:
        conn.settimeout(10)
        addr, port = conn.getpeername()
        log(f"[server] connection from {addr} port {port}")
        n = 0
        for line in conn:  # the lines until the peer closes
            conn.send(line + b"\n")
            n += 1
        log(f"[server] peer closed after {n} lines")


def echo(lines, log=print):
    """Runs the server and a client; returns the lines that came back."""
    with sockit.bind("127.0.0.1", 0) as listener:
        listener.settimeout(10)  # the server never waits forever
        host, port = listener.getsockname()
        log(f"[server] sockit {sockit.version()} listening on {host} port {port}")
        thread = threading.Thread(target=serve_one, args=(listener, log))
        thread.start()
        back = []
        try:
            with sockit.connect(host, port, timeout=5) as client:
                client.settimeout(5)
                for line in lines:
                    client.send(line + b"\n")
                    got = client.receive_line()
                    log(f"[client] sent {line!r}, received {got!r}")
                    back.append(got)
        finally:
            thread.join(15)
    return back


def main(argv):
    lines = [a.encode() for a in argv] or [b"hello from Python", b"sockit from pip", b"bye"]
    back = echo(lines)
    if back == lines:
        print("echo: every line came back unchanged")
        return 0
    print("echo: MISMATCH")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""A small HTTPS server for the LuaSec tests (tests/lua/lib_luasec.lua).

    python3 tests/servers/https_server.py --cert C --key K --port-file F

Listens on 127.0.0.1 on a port chosen by the system, writes the port to F once it
accepts connections, and serves until it gets SIGTERM:

    GET  /hello          "hello over tls\\n" with Content-Length
    GET  /bytes/N        N bytes (b"0123456789" repeated), with Content-Length
    GET  /chunked/N      N lines "line i\\n", each its own chunk (Transfer-Encoding: chunked)
    POST /echo           the request body back, with its length in X-Received
    GET  /redirect       302 to /hello
    anything else        404 "not found\\n"
"""

import argparse
import http.server
import os
import signal
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        if path == "/hello":
            self._send(200, b"hello over tls\n", [("Content-Type", "text/plain")])
        elif path.startswith("/bytes/"):
            n = int(path.split("/")[2])
            data = (b"0123456789" * (n // 10 + 1))[:n]
            self._send(200, data)
        elif path.startswith("/chunked/"):
            n = int(path.split("/")[2])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                line = b"line %d\n" % i
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/redirect":
            self._send(302, b"", [("Location", "/hello")])
        else:
            self._send(404, b"not found\n")

    def do_POST(self):
        if self.path != "/echo":
            self._send(404, b"not found\n")
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(200, body, [("X-Received", str(len(body)))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--max-seconds", type=float, default=900)
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    # Bounded in time: the server stops by itself if nobody stops it.
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""httpbin wrapped with a connection recorder, served by gunicorn for the protocol tests.

Every request that carries an ``X-Sockit-Tag`` header is recorded with the client's TCP
port (``REMOTE_PORT``). ``GET /sockit/peers?tag=T`` answers with JSON
``{"tag": T, "requests": n, "connections": k, "ports": [...]}``: ``k`` distinct ports for
``n`` requests proves (``k == 1``) that a client reused one keep-alive connection.
``/sockit/...`` requests themselves are never recorded.

Run with a threaded worker, or gunicorn closes every connection after one request:
``gunicorn -k gthread --threads 8 -w 1 --keep-alive 30 httpbin_app:app``.
"""

import json
import threading

import httpbin

_lock = threading.Lock()
_records = {}  # tag -> list of client ports, one entry per request
_MAX_TAGS = 10000
_MAX_PER_TAG = 100000


def _peers(environ, start_response):
    query = environ.get("QUERY_STRING", "")
    tag = ""
    for part in query.split("&"):
        if part.startswith("tag="):
            tag = part[4:]
    with _lock:
        ports = list(_records.get(tag, []))
    body = json.dumps(
        {
            "tag": tag,
            "requests": len(ports),
            "connections": len(set(ports)),
            "ports": ports,
        }
    ).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/sockit/peers":
        return _peers(environ, start_response)
    tag = environ.get("HTTP_X_SOCKIT_TAG")
    if tag is not None:
        port = int(environ.get("REMOTE_PORT", "0") or 0)
        with _lock:
            if tag in _records or len(_records) < _MAX_TAGS:
                ports = _records.setdefault(tag, [])
                if len(ports) < _MAX_PER_TAG:
                    ports.append(port)
    return httpbin.app(environ, start_response)

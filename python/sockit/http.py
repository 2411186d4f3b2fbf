"""HTTP/1.1 client: ``get``, ``post``, ``request`` and a :class:`Session` that keeps
connections alive, over sockit's HTTP client (``sockit_http_perform``).

    import sockit
    r = sockit.http.get("http://127.0.0.1:8080/get", params={"a": "1"}, timeout=10)
    r.raise_for_status()
    print(r.status_code, r.headers["Content-Type"], r.json())

    with sockit.http.Session(timeout=10) as s:          # keep-alive, connection reuse
        s.post(url, data=open("big.bin", "rb"))          # streamed from the file
        s.get(url, sink="copy.bin", progress=print)      # streamed into a file

Bodies stream: ``data`` may be bytes, str, a dict (form-encoded), a file (read through
its descriptor, natively), an iterable of chunks or any :class:`sockit.ltn12.Source`;
``sink`` may be a path, a file, a callable or a :class:`sockit.ltn12.Sink`, and the body
then never sits in memory. The transfer itself runs inside sockit with the GIL released.

Every status code is a response (``raise_for_status`` raises :class:`sockit.HTTPError`
for 4xx and 5xx). Failures of the exchange raise sockit's errors (``Timeout``,
``Closed``, ``ConnectionRefused``, ``ProtocolError`` for a malformed response or too many
redirects, ``Unsupported`` for https:// ...); the error's ``response`` is what did
arrive, and ``partial`` the body received so far when there was no sink.
"""

import json as _json
import os
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlencode

from . import _callbacks as cb
from . import ltn12
from ._ffi import (
    NULL, buffer_bytes, buffer_text, check, cstr, data_arg, ffi, give_buffer, lib,
    make_error, take_buffer,
)
from .errors import HTTPError

__all__ = ["Response", "Session", "Headers", "request", "get", "post", "put", "patch",
           "delete", "head", "options"]

Timeout = Union[None, float, Tuple[Optional[float], Optional[float]]]
HeadersArg = Union[None, Mapping[str, Any], Iterable[Tuple[str, Any]]]


class Headers(Mapping[str, str]):
    """Header fields, looked up in any case; repeated fields are joined with ", "
    (LuaSocket's headers table). ``items()`` gives lower-cased names; :meth:`get_all`
    gives each value of a repeated field."""

    def __init__(self, pairs: List[Tuple[str, str]]) -> None:
        self._pairs = pairs
        d: Dict[str, str] = {}
        for k, v in pairs:
            k = k.lower()
            d[k] = d[k] + ", " + v if k in d else v
        self._d = d

    def __getitem__(self, key: str) -> str:
        return self._d[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._d

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def get_all(self, key: str) -> List[str]:
        k = key.lower()
        return [v for n, v in self._pairs if n.lower() == k]

    def pairs(self) -> List[Tuple[str, str]]:
        """The fields as received, in order."""
        return list(self._pairs)

    def __repr__(self) -> str:
        return "Headers(%r)" % (self._d,)


class Response:
    """An HTTP response: ``status_code``, ``reason``, ``headers``, ``trailers``,
    ``content`` (empty when the body went to a sink), ``url`` (after redirects),
    ``received`` (body bytes), ``redirects`` (followed), ``reused`` (whether the
    connection came from the pool)."""

    __slots__ = ("_h", "status_code", "content", "received", "redirects", "reused",
                 "_headers", "_trailers", "_url", "_status", "__weakref__")

    def __init__(self, handle: Any, collect: bool) -> None:
        self._h = handle
        self.status_code = lib.sockit_http_response_code(handle)
        info = ffi.new("uint64_t *")
        red = ffi.new("int[2]")
        lib.sockit_http_response_info(handle, info, red, red + 1)
        self.received = int(info[0])
        self.redirects = red[0]
        self.reused = bool(red[1])
        if collect:
            buf = take_buffer()
            try:
                lib.sockit_http_response_body(handle, buf)
                self.content = buffer_bytes(buf)
            finally:
                give_buffer(buf)
        else:
            self.content = b""
        self._headers: Optional[Headers] = None
        self._trailers: Optional[Headers] = None
        self._url: Optional[str] = None
        self._status: Optional[Tuple[str, str]] = None

    def _fields(self, trailers: int) -> Headers:
        n = ffi.new("size_t *")
        check(lib.sockit_http_response_field_count(self._h, trailers, n))
        name = take_buffer()
        value = take_buffer()
        pairs = []
        try:
            for i in range(n[0]):
                check(lib.sockit_http_response_field_at(self._h, trailers, i, name, value))
                pairs.append((buffer_bytes(name).decode("latin-1"),
                              buffer_bytes(value).decode("latin-1")))
        finally:
            give_buffer(name)
            give_buffer(value)
        return Headers(pairs)

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = self._fields(0)
        return self._headers

    @property
    def trailers(self) -> Headers:
        """Trailer fields of a chunked body (usually none)."""
        if self._trailers is None:
            self._trailers = self._fields(1)
        return self._trailers

    def _status_parts(self) -> Tuple[str, str]:
        if self._status is None:
            line = take_buffer()
            reason = take_buffer()
            try:
                check(lib.sockit_http_response_status(self._h, line, reason))
                self._status = (buffer_bytes(line).decode("latin-1"),
                                buffer_bytes(reason).decode("latin-1"))
            finally:
                give_buffer(line)
                give_buffer(reason)
        return self._status

    @property
    def status_line(self) -> str:
        """The status line as received ("HTTP/1.1 200 OK")."""
        return self._status_parts()[0]

    @property
    def reason(self) -> str:
        return self._status_parts()[1]

    @property
    def url(self) -> str:
        """The URL of the last request made (after redirects)."""
        if self._url is None:
            buf = take_buffer()
            try:
                check(lib.sockit_http_response_url(self._h, buf))
                self._url = buffer_text(buf)
            finally:
                give_buffer(buf)
        return self._url

    @property
    def ok(self) -> bool:
        return 0 < self.status_code < 400

    @property
    def encoding(self) -> Optional[str]:
        """The charset of the Content-Type, if it names one."""
        ct = self.headers.get("content-type", "")
        for part in ct.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                return v.strip('"')
        return None

    @property
    def text(self) -> str:
        """The body decoded (the Content-Type's charset, else UTF-8)."""
        return self.content.decode(self.encoding or "utf-8", "replace")

    def json(self, **kw: Any) -> Any:
        return _json.loads(self.content, **kw)

    def raise_for_status(self) -> "Response":
        """Raises :class:`sockit.HTTPError` for a 4xx or 5xx status; returns self."""
        if 400 <= self.status_code < 600:
            kind = "client" if self.status_code < 500 else "server"
            raise HTTPError("%d %s error: %s for %s" % (self.status_code, kind, self.reason,
                                                       self.url), response=self)
        return self

    def __repr__(self) -> str:
        return "<sockit.http.Response [%d]>" % self.status_code

    def __bool__(self) -> bool:
        return self.ok


def _timeouts(timeout: Timeout) -> Tuple[float, float]:
    if timeout is None:
        return -1.0, -1.0
    if isinstance(timeout, tuple):
        b, t = timeout
        return (-1.0 if b is None else float(b)), (-1.0 if t is None else float(t))
    return float(timeout), -1.0


def _header_items(headers: HeadersArg) -> Iterable[Tuple[str, Any]]:
    if headers is None:
        return ()
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def _body_size(f: Any) -> Optional[int]:
    try:
        st = os.fstat(f.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    import stat

    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        return st.st_size - f.tell()
    except (OSError, ValueError):
        return None


class _Options:
    """Per-session defaults that a call's own arguments override."""

    __slots__ = ("headers", "auth", "timeout", "proxy", "allow_redirects", "max_redirects")

    def __init__(self, headers: HeadersArg = None, auth: Optional[Tuple[str, str]] = None,
                 timeout: Timeout = 60.0, proxy: Optional[str] = None,
                 allow_redirects: bool = True, max_redirects: int = 5) -> None:
        self.headers = list(_header_items(headers))
        self.auth = auth
        self.timeout = timeout
        self.proxy = proxy
        self.allow_redirects = allow_redirects
        self.max_redirects = max_redirects


_DEFAULTS = _Options()
_UNSET: Any = object()


def _perform(client: Any, opts: _Options, method: str, url: str, *, params: Any = None,
             data: Any = None, json: Any = None, headers: HeadersArg = None,
             auth: Any = _UNSET, timeout: Any = _UNSET, allow_redirects: Any = _UNSET,
             max_redirects: Any = _UNSET, proxy: Any = _UNSET,
             proxies: Optional[Mapping[str, str]] = None, sink: Any = None,
             progress: Optional[Callable[[int], Any]] = None,
             content_length: Optional[int] = None, expect_continue: bool = False,
             keep_alive: bool = True,
             limits: Optional[Tuple[int, int]] = None) -> Response:
    if params:
        q = urlencode(params, doseq=True)
        url = url + ("&" if "?" in url else "?") + q
    out = ffi.new("sockit_http_request **")
    check(lib.sockit_http_request_new(cstr(method, "method"), cstr(url, "url"), out))
    req = ffi.gc(out[0], lib.sockit_http_request_free)
    keep: List[Any] = []

    for name, value in opts.headers:
        check(lib.sockit_http_request_set_header(req, cstr(name, "header name"),
                                                 cstr(str(value), "header value")))
    for name, value in _header_items(headers):
        check(lib.sockit_http_request_set_header(
            req, cstr(name, "header name"),
            NULL if value is None else cstr(str(value), "header value")))

    if json is not None:
        data = _json.dumps(json).encode("utf-8")
        if headers is None or "content-type" not in {k.lower() for k, _ in _header_items(headers)}:
            check(lib.sockit_http_request_set_header(req, b"Content-Type", b"application/json"))
    if data is not None:
        if isinstance(data, Mapping):
            body = urlencode(data, doseq=True).encode("ascii")
            check(lib.sockit_http_request_set_header(
                req, b"Content-Type", b"application/x-www-form-urlencoded"))
            check(lib.sockit_http_request_set_body(req, body, len(body)))
        elif isinstance(data, (bytes, bytearray, memoryview, str)):
            body = data_arg(data)
            check(lib.sockit_http_request_set_body(req, body, len(body)))
        else:
            size = content_length
            if size is None and hasattr(data, "read"):
                size = _body_size(data)
            src = ltn12.source(data)
            if size is None:
                size = src.size
            keep.append(src)
            # set_body_source takes the source.
            check(lib.sockit_http_request_set_body_source(req, src._take(),
                                                          -1 if size is None else size))

    a = opts.auth if auth is _UNSET else auth
    if a is not None:
        user, password = a
        check(lib.sockit_http_request_set_auth(req, cstr(user, "user"), cstr(password, "password")))
    b, t = _timeouts(opts.timeout if timeout is _UNSET else timeout)
    check(lib.sockit_http_request_set_timeout(req, b, t))
    follow = opts.allow_redirects if allow_redirects is _UNSET else allow_redirects
    maxr = opts.max_redirects if max_redirects is _UNSET else max_redirects
    if not follow or maxr != 5:
        check(lib.sockit_http_request_set_redirect(req, 1 if follow else 0, maxr))
    p = opts.proxy if proxy is _UNSET else proxy
    if p is None and proxies:
        p = proxies.get("http")
    if p is not None:
        check(lib.sockit_http_request_set_proxy(req, cstr(p, "proxy")))
    if expect_continue:
        check(lib.sockit_http_request_set_expect_continue(req, 1))
    if not keep_alive:
        check(lib.sockit_http_request_set_keep_alive(req, 0))
    if limits is not None:
        check(lib.sockit_http_request_set_limits(req, limits[0], limits[1]))

    snk_ptr = NULL
    snk = None
    if sink is not None:
        snk = ltn12.sink(sink)
        if progress is not None:
            snk = ltn12.Sink._callback(lib.sockit_sink_callback, cb.ProgressSink(snk, progress))
        snk_ptr = snk._ptr()
    elif progress is not None:
        inner = ltn12.Sink.buffer()
        snk = ltn12.Sink._callback(lib.sockit_sink_callback, cb.ProgressSink(inner, progress))
        snk_ptr = snk._ptr()

    rout = ffi.new("sockit_http_response **")
    check(lib.sockit_http_response_new(rout))
    resp_h = ffi.gc(rout[0], lib.sockit_http_response_free)
    st = lib.sockit_http_perform(client, req, snk_ptr, resp_h)
    collect = sink is None and progress is None
    if st:
        err = make_error(st)
        resp = Response(resp_h, collect)
        if progress is not None and sink is None:
            resp.content = inner.getvalue()
        err.partial = resp.content
        err.response = resp  # type: ignore[attr-defined]
        cause = err.__cause__
        if cause is not None:
            err.__cause__ = None
            raise cause from err
        raise err
    resp = Response(resp_h, collect)
    if progress is not None and sink is None:
        resp.content = inner.getvalue()
    return resp


class Session:
    """Requests sharing connections (keep-alive), defaults and a pool.

    ``headers``, ``auth`` (user, password), ``timeout`` (seconds per wait, or
    ``(block, total)``; default 60 s per wait), ``proxy`` ("http://host:port"),
    ``allow_redirects`` and ``max_redirects`` are defaults each call may override.
    ``pool_size`` idle connections are kept per client for ``pool_idle`` seconds.

    A session may be used from several threads at once: each concurrent request gets a
    sockit client of its own (clients are kept and reused), so threads do not wait for
    each other. Use it in a ``with`` block or call :meth:`close`.
    """

    def __init__(self, *, headers: HeadersArg = None, auth: Optional[Tuple[str, str]] = None,
                 timeout: Timeout = 60.0, proxy: Optional[str] = None,
                 allow_redirects: bool = True, max_redirects: int = 5, pool_size: int = 8,
                 pool_idle: float = 60.0) -> None:
        self.defaults = _Options(headers, auth, timeout, proxy, allow_redirects, max_redirects)
        self.pool_size = pool_size
        self.pool_idle = pool_idle
        self._idle: List[Any] = []
        self._all: List[Any] = []
        self._lock = threading.Lock()
        self._closed = False

    def _client(self) -> Any:
        try:
            return self._idle.pop()
        except IndexError:
            pass
        out = ffi.new("sockit_http **")
        check(lib.sockit_http_new(out))
        c = ffi.gc(out[0], lib.sockit_http_free)
        check(lib.sockit_http_set_pool(c, self.pool_size, float(self.pool_idle)))
        with self._lock:
            if self._closed:
                raise ValueError("the session is closed")
            self._all.append(c)
        return c

    def request(self, method: str, url: str, **kw: Any) -> Response:
        """Performs one request; the keyword arguments are those of
        :func:`sockit.http.request`."""
        if self._closed:
            raise ValueError("the session is closed")
        c = self._client()
        try:
            return _perform(c, self.defaults, method, url, **kw)
        finally:
            self._idle.append(c)

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, data: Any = None, **kw: Any) -> Response:
        return self.request("POST", url, data=data, **kw)

    def put(self, url: str, data: Any = None, **kw: Any) -> Response:
        return self.request("PUT", url, data=data, **kw)

    def patch(self, url: str, data: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", url, data=data, **kw)

    def delete(self, url: str, **kw: Any) -> Response:
        return self.request("DELETE", url, **kw)

    def head(self, url: str, **kw: Any) -> Response:
        return self.request("HEAD", url, **kw)

    def options(self, url: str, **kw: Any) -> Response:
        return self.request("OPTIONS", url, **kw)

    def idle_count(self) -> int:
        """Idle keep-alive connections held now (over all of the session's clients)."""
        n = ffi.new("size_t *")
        total = 0
        for c in list(self._all):
            check(lib.sockit_http_idle_count(c, n))
            total += n[0]
        return total

    def close_idle(self) -> None:
        for c in list(self._all):
            check(lib.sockit_http_close_idle(c))

    def close(self) -> None:
        """Closes every connection; the session can no longer be used."""
        with self._lock:
            self._closed = True
            clients, self._all, self._idle = self._all, [], []
        for c in clients:
            lib.sockit_http_close_idle(c)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def request(method: str, url: str, *, params: Any = None, data: Any = None, json: Any = None,
            headers: HeadersArg = None, auth: Optional[Tuple[str, str]] = None,
            timeout: Timeout = 60.0, allow_redirects: bool = True, max_redirects: int = 5,
            proxy: Optional[str] = None, proxies: Optional[Mapping[str, str]] = None,
            sink: Any = None, progress: Optional[Callable[[int], Any]] = None,
            content_length: Optional[int] = None, expect_continue: bool = False,
            keep_alive: bool = True, limits: Optional[Tuple[int, int]] = None) -> Response:
    """One request on a connection of its own (use a :class:`Session` to reuse them).

    ``params``: a mapping or pairs appended to the URL's query. ``data``: the body
    (bytes, str, a form mapping, a file, an iterable of chunks or a Source; sent with
    Content-Length when its size is known, else chunked; ``content_length`` gives it).
    ``json``: a value sent as application/json. ``headers``: a mapping or pairs (a value
    of None removes the field). ``auth``: Basic credentials, never sent to another
    origin after a redirect. ``timeout``: seconds per wait or ``(block, total)``
    (``None``: no limit). ``allow_redirects``/``max_redirects``: redirects followed.
    ``proxy`` (or requests' ``proxies={"http": ...}``): an HTTP proxy. ``sink``: where the
    body goes instead of ``content`` (a path, a file, a callable or a Sink).
    ``progress``: ``progress(bytes_so_far)`` after each chunk of the body. ``limits``:
    (max head bytes, max header fields) of the response.
    """
    return _perform(NULL, _DEFAULTS, method, url, params=params, data=data, json=json,
                    headers=headers, auth=auth, timeout=timeout,
                    allow_redirects=allow_redirects, max_redirects=max_redirects, proxy=proxy,
                    proxies=proxies, sink=sink, progress=progress,
                    content_length=content_length, expect_continue=expect_continue,
                    keep_alive=keep_alive, limits=limits)


def get(url: str, **kw: Any) -> Response:
    """GET ``url`` (arguments as :func:`request`)."""
    return request("GET", url, **kw)


def post(url: str, data: Any = None, **kw: Any) -> Response:
    """POST ``data`` to ``url`` (arguments as :func:`request`)."""
    return request("POST", url, data=data, **kw)


def put(url: str, data: Any = None, **kw: Any) -> Response:
    return request("PUT", url, data=data, **kw)


def patch(url: str, data: Any = None, **kw: Any) -> Response:
    return request("PATCH", url, data=data, **kw)


def delete(url: str, **kw: Any) -> Response:
    return request("DELETE", url, **kw)


def head(url: str, **kw: Any) -> Response:
    return request("HEAD", url, **kw)


def options(url: str, **kw: Any) -> Response:
    return request("OPTIONS", url, **kw)

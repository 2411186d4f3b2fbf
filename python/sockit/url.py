"""LuaSocket's ``socket.url``: parse, build, absolute, escape, unescape, build_path and
parse_path, over sockit's URL functions.

    from sockit import url
    u = url.parse("http://user:pw@example.org:8080/a/b;p?q=1#frag")
    u.host, u.port, u.path                          # 'example.org', '8080', '/a/b'
    url.absolute("http://a/b/c/d;p?q", "../g")      # 'http://a/b/g'

A parsed URL is a :class:`URL`: its fields (LuaSocket's names) are ``None`` when absent,
and ``str(u)`` builds it back.
"""

from dataclasses import dataclass, fields
from typing import Any, Dict, List, Optional, Union

from ._ffi import buffer_text, call_into, check, cstr, data_arg, ffi, give_buffer, lib, take_buffer

__all__ = ["URL", "parse", "build", "absolute", "escape", "unescape", "unescape_to_bytes",
           "build_path", "parse_path"]

_PARTS = ("scheme", "authority", "userinfo", "user", "password", "host", "port", "path",
          "params", "query", "fragment")


@dataclass
class URL:
    """The parts of ``scheme://user:password@host:port/path;params?query#fragment``
    (``authority`` is ``userinfo@host:port``, ``userinfo`` is ``user:password``)."""

    scheme: Optional[str] = None
    authority: Optional[str] = None
    userinfo: Optional[str] = None
    user: Optional[str] = None
    password: Optional[str] = None
    host: Optional[str] = None
    port: Optional[str] = None
    path: Optional[str] = None
    params: Optional[str] = None
    query: Optional[str] = None
    fragment: Optional[str] = None

    def __str__(self) -> str:
        return build(self)

    def as_dict(self) -> Dict[str, str]:
        """The fields that are present (LuaSocket's parsed table)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def parse(text: str, default: Optional[Union[URL, Dict[str, str]]] = None) -> URL:
    """Splits ``text`` into its parts; ``default`` fills the parts it lacks. A malformed
    URL raises :class:`sockit.InvalidArgument`."""
    out = ffi.new("sockit_url **")
    check(lib.sockit_url_parse(cstr(text, "url"), out))
    h = ffi.gc(out[0], lib.sockit_url_free)
    buf = take_buffer()
    present = ffi.new("bool *")
    values = {}
    try:
        for i, name in enumerate(_PARTS):
            check(lib.sockit_url_get(h, i, buf, present))
            values[name] = buffer_text(buf) if present[0] else None
    finally:
        give_buffer(buf)
    if default is not None:
        d = default.as_dict() if isinstance(default, URL) else dict(default)
        for k, v in d.items():
            if values.get(k) is None:
                values[k] = v
    return URL(**values)


def build(parts: Union[URL, Dict[str, Any]]) -> str:
    """The URL string of ``parts`` (host, port, user and password take precedence over
    authority and userinfo, as in LuaSocket)."""
    d = parts.as_dict() if isinstance(parts, URL) else parts
    out = ffi.new("sockit_url **")
    check(lib.sockit_url_new(out))
    h = ffi.gc(out[0], lib.sockit_url_free)
    for i, name in enumerate(_PARTS):
        v = d.get(name)
        if v is not None:
            check(lib.sockit_url_set(h, i, cstr(str(v), name)))
    return call_into(lib.sockit_url_build, h).decode("utf-8", "surrogateescape")


def absolute(base: Union[str, URL], relative: Union[str, URL]) -> str:
    """``relative`` resolved against ``base`` (RFC 3986, section 5.2)."""
    return call_into(lib.sockit_url_absolute, cstr(str(base), "base"),
                     cstr(str(relative), "relative")).decode("utf-8", "surrogateescape")


def _bytes_fn(fn: Any, data: Any) -> bytes:
    data = data_arg(data)
    return call_into(fn, data, len(data))


def escape(data: Union[str, bytes]) -> str:
    """Every byte but ASCII letters, digits and "_" as ``%xx`` (str is UTF-8)."""
    return _bytes_fn(lib.sockit_url_escape, data).decode("ascii")


def unescape_to_bytes(data: Union[str, bytes]) -> bytes:
    """Every ``%XX`` as its byte."""
    return _bytes_fn(lib.sockit_url_unescape, data)


def unescape(data: Union[str, bytes]) -> str:
    """Every ``%XX`` as its byte, the result decoded as UTF-8 (undecodable bytes kept as
    surrogate escapes)."""
    return unescape_to_bytes(data).decode("utf-8", "surrogateescape")


def build_path(segments: List[str], unsafe: bool = False) -> str:
    """LuaSocket's ``build_path``: the segments joined with "/", each protected (unless
    ``unsafe``) as a path segment must be."""
    out = []
    for seg in segments:
        out.append(seg if unsafe else _bytes_fn(lib.sockit_url_protect_segment, seg).decode("ascii"))
    return "/".join(out)


def parse_path(path: str) -> List[str]:
    """LuaSocket's ``parse_path``: the unescaped segments of ``path`` (empty segments
    dropped)."""
    return [unescape(s) for s in path.split("/") if s]

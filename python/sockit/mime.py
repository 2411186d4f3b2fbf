"""LuaSocket's ``mime`` module: the low-level functions (b64, unb64, qp, unqp, wrp,
qpwrp, eol, dot) and the high-level filters (encode, decode, wrap, normalize, stuff),
which are native :class:`sockit.ltn12.Filter` objects.

    from sockit import mime
    mime.encode("base64").run(b"hello")           # b'aGVsbG8='
    a, b = mime.b64(b"hello", b" world")           # the part that needs no padding, the rest

The low-level functions follow LuaSocket: ``C`` is the pending input, ``D`` the next
chunk or ``None`` at the end, and the results are what could be produced and what is
left for the next call. Bytes in, bytes out (str is encoded as UTF-8).
"""

from typing import Any, Optional, Tuple

from ._ffi import NULL, check, data_arg, ffi, give_buffer, buffer_bytes, lib, take_buffer
from .ltn12 import Filter

__all__ = [
    "b64", "unb64", "qp", "unqp", "wrp", "qpwrp", "eol", "dot",
    "encode", "decode", "wrap", "normalize", "stuff",
    "b64encode", "b64decode", "qpencode", "qpdecode",
]

CRLF = b"\r\n"


def _opt(d: Optional[Any]) -> Tuple[Any, int]:
    if d is None:
        return NULL, 0
    d = data_arg(d)
    return d, len(d)


def _two(fn: Any, c: Any, d: Optional[Any], *extra: Any) -> Tuple[bytes, bytes]:
    c = data_arg(c)
    dp, dn = _opt(d)
    a = take_buffer()
    b = take_buffer()
    try:
        check(fn(c, len(c), dp, dn, *extra, a, b))
        return buffer_bytes(a), buffer_bytes(b)
    finally:
        give_buffer(a)
        give_buffer(b)


def b64(c: Any, d: Optional[Any] = None) -> Tuple[bytes, bytes]:
    """``mime.b64(C, D)``: the base64 of the largest prefix of C..D needing no padding,
    and the bytes left; with D None everything is encoded, padded."""
    return _two(lib.sockit_mime_b64, c, d)


def unb64(c: Any, d: Optional[Any] = None) -> Tuple[bytes, bytes]:
    """``mime.unb64(C, D)``: the decoding of the complete groups, and the rest."""
    return _two(lib.sockit_mime_unb64, c, d)


def qp(c: Any, d: Optional[Any] = None, marker: Optional[bytes] = None) -> Tuple[bytes, bytes]:
    """``mime.qp(C, D, marker)``: quoted-printable encoding (CRLF becomes ``marker``;
    None = CRLF, text mode; b"=0D=0A" is binary mode)."""
    mp, mn = _opt(marker)
    c = data_arg(c)
    dp, dn = _opt(d)
    a = take_buffer()
    b = take_buffer()
    try:
        check(lib.sockit_mime_qp(c, len(c), dp, dn, mp, mn, a, b))
        return buffer_bytes(a), buffer_bytes(b)
    finally:
        give_buffer(a)
        give_buffer(b)


def unqp(c: Any, d: Optional[Any] = None) -> Tuple[bytes, bytes]:
    """``mime.unqp(C, D)``: quoted-printable decoding."""
    return _two(lib.sockit_mime_unqp, c, d)


def _wrap_fn(fn: Any, left: int, c: Optional[Any], length: int) -> Tuple[bytes, int]:
    cp, cn = _opt(c)
    a = take_buffer()
    out = ffi.new("int64_t *")
    try:
        check(fn(left, cp, cn, length, a, out))
        return buffer_bytes(a), int(out[0])
    finally:
        give_buffer(a)


def wrp(left: int, c: Optional[Any], length: int = 76) -> Tuple[bytes, int]:
    """``mime.wrp(n, C, length)``: wraps C at ``length`` columns with ``left`` columns
    left on the line; returns the output and the columns left."""
    return _wrap_fn(lib.sockit_mime_wrp, left, c, length)


def qpwrp(left: int, c: Optional[Any], length: int = 76) -> Tuple[bytes, int]:
    """``mime.qpwrp(n, C, length)``: as :func:`wrp` with quoted-printable soft breaks."""
    return _wrap_fn(lib.sockit_mime_qpwrp, left, c, length)


def eol(ctx: int, d: Optional[Any], marker: Optional[bytes] = None) -> Tuple[Optional[bytes], int]:
    """``mime.eol(C, D, marker)``: line breaks of D made ``marker`` (None = CRLF), given
    the state ``ctx`` (0 at the start); returns the output (None at the end) and the
    new state."""
    dp, dn = _opt(d)
    mp, mn = _opt(marker)
    a = take_buffer()
    out = ffi.new("int64_t *")
    try:
        check(lib.sockit_mime_eol(ctx, dp, dn, mp, mn, a, out))
        return (None if d is None else buffer_bytes(a)), int(out[0])
    finally:
        give_buffer(a)


def dot(state: int, c: Optional[Any]) -> Tuple[Optional[bytes], int]:
    """``mime.dot(m, C)``: SMTP dot-stuffing given the state (2 at the start)."""
    cp, cn = _opt(c)
    a = take_buffer()
    out = ffi.new("int64_t *")
    try:
        check(lib.sockit_mime_dot(state, cp, cn, a, out))
        return (None if c is None else buffer_bytes(a)), int(out[0])
    finally:
        give_buffer(a)


# -- filters ---------------------------------------------------------------------------

def encode(kind: str, mode: str = "text") -> Filter:
    """``mime.encode("base64")`` or ``mime.encode("quoted-printable", mode)`` (mode
    "text" keeps CRLF line breaks, "binary" encodes them)."""
    if kind == "base64":
        return Filter._make(lib.sockit_filter_base64_encode)
    if kind == "quoted-printable":
        if mode not in ("text", "binary"):
            raise ValueError("mode must be 'text' or 'binary'")
        return Filter._make(lib.sockit_filter_qp_encode, mode == "binary")
    raise ValueError("unknown encoding %r" % kind)


def decode(kind: str) -> Filter:
    """``mime.decode("base64")`` or ``mime.decode("quoted-printable")``."""
    if kind == "base64":
        return Filter._make(lib.sockit_filter_base64_decode)
    if kind == "quoted-printable":
        return Filter._make(lib.sockit_filter_qp_decode)
    raise ValueError("unknown encoding %r" % kind)


def wrap(kind: str = "text", length: Optional[int] = None) -> Filter:
    """``mime.wrap("text", length)`` (default 76), ``mime.wrap("base64")`` (76) or
    ``mime.wrap("quoted-printable")`` (soft line breaks at 76)."""
    if kind in ("text", "base64"):
        return Filter._make(lib.sockit_filter_wrap, 76 if length is None else length)
    if kind == "quoted-printable":
        return Filter._make(lib.sockit_filter_qp_wrap, 76 if length is None else length)
    raise ValueError("unknown wrap kind %r" % kind)


def normalize(marker: Optional[Any] = None) -> Filter:
    """``mime.normalize(marker)``: CR, LF, CRLF and LFCR become ``marker`` (CRLF)."""
    mp, mn = _opt(marker)
    return Filter._make(lib.sockit_filter_normalize, mp, mn)


def stuff(end_of_data: bool = False) -> Filter:
    """``mime.stuff()``: SMTP dot-stuffing; with ``end_of_data`` the final "." line is
    written too."""
    return Filter._make(lib.sockit_filter_dot_stuff, end_of_data)


# -- one-shot helpers -----------------------------------------------------------------

def b64encode(data: Any) -> bytes:
    """The whole of ``data`` base64 encoded (no line breaks)."""
    return b64(data)[0]


def b64decode(data: Any) -> bytes:
    """The whole of ``data`` base64 decoded (characters outside the alphabet skipped)."""
    return unb64(data)[0]


def qpencode(data: Any, binary: bool = False) -> bytes:
    """The whole of ``data`` quoted-printable encoded and wrapped at 76 columns."""
    return (encode("quoted-printable", "binary" if binary else "text")
            | wrap("quoted-printable")).run(data)


def qpdecode(data: Any) -> bytes:
    """The whole of ``data`` quoted-printable decoded."""
    return unqp(data)[0]

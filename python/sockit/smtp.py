"""SMTP client (LuaSocket's ``socket.smtp``) and MIME messages.

    from sockit import smtp
    smtp.send("from@example.org", ["to@example.org"], b"Subject: hi\\r\\n\\r\\nHello.\\r\\n",
              server="127.0.0.1", port=2525)

    msg = smtp.message(
        headers={"From": "a@example.org", "To": "b@example.org", "Subject": "report"},
        body=[smtp.text("See the attachment.\\n"),
              smtp.attachment(open("report.pdf", "rb"), "application/pdf", "report.pdf")])
    smtp.send("a@example.org", ["b@example.org"], msg, server="127.0.0.1", port=2525)

A message is sent as it is produced (a file attachment is read while sending), with
dot-stuffing done by sockit. A refusal raises :class:`sockit.ProtocolError` with the
server's reply as message; credentials set but no AUTH offered raise
:class:`sockit.Unsupported`.
"""

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import ltn12
from ._ffi import NULL, check, cstr, data_arg, ffi, lib, raise_error, seconds

__all__ = ["SMTP", "send", "Part", "message", "text", "attachment"]


class Part:
    """A mail message or one part of a multipart message (``sockit_mail_part``):
    header fields and a body (bytes, a source, or parts)."""

    __slots__ = ("_h", "_keep")

    def __init__(self, headers: Union[None, Mapping[str, str], Iterable[Tuple[str, str]]] = None,
                 body: Any = None, *, preamble: Optional[str] = None,
                 epilogue: Optional[str] = None, _handle: Any = None) -> None:
        if _handle is None:
            out = ffi.new("sockit_mail_part **")
            check(lib.sockit_mail_part_new(out))
            _handle = out[0]
        self._h = ffi.gc(_handle, lib.sockit_mail_part_free)
        self._keep: List[Any] = []
        items = headers.items() if isinstance(headers, Mapping) else (headers or ())
        for name, value in items:
            check(lib.sockit_mail_part_add_header(self._h, cstr(name, "header name"),
                                                  cstr(value, "header value")))
        if body is not None:
            self.set_body(body)
        if preamble is not None:
            check(lib.sockit_mail_part_set_text(self._h, 0, cstr(preamble, "preamble")))
        if epilogue is not None:
            check(lib.sockit_mail_part_set_text(self._h, 1, cstr(epilogue, "epilogue")))

    def _ptr(self) -> Any:
        if self._h is None:
            raise ValueError("this part was given to a message")
        return self._h

    def _take(self) -> Any:
        h = self._ptr()
        ffi.gc(h, None)
        self._h = None
        return h

    def set_body(self, body: Any) -> None:
        """Bytes or str (sent as they are: use CRLF line ends), a list of parts (the
        part becomes multipart), or a source (a file, an iterable, a Source)."""
        if isinstance(body, (bytes, bytearray, memoryview, str)):
            b = data_arg(body)
            check(lib.sockit_mail_part_set_body(self._ptr(), b, len(b)))
        elif isinstance(body, (list, tuple)):
            for p in body:
                self.add_part(p)
        else:
            src = ltn12.source(body)
            self._keep.append(src)
            check(lib.sockit_mail_part_set_body_source(self._ptr(), src._take()))

    def add_part(self, part: "Part") -> None:
        """Appends a subpart (taken); this part becomes multipart."""
        self._keep.append(part)
        check(lib.sockit_mail_part_add_part(self._ptr(), part._take()))

    def add_header(self, name: str, value: str) -> None:
        check(lib.sockit_mail_part_add_header(self._ptr(), cstr(name, "header name"),
                                              cstr(value, "header value")))

    def source(self) -> ltn12.Source:
        """The whole message as a source (takes this part): Date, X-Mailer and
        MIME-Version added unless present, every part laid out with its boundary."""
        keep = self._keep
        out = ffi.new("sockit_source **")
        check(lib.sockit_mail_message(self._take(), out))
        return ltn12.Source(out[0], tuple(keep) or None)

    def as_bytes(self) -> bytes:
        """The whole message (takes this part)."""
        return self.source().read()


def message(headers: Union[None, Mapping[str, str], Iterable[Tuple[str, str]]] = None,
            body: Any = None, **kw: Any) -> Part:
    """A message: header fields and a body (see :meth:`Part.set_body`)."""
    return Part(headers, body, **kw)


def text(content: Any, charset: Optional[str] = None) -> Part:
    """A text part: line ends made CRLF, quoted-printable encoded and wrapped,
    Content-Type "text/plain; charset=..." (utf-8)."""
    src = ltn12.source(content)
    out = ffi.new("sockit_mail_part **")
    keep = src
    check(lib.sockit_mail_part_text(src._take(), cstr(charset, "charset"), out))
    p = Part(_handle=out[0])
    p._keep.append(keep)
    return p


def attachment(content: Any, content_type: str = "application/octet-stream",
               filename: Optional[str] = None) -> Part:
    """An attachment part: the bytes base64 encoded in 76-column lines, with
    Content-Disposition attachment (and ``filename``)."""
    src = ltn12.source(content)
    out = ffi.new("sockit_mail_part **")
    keep = src
    check(lib.sockit_mail_part_attachment(src._take(), cstr(content_type, "content type"),
                                          cstr(filename, "filename"), out))
    p = Part(_handle=out[0])
    p._keep.append(keep)
    return p


def _rcpt(rcpt: Union[str, Sequence[str]]) -> Tuple[Any, int, List[Any]]:
    if isinstance(rcpt, str):
        rcpt = [rcpt]
    keep = [ffi.new("char[]", cstr(r, "recipient")) for r in rcpt]
    arr = ffi.new("const char *[]", max(1, len(keep)))
    for i, k in enumerate(keep):
        arr[i] = k
    return arr, len(keep), keep


class SMTP:
    """Where and how to send: server, EHLO name, credentials, timeouts. Each send makes
    its own connection (connect, EHLO or HELO, AUTH, MAIL, RCPT..., DATA, QUIT)."""

    def __init__(self, host: str = "localhost", port: int = 25, *, domain: Optional[str] = None,
                 user: Optional[str] = None, password: Optional[str] = None,
                 timeout: Union[None, float, Tuple[Optional[float], Optional[float]]] = 60.0) -> None:
        out = ffi.new("sockit_smtp **")
        check(lib.sockit_smtp_new(cstr(host, "host"), port, out))
        self._h = ffi.gc(out[0], lib.sockit_smtp_free)
        if domain is not None:
            check(lib.sockit_smtp_set_domain(self._h, cstr(domain, "domain")))
        if user is not None:
            check(lib.sockit_smtp_set_auth(self._h, cstr(user, "user"), cstr(password or "", "password")))
        if isinstance(timeout, tuple):
            b, t = timeout
        else:
            b, t = timeout, None
        check(lib.sockit_smtp_set_timeout(self._h, seconds(b), seconds(t)))

    def send(self, from_: str, rcpt: Union[str, Sequence[str]], msg: Any) -> int:
        """Sends ``msg`` (bytes with CRLF line ends: header fields, empty line, body; a
        :class:`Part`; or any source) from ``from_`` to every address of ``rcpt``.
        Returns the message's size in bytes."""
        arr, n, _keep = _rcpt(rcpt)
        if isinstance(msg, (bytes, bytearray, memoryview, str)):
            data = data_arg(msg)
            check(lib.sockit_smtp_send(self._h, cstr(from_, "from"), arr, n, data, len(data)))
            return len(data)
        src = msg.source() if isinstance(msg, Part) else ltn12.source(msg)
        size = ffi.new("uint64_t *")
        st = lib.sockit_smtp_send_source(self._h, cstr(from_, "from"), arr, n, src._take(), size)
        if st:
            raise_error(st)
        return int(size[0])

    def mail(self, from_: str, rcpt: Union[str, Sequence[str]],
             headers: Union[Mapping[str, str], Iterable[Tuple[str, str]]], body: Any) -> None:
        """LuaSocket 1.3b's ``smtp_mail``: the header fields, an empty line and ``body``
        (line ends made CRLF); recipients not named in the headers get a blind copy."""
        arr, n, _keep = _rcpt(rcpt)
        items = list(headers.items() if isinstance(headers, Mapping) else headers)
        names = [ffi.new("char[]", cstr(k, "header name")) for k, _ in items]
        values = [ffi.new("char[]", cstr(v, "header value")) for _, v in items]
        na = ffi.new("const char *[]", names or [NULL])
        va = ffi.new("const char *[]", values or [NULL])
        b = data_arg(body)
        check(lib.sockit_smtp_mail(self._h, cstr(from_, "from"), arr, n, na, va, len(items), b, len(b)))


def send(from_: str, rcpt: Union[str, Sequence[str]], msg: Any, *, server: str = "localhost",
         port: int = 25, domain: Optional[str] = None, user: Optional[str] = None,
         password: Optional[str] = None,
         timeout: Union[None, float, Tuple[Optional[float], Optional[float]]] = 60.0) -> int:
    """LuaSocket 3's ``smtp.send`` in one call (see :meth:`SMTP.send`)."""
    return SMTP(server, port, domain=domain, user=user, password=password,
                timeout=timeout).send(from_, rcpt, msg)

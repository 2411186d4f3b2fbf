"""sockit's exceptions: one class per ``sockit_status``, all under :class:`Error`.

Each class also derives from the built-in exception a Python user would catch for that
condition (``sockit.Timeout`` is a ``TimeoutError``, ``sockit.ConnectionRefused`` a
``ConnectionRefusedError``, ``sockit.InvalidArgument`` a ``ValueError``, ...), so code
written against the standard library keeps working.

Attributes of every error:

``status``   the ``sockit_status`` number (``None`` for :class:`HTTPError`)
``name``     LuaSocket's string for it ("timeout", "closed", "connection refused", ...)
``message``  the detail from ``sockit_last_error()`` ("connect 127.0.0.1:1: ...")
``partial``  the bytes received before the failure (LuaSocket's rule: nothing received
             is lost); ``b""`` when nothing was received or the call receives nothing
``sent``     for sending calls, the bytes the kernel took before the failure
"""

from typing import Dict, Optional, Type

__all__ = [
    "Error", "Timeout", "Closed", "WouldBlock", "ConnectionRefused", "AddressInUse",
    "AlreadyConnected", "AccessDenied", "HostNotFound", "DnsTemporaryFailure",
    "DnsFailure", "FamilyNotSupported", "ServiceNotSupported", "InvalidArgument",
    "OutOfMemory", "ProtocolError", "Unsupported", "Aborted", "SystemFailure",
    "InternalError", "HTTPError", "error_class",
]


class Error(Exception):
    """A sockit call failed. See the module's documentation for the attributes."""

    status: Optional[int] = None
    name: str = "error"

    def __init__(self, message: str = "", *, partial: bytes = b"", sent: int = 0,
                 status: Optional[int] = None) -> None:
        if status is not None:
            self.status = status
        self.message = message
        self.partial = partial
        self.sent = sent
        text = message if message else self.name
        Exception.__init__(self, text)

    def __str__(self) -> str:
        return self.message or self.name

    def __reduce__(self):  # picklable with its attributes (for multiprocessing)
        return (_rebuild, (type(self), self.message, self.partial, self.sent, self.status))


def _rebuild(cls, message, partial, sent, status):
    return cls(message, partial=partial, sent=sent, status=status)


class Timeout(Error, TimeoutError):
    """"timeout": a timeout expired; ``partial`` holds what arrived before it."""
    status, name = 1, "timeout"


class Closed(Error, ConnectionError):
    """"closed": the peer closed or reset the connection, or the object is closed."""
    status, name = 2, "closed"


class WouldBlock(Error, BlockingIOError):
    """"block": a non-blocking call would have blocked (Moonbridge's "block")."""
    status, name = 3, "block"


class ConnectionRefused(Error, ConnectionRefusedError):
    """"connection refused"."""
    status, name = 4, "connection refused"


class AddressInUse(Error, OSError):
    """"address already in use"."""
    status, name = 5, "address already in use"


class AlreadyConnected(Error, OSError):
    """"already connected"."""
    status, name = 6, "already connected"


class AccessDenied(Error, PermissionError):
    """"permission denied"."""
    status, name = 7, "permission denied"


class HostNotFound(Error, OSError):
    """"host not found": a name did not resolve."""
    status, name = 8, "host not found"


class DnsTemporaryFailure(Error, OSError):
    """"temporary failure in name resolution"."""
    status, name = 9, "temporary failure in name resolution"


class DnsFailure(Error, OSError):
    """"non-recoverable failure in name resolution"."""
    status, name = 10, "non-recoverable failure in name resolution"


class FamilyNotSupported(Error, OSError):
    """"ai_family not supported"."""
    status, name = 11, "ai_family not supported"


class ServiceNotSupported(Error, OSError):
    """"service not supported for socket type"."""
    status, name = 12, "service not supported for socket type"


class InvalidArgument(Error, ValueError):
    """"invalid argument": a bad value, a malformed address, a closed or freed handle."""
    status, name = 13, "invalid argument"


class OutOfMemory(Error, MemoryError):
    """"memory allocation failure"."""
    status, name = 14, "memory allocation failure"


class ProtocolError(Error):
    """"protocol error": the peer broke the protocol (or an FTP/SMTP server refused:
    the message is its reply)."""
    status, name = 15, "protocol error"


class Unsupported(Error):
    """"unsupported": valid but not supported (for example an unknown URL scheme)."""
    status, name = 16, "unsupported"


class Aborted(Error):
    """"aborted": a callback asked to stop (a Python callback that raised: the
    exception is this one's ``__cause__``)."""
    status, name = 17, "aborted"


class SystemFailure(Error, OSError):
    """"system error": another operating-system error; the message has its text."""
    status, name = 18, "system error"


class InternalError(Error):
    """"internal error": a bug in sockit was caught at the API boundary."""
    status, name = 19, "internal error"


class HTTPError(Error):
    """An HTTP response whose status code is 4xx or 5xx, raised by
    ``Response.raise_for_status()``; ``response`` is that response."""
    name = "http error"

    def __init__(self, message: str = "", *, response=None, **kw) -> None:
        super().__init__(message, **kw)
        self.response = response


_BY_STATUS: Dict[int, Type[Error]] = {
    c.status: c for c in (
        Timeout, Closed, WouldBlock, ConnectionRefused, AddressInUse, AlreadyConnected,
        AccessDenied, HostNotFound, DnsTemporaryFailure, DnsFailure, FamilyNotSupported,
        ServiceNotSupported, InvalidArgument, OutOfMemory, ProtocolError, Unsupported,
        Aborted, SystemFailure, InternalError,
    )
}


def error_class(status: int) -> Type[Error]:
    """The exception class for a ``sockit_status`` number (:class:`Error` for a number
    that is no status)."""
    return _BY_STATUS.get(status, Error)

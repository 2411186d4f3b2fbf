"""sockit for Python: sockets, select, DNS, LTN12 pipelines, MIME, URLs, and HTTP, FTP
and SMTP clients, over sockit's C library (a copy of which this package carries).

    import sockit

    with sockit.connect("127.0.0.1", 8080, timeout=5) as s:
        s.send(b"hello\\n")
        line = s.receive_line()            # bytes, without the end of line

    r = sockit.http.get("http://127.0.0.1:8080/get", timeout=10)
    print(r.status_code, r.headers["content-type"], r.json())

Failures raise subclasses of :class:`sockit.Error`, one per sockit status
(:class:`Timeout`, :class:`Closed`, :class:`ConnectionRefused`, ...); a receive that
ends early carries what did arrive in ``partial``. Blocking calls release the GIL.
Submodules: ``sockit.ltn12``, ``sockit.mime``, ``sockit.url``, ``sockit.dns``,
``sockit.http``, ``sockit.ftp``, ``sockit.smtp``.
"""

from . import _ffi
from ._ffi import LIBRARY_PATH, last_error, status_str, version
from ._select import POLLERR, POLLHUP, POLLIN, POLLOUT, Poller, select
from ._socket import (
    Socket, UDPSocket, UnixDatagramSocket, bind, connect, connect_nb, listen, tcp, tcp4,
    tcp6, udp, udp4, udp6, unix, unix_connect, unix_connect_nb, unix_dgram, unix_listen,
)
from .errors import (
    Aborted, AccessDenied, AddressInUse, AlreadyConnected, Closed, ConnectionRefused,
    DnsFailure, DnsTemporaryFailure, Error, FamilyNotSupported, HostNotFound, HTTPError,
    InternalError, InvalidArgument, OutOfMemory, ProtocolError, ServiceNotSupported,
    SystemFailure, Timeout, Unsupported, WouldBlock, error_class,
)
from . import dns, ftp, http, ltn12, mime, smtp, url  # noqa: E402

__version__ = version()


def gettime() -> float:
    """Seconds since the Unix epoch (LuaSocket's ``socket.gettime``)."""
    return _ffi.lib.sockit_gettime()


def sleep(secs: float) -> None:
    """Sleeps ``secs`` seconds without holding the GIL (LuaSocket's ``socket.sleep``)."""
    _ffi.lib.sockit_sleep(float(secs))


__all__ = [
    "Socket", "UDPSocket", "UnixDatagramSocket", "bind", "connect", "connect_nb", "listen",
    "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unix_connect", "unix_connect_nb",
    "unix_dgram", "unix_listen", "select", "Poller", "POLLIN", "POLLOUT", "POLLERR",
    "POLLHUP", "gettime", "sleep", "version", "status_str", "last_error", "LIBRARY_PATH",
    "Error", "Timeout", "Closed", "WouldBlock", "ConnectionRefused", "AddressInUse",
    "AlreadyConnected", "AccessDenied", "HostNotFound", "DnsTemporaryFailure", "DnsFailure",
    "FamilyNotSupported", "ServiceNotSupported", "InvalidArgument", "OutOfMemory",
    "ProtocolError", "Unsupported", "Aborted", "SystemFailure", "InternalError", "HTTPError",
    "error_class", "dns", "ftp", "http", "ltn12", "mime", "smtp", "url",
]

"""Name resolution (LuaSocket's ``socket.dns``). Every call blocks in the resolver with
the GIL released; a name that does not resolve raises :class:`sockit.HostNotFound`.

    from sockit import dns
    dns.toip("localhost")                  # '127.0.0.1'
    dns.resolve("localhost").addresses     # [('inet', '127.0.0.1'), ...]
"""

from typing import Any, List, NamedTuple, Optional, Tuple, Union

from ._ffi import NULL, buffer_text, call_into, check, cstr, ffi, give_buffer, lib, take_buffer

__all__ = ["HostInfo", "toip", "tohostname", "gethostname", "getaddrinfo", "getnameinfo",
           "resolve"]

_FAMILY = {1: "inet", 2: "inet6"}


class HostInfo(NamedTuple):
    """LuaSocket's resolver table: the canonical name, the aliases, and the addresses
    as ``(family, address)`` pairs ("inet" or "inet6")."""

    name: str
    aliases: List[str]
    addresses: List[Tuple[str, str]]


def _info(h: Any) -> HostInfo:
    try:
        name = ffi.string(lib.sockit_hostinfo_name(h)).decode("utf-8", "replace")
        aliases = [ffi.string(lib.sockit_hostinfo_alias(h, i)).decode("utf-8", "replace")
                   for i in range(lib.sockit_hostinfo_alias_count(h))]
        fam = ffi.new("sockit_family *")
        addrs = []
        for i in range(lib.sockit_hostinfo_address_count(h)):
            a = ffi.string(lib.sockit_hostinfo_address(h, i, fam)).decode()
            addrs.append((_FAMILY.get(fam[0], "unknown"), a))
        return HostInfo(name, aliases, addrs)
    finally:
        lib.sockit_hostinfo_free(h)


def _lookup(fn: Any, arg: str) -> Tuple[str, HostInfo]:
    buf = take_buffer()
    info = ffi.new("sockit_hostinfo **")
    try:
        check(fn(cstr(arg, "name"), buf, info))
        return buffer_text(buf), _info(info[0])
    finally:
        give_buffer(buf)


def toip(name: str) -> str:
    """The first IP address of ``name`` (LuaSocket's ``toip``: IPv4 first)."""
    return _lookup(lib.sockit_dns_toip, name)[0]


def tohostname(addr: str) -> str:
    """The canonical name of ``addr`` (an address looked up in reverse, or a name)."""
    return _lookup(lib.sockit_dns_tohostname, addr)[0]


def resolve(name: str) -> HostInfo:
    """Everything the resolver knows about ``name``: name, aliases, every address."""
    return _lookup(lib.sockit_dns_toip, name)[1]


def gethostname() -> str:
    """This machine's host name."""
    return call_into(lib.sockit_dns_gethostname).decode("utf-8", "surrogateescape")


def getaddrinfo(host: str) -> List[Tuple[str, str]]:
    """Every address of ``host`` (IPv4 and IPv6) as ``(family, address)`` pairs."""
    out = ffi.new("sockit_hostinfo **")
    check(lib.sockit_dns_getaddrinfo(cstr(host, "host"), out))
    return _info(out[0]).addresses


def getnameinfo(host: Optional[str] = None,
                service: Optional[Union[str, int]] = None) -> Tuple[List[str], Optional[str]]:
    """LuaSocket 3's ``getnameinfo``: the names of ``host``'s addresses (one per
    address) and the name of ``service`` (a port or service name)."""
    out = ffi.new("sockit_hostinfo **")
    buf = take_buffer()
    try:
        svc = None if service is None else str(service)
        check(lib.sockit_dns_getnameinfo(cstr(host, "host"), cstr(svc, "service"),
                                         out if host is not None else NULL, buf))
        names = _info(out[0]).aliases if host is not None else []
        return names, (buffer_text(buf) if service is not None else None)
    finally:
        give_buffer(buf)

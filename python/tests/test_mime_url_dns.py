"""sockit.mime, sockit.url and sockit.dns against the standard library's answers and
LuaSocket's documented ones."""

import base64
import os
import quopri
import socket

from sockit import dns, mime, url


def test_b64_low_level_as_luasocket():
    assert mime.b64(b"hello", b" world") == (b"aGVsbG8gd29y", b"ld")
    assert mime.b64(b"ld") == (b"bGQ=", b"")
    assert mime.unb64(b"aGVsbG8=") == (b"hello", b"")
    data = os.urandom(1000)
    assert mime.b64encode(data) == base64.b64encode(data)
    assert mime.b64decode(base64.b64encode(data)) == data


def test_qp_and_wrapping():
    text = b"caf\xc3\xa9 = 1\r\n" * 30
    enc = mime.qpencode(text)
    assert all(len(line) <= 76 for line in enc.split(b"\r\n"))
    assert mime.qpdecode(enc) == text
    assert quopri.decodestring(enc) == text
    a, left = mime.wrp(76, b"x" * 100, 76)
    assert a == b"x" * 76 + b"\r\n" + b"x" * 24 and left == 52
    assert mime.wrp(10, None, 76) == (b"\r\n", 76)


def test_eol_and_dot():
    assert mime.eol(0, b"a\rb\nc\r\nd")[0] == b"a\r\nb\r\nc\r\nd"
    assert mime.eol(0, None) == (None, 0)
    out, state = mime.dot(2, b".leading\r\n.line\r\n")
    assert out == b"..leading\r\n..line\r\n"
    assert mime.stuff(True).run(b"x\r\n.y") == b"x\r\n..y\r\n.\r\n"


def test_url_parse_build_absolute():
    u = url.parse("http://user:pw@example.org:8080/a/b;p?q=1#frag")
    assert (u.scheme, u.user, u.password, u.host, u.port) == ("http", "user", "pw", "example.org", "8080")
    assert (u.path, u.params, u.query, u.fragment) == ("/a/b", "p", "q=1", "frag")
    assert u.authority == "user:pw@example.org:8080"
    assert str(u) == "http://user:pw@example.org:8080/a/b;p?q=1#frag"
    assert url.build({"scheme": "ftp", "host": "h", "path": "/x"}) == "ftp://h/x"
    # RFC 3986 section 5.4's examples.
    base = "http://a/b/c/d;p?q"
    for rel, want in [("g", "http://a/b/c/g"), ("../g", "http://a/b/g"), ("?y", "http://a/b/c/d;p?y"),
                      ("#s", "http://a/b/c/d;p?q#s"), ("../../g", "http://a/g"), ("//g", "http://g")]:
        assert url.absolute(base, rel) == want
    d = url.parse("/only/path", default={"scheme": "http", "host": "h"})
    assert (d.scheme, d.host, d.path) == ("http", "h", "/only/path")
    assert url.parse("x").port is None


def test_url_escapes():
    assert url.escape("a b/é") == "a%20b%2f%c3%a9"
    assert url.unescape("a%20b%2F%c3%a9") == "a b/é"
    assert url.unescape_to_bytes("%00%ff") == b"\x00\xff"
    assert url.build_path(["a b", "c/d"]) == "a%20b/c%2Fd"
    assert url.parse_path("/a%20b/c") == ["a b", "c"]


def test_dns():
    assert dns.toip("localhost") in ("127.0.0.1", "::1")
    assert dns.toip("127.0.0.1") == "127.0.0.1"
    info = dns.resolve("localhost")
    assert info.addresses and info.addresses[0][0] in ("inet", "inet6")
    assert dns.gethostname() == socket.gethostname()
    fams = {f for f, _ in dns.getaddrinfo("127.0.0.1")}
    assert fams == {"inet"}
    names, service = dns.getnameinfo("127.0.0.1", 80)
    assert service == "http" and names
    assert isinstance(dns.tohostname("127.0.0.1"), str)

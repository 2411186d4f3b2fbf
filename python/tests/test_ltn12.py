"""LTN12 pipelines: native stages run without calling Python; Python stages plug in."""

import base64
import io
import os
import threading

import pytest

import sockit
from sockit import _callbacks, ltn12, mime


def calls():
    return _callbacks.CALLS[0]


def test_native_pipeline_makes_no_python_calls(tmp_path):
    data = os.urandom(300000)
    src_path = tmp_path / "in.bin"
    src_path.write_bytes(data)
    out_path = tmp_path / "out.b64"
    src = ltn12.Source.file(str(src_path)) | mime.encode("base64") | mime.wrap("base64")
    assert src.native
    before = calls()
    n = ltn12.pump(src, ltn12.Sink.file(str(out_path)), 8192)
    assert calls() == before  # not one call into Python
    text = out_path.read_bytes()
    assert n == len(text)
    assert all(len(line) <= 76 for line in text.split(b"\r\n"))
    assert base64.b64decode(text.replace(b"\r\n", b"")) == data


def test_python_stages_plug_in():
    chunks = [b"alpha ", "beta ", bytearray(b"gamma")]
    got = []
    src = ltn12.Source.from_iterable(chunks) | ltn12.Filter.from_callable(
        lambda c: c.upper() if c is not None else b"!")
    assert not src.native
    before = calls()
    ltn12.pump(src, ltn12.Sink.from_callable(got.append))
    assert b"".join(got) == b"ALPHA BETA GAMMA!"
    assert calls() > before


def test_ltn12_source_and_sink_functions():
    items = [b"x", b"y", None]
    src = ltn12.Source.from_function(lambda: items.pop(0))
    seen = []
    ltn12.pump(src, ltn12.Sink.from_function(lambda c, e: seen.append((c, e))))
    assert seen == [(b"x", None), (b"y", None), (None, None)]


def test_source_failure_reaches_the_sink():
    seen = []
    src = ltn12.Source.cat(ltn12.Source.string(b"ok"), ltn12.Source.error(sockit.Timeout, "late"))
    with pytest.raises(sockit.Timeout):
        ltn12.pump(src, ltn12.Sink.from_function(lambda c, e: seen.append((c, e))))
    assert seen[0] == (b"ok", None)
    assert seen[-1][0] is None and "late" in seen[-1][1]


def test_cat_rewind_unget_pull_iterate_size():
    src = ltn12.Source.cat(b"ab", "cd", ltn12.Source.string(b"ef"))
    assert src.size == 6
    assert src.read() == b"abcdef"
    r = ltn12.Source.string(b"world").rewindable()
    first = r.pull()
    r.unget(b"hello ")
    r.unget(first)
    assert b"".join(r) == b"worldhello "
    assert ltn12.Source.empty().pull() is None
    assert list(ltn12.Source.string(b"x" * 5000)) == [b"x" * 5000]


def test_chaining_takes_its_parts():
    src = ltn12.Source.string(b"abc")
    f = mime.encode("base64")
    chained = src | f
    with pytest.raises(ValueError):
        src.pull()
    with pytest.raises(ValueError):
        f.put(b"x")
    assert chained.read() == b"YWJj"


def test_filter_chain_put_end_and_call():
    f = mime.normalize() | mime.encode("quoted-printable") | mime.wrap("quoted-printable", 20)
    out = f(b"caf\xc3\xa9 line one and more\nline two\n") + f(None)
    assert out == b"caf=C3=A9 line one =\r\nand more\r\nline two\r\n"
    assert all(len(line) <= 20 for line in out.split(b"\r\n"))
    assert mime.decode("quoted-printable").run(out) == b"caf\xc3\xa9 line one and more\r\nline two\r\n"


@pytest.mark.parametrize("kind", ["base64", "quoted-printable"])
def test_filter_output_does_not_depend_on_chunking(kind):
    data = os.urandom(5000) + b"\r\ntext line\r\n" * 50
    whole = mime.encode(kind).run(data)
    f = mime.encode(kind)
    pieces = []
    for i in range(0, len(data), 7):
        pieces.append(f.put(data[i:i + 7]))
    pieces.append(f.end())
    assert b"".join(pieces) == whole
    assert mime.decode(kind).run(whole) == data


def test_chunked_coding_round_trip():
    data = os.urandom(10000)
    enc = ltn12.Source.string(data).chain(ltn12.Filter.chunked_encode()).read()
    assert enc.endswith(b"0\r\n\r\n")
    dec = ltn12.Filter.chunked_decode()
    assert dec.run(enc + b"") == data
    bad = ltn12.Filter.chunked_decode()
    with pytest.raises(sockit.ProtocolError):
        bad.run(b"zz\r\n")


def test_file_objects_as_source_and_sink(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"0123456789" * 1000)
    with open(p, "rb") as f:
        f.read(5)  # read from the current position on
        assert ltn12.source(f).native
        out = io.BytesIO()
        before = calls()
        ltn12.pump(ltn12.source(f), ltn12.sink(out))
        assert calls() > before  # BytesIO has no descriptor: its write is called
    assert out.getvalue() == (b"0123456789" * 1000)[5:]
    q = tmp_path / "g.bin"
    with open(q, "wb") as g:
        g.write(b"head:")
        assert ltn12.sink(g).native and not ltn12.sink(io.BytesIO()).native
        before = calls()
        ltn12.pump(b"native body", g)  # a real file: written through its descriptor
        assert calls() == before
    assert q.read_bytes() == b"head:native body"


def test_socket_source_and_sink(pair):
    s, py = pair
    body = os.urandom(100000)
    t = threading.Thread(target=py.sendall, args=(body + b"extra",))
    t.start()
    got = ltn12.Sink.buffer()
    ltn12.pump(s.source("by-length", len(body)), got)
    t.join()
    assert got.getvalue() == body
    assert s.receive(5) == b"extra"  # nothing past the length was taken
    ltn12.pump(ltn12.Source.string(b"hello"), s.sink("http-chunked"))
    assert py.recv(100) == b"5\r\nhello\r\n0\r\n\r\n"
    py.sendall(b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nnext")
    src = s.source("http-chunked")
    assert src.read() == b"abc"
    assert src.trailers() == [("X-T", "1")]
    assert s.receive(4) == b"next"
    ltn12.pump(b"bye", s.sink("close-when-done"))
    assert py.recv(10) == b"bye"
    assert py.recv(10) == b""
    assert s.state == "closed"


def test_callback_objects_are_released():
    import gc

    gc.collect()
    before = len(_callbacks._alive)
    for _ in range(50):
        ltn12.pump(ltn12.Source.from_iterable([b"a"]), ltn12.Sink.from_callable(lambda c: None))
    gc.collect()
    assert len(_callbacks._alive) == before


def test_bad_arguments():
    with pytest.raises(ValueError):
        ltn12.Source.socket(sockit.tcp(), "bogus")
    with pytest.raises(TypeError):
        ltn12.source(12345)
    with pytest.raises(sockit.SystemFailure):
        ltn12.Source.file("/nonexistent/dir/file")

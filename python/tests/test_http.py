"""sockit.http against httpbin under gunicorn and the misbehaving fault server."""

import io
import uuid
import json

import pytest

import sockit
from sockit import http, ltn12
from conftest import WAIT


def test_get_with_params_and_headers(httpbin):
    r = http.get(httpbin + "/get", params={"a": "1", "b": ["x", "y"]},
                 headers={"X-Test": "yes"}, timeout=WAIT)
    assert r.status_code == 200 and r.ok and r.reason == "OK"
    assert r.status_line == "HTTP/1.1 200 OK"
    body = r.json()
    assert body["args"] == {"a": "1", "b": ["x", "y"]}
    assert body["headers"]["X-Test"] == "yes"
    assert r.headers["Content-Type"] == r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content) == r.received
    assert "content-type" in r.headers and r.encoding is None


def test_post_bodies(httpbin, tmp_path):
    assert http.post(httpbin + "/post", data={"k": "v"}).json()["form"] == {"k": "v"}
    assert http.post(httpbin + "/post", json={"k": [1, 2]}).json()["json"] == {"k": [1, 2]}
    assert http.post(httpbin + "/post", data="text é").json()["data"] == "text é"
    r = http.post(httpbin + "/post", data=(b"part%d," % i for i in range(100))).json()
    assert r["data"] == "".join("part%d," % i for i in range(100))
    assert r["headers"]["Transfer-Encoding"] == "chunked"
    p = tmp_path / "body.bin"
    p.write_bytes(b"file body " * 1000)
    with open(p, "rb") as f:
        r = http.put(httpbin + "/put", data=f).json()
    assert r["data"] == "file body " * 1000
    assert r["headers"]["Content-Length"] == str(10000)  # the file's size was known
    r = http.post(httpbin + "/post", data=io.BytesIO(b"from a reader"), content_length=13).json()
    assert r["data"] == "from a reader"
    r = http.post(httpbin + "/post", data=ltn12.Source.string(b"source")).json()
    assert r["data"] == "source" and r["headers"]["Content-Length"] == "6"


def test_methods(httpbin):
    assert http.delete(httpbin + "/delete").json()["url"].endswith("/delete")
    assert http.patch(httpbin + "/patch", data=b"p").json()["data"] == "p"
    r = http.head(httpbin + "/get")
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) > 0
    assert http.request("GET", httpbin + "/anything/x").json()["method"] == "GET"


def test_body_into_sinks(httpbin, tmp_path):
    p = tmp_path / "out.bin"
    r = http.get(httpbin + "/bytes/50000?seed=7", sink=str(p))
    assert r.content == b"" and r.received == 50000 and p.stat().st_size == 50000
    want = http.get(httpbin + "/bytes/50000?seed=7").content
    assert p.read_bytes() == want
    chunks = []
    http.get(httpbin + "/bytes/50000?seed=7", sink=chunks.append)
    assert b"".join(chunks) == want
    with open(tmp_path / "f.bin", "wb") as f:
        http.get(httpbin + "/bytes/50000?seed=7", sink=f)
    assert (tmp_path / "f.bin").read_bytes() == want


def test_progress_callback(httpbin, tmp_path):
    seen = []
    r = http.get(httpbin + "/bytes/100000?seed=3", progress=seen.append)
    assert len(r.content) == 100000
    assert seen and seen[-1] == 100000 and seen == sorted(seen)
    seen2 = []
    http.get(httpbin + "/bytes/100000?seed=3", sink=str(tmp_path / "p.bin"), progress=seen2.append)
    assert seen2[-1] == 100000 and (tmp_path / "p.bin").read_bytes() == r.content


def test_chunked_response_and_stream(httpbin):
    r = http.get(httpbin + "/stream/5")
    lines = r.content.decode().strip().split("\n")
    assert len(lines) == 5 and json.loads(lines[0])["id"] == 0


def test_redirects(httpbin):
    r = http.get(httpbin + "/redirect/3")
    assert r.status_code == 200 and r.redirects == 3 and r.url == httpbin + "/get"
    r = http.get(httpbin + "/redirect/2", allow_redirects=False)
    assert r.status_code == 302 and r.redirects == 0
    assert r.headers["location"]
    with pytest.raises(sockit.ProtocolError):
        http.get(httpbin + "/redirect/4", max_redirects=2)


def test_auth(httpbin):
    assert http.get(httpbin + "/basic-auth/u/p", auth=("u", "p")).status_code == 200
    assert http.get(httpbin + "/basic-auth/u/p", auth=("u", "wrong")).status_code == 401
    r = http.get(httpbin.replace("http://", "http://u:p@") + "/basic-auth/u/p")
    assert r.status_code == 200


def test_status_codes_and_raise_for_status(httpbin):
    for code in (201, 204, 404, 418, 500, 503):
        r = http.get(httpbin + "/status/%d" % code)
        assert r.status_code == code
        if code >= 400:
            assert not r.ok
            with pytest.raises(sockit.HTTPError) as ei:
                r.raise_for_status()
            assert ei.value.response is r and str(code) in str(ei.value)
        else:
            assert r.raise_for_status() is r


def test_proxy(httpbin):
    # httpbin acts as the proxy: the request goes to it in absolute form, for a host that
    # does not exist, and it answers for the path.
    r = http.get("http://nowhere.invalid/get", proxy=httpbin, timeout=WAIT)
    assert r.status_code == 200
    assert r.json()["headers"]["Host"] == "nowhere.invalid"
    r = http.get("http://nowhere.invalid/anything", proxies={"http": httpbin})
    assert r.json()["url"] == "http://nowhere.invalid/anything"


def test_timeouts(httpbin, fault):
    with pytest.raises(sockit.Timeout) as ei:
        http.get(httpbin + "/delay/5", timeout=0.5)
    assert isinstance(ei.value, TimeoutError)
    with pytest.raises(sockit.Timeout) as ei:
        http.get(fault + "/stall-body", timeout=0.5)
    assert ei.value.partial == b"0123456789"  # the body received so far
    assert ei.value.response.status_code == 200
    with pytest.raises(sockit.Timeout):
        http.get(fault + "/stall", timeout=(None, 0.5))


def test_broken_servers(fault):
    with pytest.raises(sockit.Closed) as ei:
        http.get(fault + "/truncated", timeout=WAIT)
    assert ei.value.partial == b"0123456789" * 10
    with pytest.raises(sockit.ProtocolError):
        http.get(fault + "/bad-chunk", timeout=WAIT)
    with pytest.raises(sockit.ProtocolError):
        http.get(fault + "/garbage-status", timeout=WAIT)
    with pytest.raises(sockit.ProtocolError):
        http.get(fault + "/many-headers", timeout=WAIT, limits=(65536, 100))
    with pytest.raises(sockit.ProtocolError):
        http.get(fault + "/loop", timeout=WAIT)
    with pytest.raises(sockit.Closed) as ei:
        http.get(fault + "/reset-mid-body", timeout=WAIT)
    assert 0 < len(ei.value.partial) <= 50000
    r = http.get(fault + "/trailers", timeout=WAIT)
    assert r.content == b"hello world"
    assert set(r.trailers) == {"x-trailer-one", "x-trailer-two"}
    assert http.get(fault + "/close-delimited", timeout=WAIT).status_code == 200
    assert http.get(fault + "/interim", timeout=WAIT).content == b"final"


def test_refused_and_bad_urls():
    with pytest.raises(sockit.ConnectionRefused) as ei:
        http.get("http://127.0.0.1:1/", timeout=WAIT)
    assert ei.value.response.status_code == 0
    with pytest.raises(sockit.InvalidArgument):
        http.get("http://127.0.0.1:1/", headers={"X-Bad": "a\r\nInjected: 1"})
    with pytest.raises(sockit.InvalidArgument):
        http.request("GE T", "http://127.0.0.1:1/")


def test_session_keeps_connections_alive(httpbin):
    tag = "py-session-%s" % uuid.uuid4().hex
    with http.Session(headers={"X-Sockit-Tag": tag}, timeout=WAIT) as s:
        reused = [s.get(httpbin + "/get").reused for _ in range(20)]
        assert s.idle_count() == 1
        assert reused[0] is False and all(reused[1:])
        r = s.get(httpbin + "/headers", headers={"X-Extra": "1"})
        assert r.json()["headers"]["X-Extra"] == "1"
        assert r.json()["headers"]["X-Sockit-Tag"] == tag
    peers = http.get(httpbin + "/sockit/peers", params={"tag": tag}).json()
    assert peers == {**peers, "requests": 21, "connections": 1}
    with pytest.raises(ValueError):
        s.get(httpbin + "/get")


def test_session_defaults(httpbin):
    with http.Session(auth=("u", "p"), timeout=WAIT) as s:
        assert s.get(httpbin + "/basic-auth/u/p").status_code == 200
        assert s.get(httpbin + "/basic-auth/u/p", auth=None).status_code == 401
    with http.Session(allow_redirects=False) as s:
        assert s.get(httpbin + "/redirect/1").status_code == 302


def test_python_body_source_failure(httpbin):
    def body():
        yield b"start"
        raise RuntimeError("body generator failed")

    with pytest.raises(RuntimeError, match="body generator failed"):
        http.post(httpbin + "/post", data=body(), timeout=WAIT)

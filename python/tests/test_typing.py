"""The type hints: the installed package passes mypy, and so does typed code using it."""

import os
import textwrap

import pytest

import sockit

USER_CODE = textwrap.dedent('''
    import sockit
    from sockit import http, ltn12, mime, url

    def fetch(u: str) -> bytes:
        r: http.Response = http.get(u, timeout=5.0)
        code: int = r.status_code
        return r.content if code == 200 else b""

    def lines(s: sockit.Socket) -> list[bytes]:
        s.settimeout(1.0)
        out: list[bytes] = [s.receive_line(), s.receive(3), s.receive_all()]
        data, end = s.read_nb(10, b"\\n")
        return out + [data, end.encode()]

    def pipe() -> int:
        src: ltn12.Source = ltn12.Source.string(b"x") | mime.encode("base64")
        return ltn12.pump(src, ltn12.Sink.null())

    host: str | None = url.parse("http://h/").host
    ready: tuple[list[object], list[object]] = sockit.select([], [], 0.0)
''')


def test_mypy_accepts_the_package_and_its_users(tmp_path):
    api = pytest.importorskip("mypy.api")
    assert os.path.exists(os.path.join(os.path.dirname(sockit.__file__), "py.typed"))
    out, err, rc = api.run(["-p", "sockit", "--ignore-missing-imports", "--no-incremental",
                            "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0, out + err
    user = tmp_path / "user.py"
    user.write_text(USER_CODE)
    out, err, rc = api.run([str(user), "--no-incremental", "--python-version", "3.10",
                            "--cache-dir", str(tmp_path / "cache2")])
    assert rc == 0, out + err

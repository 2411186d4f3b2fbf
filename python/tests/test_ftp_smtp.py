"""sockit.ftp against pyftpdlib and sockit.smtp against aiosmtpd (which stores every
message it gets, so the tests compare bytes)."""

import glob
import io
import json
import os
import time
import uuid

import pytest

import sockit
from sockit import ftp, smtp
from conftest import WAIT


@pytest.fixture
def ftpenv(servers):
    return (int(servers["SOCKIT_FTP_PORT"]), servers["SOCKIT_FTP_ROOT"],
            servers["SOCKIT_FTP_USER"], servers["SOCKIT_FTP_PASS"])


def test_ftp_get_put_by_url(ftpenv, tmp_path):
    port, root, user, pw = ftpenv
    data = os.urandom(300000)
    with open(os.path.join(root, "py-bin.dat"), "wb") as f:
        f.write(data)
    base = "ftp://%s:%s@127.0.0.1:%d" % (user, pw, port)
    assert ftp.get(base + "/py-bin.dat;type=i", timeout=WAIT) == data
    assert ftp.get("ftp://127.0.0.1:%d/py-bin.dat" % port, type="i", active=True) == data
    with open(os.path.join(root, "py-text.txt"), "wb") as f:
        f.write(b"one\r\ntwo\r\n")
    assert ftp.get(base + "/py-text.txt") == b"one\ntwo\n"  # ASCII: line ends become LF
    out = tmp_path / "copy.dat"
    assert ftp.get(base + "/py-bin.dat;type=i", sink=str(out)) == b""
    assert out.read_bytes() == data
    assert ftp.put(base + "/py-up.bin;type=i", data) == len(data)
    assert open(os.path.join(root, "py-up.bin"), "rb").read() == data
    assert ftp.put(base + "/py-up2.bin;type=i", io.BytesIO(b"streamed")) == 8
    assert open(os.path.join(root, "py-up2.bin"), "rb").read() == b"streamed"
    assert ftp.put(base + "/py-up3.txt", iter([b"a\n", b"b\n"])) > 0
    # sent as CRLF in ASCII mode, stored with the server's own line ends
    assert open(os.path.join(root, "py-up3.txt"), "rb").read() == b"a\nb\n"
    listing = ftp.get(base + "/").decode()
    assert "py-bin.dat" in listing


def test_ftp_errors(ftpenv):
    port, root, user, pw = ftpenv
    with pytest.raises(sockit.ProtocolError) as ei:
        ftp.get("ftp://127.0.0.1:%d/no-such-file" % port)
    assert ei.value.message.startswith("550")
    with pytest.raises(sockit.ProtocolError) as ei:
        ftp.get("ftp://%s:wrong@127.0.0.1:%d/x" % (user, port))
    assert "530" in ei.value.message
    with pytest.raises(sockit.ConnectionRefused):
        ftp.get("ftp://127.0.0.1:1/x", timeout=WAIT)


def test_ftp_session(ftpenv):
    port, root, user, pw = ftpenv
    d = "py-dir-%s" % uuid.uuid4().hex
    os.makedirs(os.path.join(root, d))
    with open(os.path.join(root, d, "in.txt"), "wb") as f:
        f.write(b"inside")
    with ftp.FTP("127.0.0.1", port, timeout=WAIT) as f:
        assert f.greeting.startswith("220")
        f.login(user, pw)
        f.cwd(d)
        assert f.command("PWD")[0] == 257
        assert f.retrieve("NLST").split() == [b"in.txt"]
        f.type("i")
        assert f.retrieve("RETR", "in.txt") == b"inside"
        assert f.store("STOR", "new.bin", b"\x00\x01\x02") == 3
        got = []
        f.retrieve("RETR", "new.bin", sink=got.append)
        assert b"".join(got) == b"\x00\x01\x02"
        with pytest.raises(sockit.ProtocolError):
            f.command("CWD", "does-not-exist", expect="2..")
    assert open(os.path.join(root, d, "new.bin"), "rb").read() == b"\x00\x01\x02"


def _spooled(spool, n_before, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metas = sorted(glob.glob(os.path.join(spool, "*.json")))
        if len(metas) > n_before:
            meta = metas[n_before]
            with open(meta) as f:
                m = json.load(f)
            with open(meta[:-5] + ".eml", "rb") as f:
                return m, f.read()
        time.sleep(0.05)
    raise AssertionError("no message arrived")


def test_smtp_send_bytes(servers):
    spool = servers["SOCKIT_SMTP_SPOOL"]
    port = int(servers["SOCKIT_SMTP_PORT"])
    n = len(glob.glob(os.path.join(spool, "*.json")))
    msg = b"Subject: py\r\n\r\n.leading dot\r\nbody\r\n"
    assert smtp.send("a@example.org", ["b@example.org", "<c@example.org>"], msg,
                     server="127.0.0.1", port=port, domain="py.test", timeout=WAIT) == len(msg)
    meta, data = _spooled(spool, n)
    assert meta["mail_from"] == "a@example.org"
    assert meta["rcpt_tos"] == ["b@example.org", "c@example.org"]
    assert meta["helo"] == "py.test"
    assert data == msg  # dot-stuffed on the wire, unstuffed by the server


def test_smtp_mime_message_with_auth(servers):
    spool = servers["SOCKIT_SMTP_SPOOL"]
    port = int(servers["SOCKIT_SMTP_AUTH_PORT"])
    n = len(glob.glob(os.path.join(spool, "*.json")))
    attachment = os.urandom(5000)
    m = smtp.message({"From": "a@example.org", "To": "b@example.org", "Subject": "report"},
                     [smtp.text("Voilà.\n"),
                      smtp.attachment(io.BytesIO(attachment), "application/pdf", "r.pdf")])
    s = smtp.SMTP("127.0.0.1", port, user=servers["SOCKIT_SMTP_USER"],
                  password=servers["SOCKIT_SMTP_PASS"], timeout=WAIT)
    size = s.send("a@example.org", "b@example.org", m)
    meta, data = _spooled(spool, n)
    assert size == len(data)
    assert meta["auth_user"] == servers["SOCKIT_SMTP_USER"]
    import email

    parsed = email.message_from_bytes(data)
    assert parsed["Subject"] == "report" and parsed.is_multipart()
    text, att = parsed.get_payload()
    assert text.get_payload(decode=True) == "Voilà.\r\n".encode()
    assert att.get_filename() == "r.pdf"
    assert att.get_payload(decode=True) == attachment


def test_smtp_refusals(servers):
    port = int(servers["SOCKIT_SMTP_AUTH_PORT"])
    with pytest.raises(sockit.ProtocolError) as ei:
        smtp.send("a@example.org", "b@example.org", b"\r\nx\r\n", server="127.0.0.1", port=port)
    assert ei.value.message[:1] == "5"
    with pytest.raises(sockit.ProtocolError):
        smtp.send("a@example.org", "b@example.org", b"\r\nx\r\n", server="127.0.0.1", port=port,
                  user="sockit", password="wrong")
    with pytest.raises(sockit.InvalidArgument):
        smtp.send("a@example.org\r\nRCPT TO:<x>", "b@example.org", b"x", server="127.0.0.1",
                  port=port)


def test_smtp_helo_fallback_and_1_3b_mail(servers):
    spool = servers["SOCKIT_SMTP_SPOOL"]
    port = int(servers["SOCKIT_SMTP_HELO_PORT"])
    n = len(glob.glob(os.path.join(spool, "*.json")))
    smtp.SMTP("127.0.0.1", port, timeout=WAIT).mail(
        "a@example.org", ["b@example.org", "hidden@example.org"],
        {"To": "b@example.org", "Subject": "classic"}, "line\n")
    meta, data = _spooled(spool, n)
    assert sorted(meta["rcpt_tos"]) == ["b@example.org", "hidden@example.org"]
    assert b"Subject: classic\r\n" in data and data.endswith(b"line\r\n")

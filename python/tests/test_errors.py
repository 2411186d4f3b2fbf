"""Every sockit status becomes its own exception class, under sockit.Error, with the
built-in base a Python user would catch; real failures raise the right ones."""

import builtins
import socket

import pytest

import sockit
from sockit import _ffi, ltn12
from sockit.errors import _BY_STATUS

STATUS_NAMES = {
    1: "Timeout", 2: "Closed", 3: "WouldBlock", 4: "ConnectionRefused", 5: "AddressInUse",
    6: "AlreadyConnected", 7: "AccessDenied", 8: "HostNotFound", 9: "DnsTemporaryFailure",
    10: "DnsFailure", 11: "FamilyNotSupported", 12: "ServiceNotSupported",
    13: "InvalidArgument", 14: "OutOfMemory", 15: "ProtocolError", 16: "Unsupported",
    17: "Aborted", 18: "SystemFailure", 19: "InternalError",
}
BUILTIN = {1: TimeoutError, 2: ConnectionError, 3: BlockingIOError, 4: ConnectionRefusedError,
           7: PermissionError, 13: ValueError, 14: MemoryError, 18: OSError}


def test_every_status_has_its_class():
    # Every status the library knows (sockit_status_str gives a name for it).
    known = [st for st in range(1, 64) if _ffi.status_str(st) != "unknown status"]
    assert known == list(range(1, 20))
    classes = set()
    for st in known:
        cls = sockit.error_class(st)
        assert cls is getattr(sockit, STATUS_NAMES[st])
        assert issubclass(cls, sockit.Error)
        assert cls.status == st
        assert cls.name == _ffi.status_str(st)
        classes.add(cls)
    assert len(classes) == 19
    assert sockit.error_class(999) is sockit.Error
    assert set(_BY_STATUS) == set(known)


@pytest.mark.parametrize("status", range(1, 20))
def test_every_status_is_raised_through_the_library(status):
    """An error source fails a native pump with the status: the call raises its class
    with the library's message."""
    with pytest.raises(sockit.error_class(status)) as ei:
        ltn12.pump(ltn12.Source.error(status, "made to fail %d" % status), ltn12.Sink.null())
    e = ei.value
    assert e.status == status
    assert e.message == "made to fail %d" % status
    assert str(e) == e.message
    assert e.partial == b""
    if status in BUILTIN:
        assert isinstance(e, BUILTIN[status])


def test_error_sink_raises_too():
    with pytest.raises(sockit.Closed):
        ltn12.pump(ltn12.Source.string(b"x"), ltn12.Sink.error(sockit.Closed))


def test_errors_pickle_with_their_data():
    import pickle

    e = sockit.Timeout("t", partial=b"abc", sent=3)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is sockit.Timeout and e2.partial == b"abc" and e2.sent == 3


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_refused():
    with pytest.raises(sockit.ConnectionRefused) as ei:
        sockit.connect("127.0.0.1", _free_port(), timeout=5)
    assert "connection refused" in str(ei.value)
    assert isinstance(ei.value, ConnectionRefusedError)


def test_address_in_use():
    with sockit.bind("127.0.0.1", 0) as s:
        port = s.getsockname()[1]
        with pytest.raises(sockit.AddressInUse):
            sockit.listen("127.0.0.1", port)


def test_already_connected_udp():
    with sockit.udp4() as u:
        u.setpeername("127.0.0.1", 9)
        with pytest.raises(sockit.AlreadyConnected):
            u.sendto(b"x", "127.0.0.1", 9)


def test_invalid_arguments():
    with pytest.raises(sockit.InvalidArgument):
        sockit.connect("127.0.0.1", 70000)
    with pytest.raises(sockit.InvalidArgument):
        sockit.connect("127.0.0.1\0evil", 80)
    with pytest.raises(sockit.InvalidArgument):
        sockit.url.parse("http://host:99999/")
    with pytest.raises(sockit.InvalidArgument):
        with sockit.tcp() as s:
            s.settimeout(1, "x")
    with pytest.raises(ValueError):
        sockit.tcp("ipx")


def test_system_failure_names_the_path(tmp_path):
    with pytest.raises(sockit.SystemFailure) as ei:
        sockit.unix_connect(str(tmp_path / "missing.sock"))
    assert "missing.sock" in str(ei.value) or "No such file" in str(ei.value)


def test_unsupported_scheme():
    with pytest.raises(sockit.Unsupported):
        sockit.http.get("https://127.0.0.1:1/")


def test_closed_socket_operations(pair):
    client, server = pair
    client.close()
    client.close()  # idempotent
    with pytest.raises(sockit.Closed):
        client.send(b"x")
    with pytest.raises(sockit.Closed):
        client.receive_line()


def test_python_callback_exception_propagates_as_itself():
    class Boom(Exception):
        pass

    def gen():
        yield b"first"
        raise Boom("from the iterable")

    got = []
    with pytest.raises(Boom) as ei:
        ltn12.pump(ltn12.Source.from_iterable(gen()), ltn12.Sink.from_callable(got.append))
    assert isinstance(ei.value.__cause__, sockit.Aborted)
    assert "Boom" in ei.value.__cause__.message
    assert got == [b"first"]  # what came before the failure was delivered


def test_base_exception_names():
    for name in STATUS_NAMES.values():
        assert not hasattr(builtins, name), name

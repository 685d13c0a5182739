"""The conformance server driven by the official python-socketio client, over WebSocket only,
over HTTP long-polling only, and with the default polling-then-upgrade transport list."""
import queue

import pytest
import socketio
import socketio.exceptions

from conformance_support import REPLY_TIMEOUT

TRANSPORTS = [pytest.param(["websocket"], id="websocket"), pytest.param(["polling"], id="polling")]

# Arguments that must come back unchanged: strings, numbers, nested objects, lists, null, binary.
ARGUMENT_SETS = [
    pytest.param(("hello",), id="string"),
    pytest.param(("héllo € 😀", "", "line\nbreak \x1e separator"), id="unicode-strings"),
    pytest.param((0, 42, -7, 3.5, 1e-3, 2**53 - 1), id="numbers"),
    pytest.param((True, False, None), id="booleans-and-null"),
    pytest.param(({"a": {"b": {"c": [1, "two", None, True]}}, "empty": {}},), id="nested-dict"),
    pytest.param(([1, [2, [3, []]], "x"], []), id="lists"),
    pytest.param((b"\x00\x01\x02\xff",), id="bytes"),
    pytest.param((b"",), id="empty-bytes"),
    pytest.param(("text", b"\x01\x02", {"file": b"\x03\x04", "list": [b"\x05", 6]}, None), id="mixed-with-nested-bytes"),
]


class Recorder:
    """Collects events delivered on the client's background threads."""

    def __init__(self):
        self.events = {}

    def queue(self, name, namespace="/"):
        return self.events.setdefault((name, namespace), queue.Queue())

    def attach(self, client, name, namespace="/"):
        q = self.queue(name, namespace)
        client.on(name, lambda *args: q.put(args), namespace=namespace)

    def get(self, name, namespace="/", timeout=REPLY_TIMEOUT):
        try:
            return self.queue(name, namespace).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"event {name!r} on {namespace} not received within {timeout} s")


@pytest.fixture
def make_client():
    clients = []

    def make(namespaces=("/",)):
        client = socketio.Client(reconnection=False)
        recorder = Recorder()
        for namespace in namespaces:
            recorder.attach(client, "auth", namespace)
            recorder.attach(client, "message-back", namespace)
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        try:
            client.disconnect()
        except Exception:
            pass


def _connect(client, server_url, transports, auth=None, namespaces=("/",)):
    client.connect(
        server_url,
        transports=transports,
        auth=auth,
        namespaces=list(namespaces),
        socketio_path="socket.io",
        wait_timeout=REPLY_TIMEOUT,
    )


def _as_tuple(result):
    """call() returns the single ack argument alone, several as a tuple/list."""
    if isinstance(result, (tuple, list)):
        return tuple(result)
    return (result,)


@pytest.mark.parametrize("transports", TRANSPORTS)
class TestPythonSocketIOClient:
    def test_connects_with_auth_and_receives_it_back(self, server_url, make_client, transports):
        client, recorder = make_client()
        _connect(client, server_url, transports, auth={"token": "123", "nested": {"n": 1}})
        assert client.connected
        assert client.transport() == transports[0]
        assert recorder.get("auth") == ({"token": "123", "nested": {"n": 1}},)
        assert client.get_sid() and client.get_sid() != client.eio.sid

    def test_connects_without_auth_and_receives_an_empty_object(self, server_url, make_client, transports):
        client, recorder = make_client()
        _connect(client, server_url, transports)
        assert recorder.get("auth") == ({},)

    @pytest.mark.parametrize("args", ARGUMENT_SETS)
    def test_message_is_echoed_as_message_back(self, server_url, make_client, transports, args):
        client, recorder = make_client()
        _connect(client, server_url, transports)
        recorder.get("auth")
        client.emit("message", args)
        assert recorder.get("message-back") == args

    @pytest.mark.parametrize("args", ARGUMENT_SETS)
    def test_call_message_with_ack_returns_the_arguments(self, server_url, make_client, transports, args):
        client, _ = make_client()
        _connect(client, server_url, transports)
        result = client.call("message-with-ack", args, timeout=REPLY_TIMEOUT)
        assert _as_tuple(result) == args

    def test_many_messages_arrive_in_order(self, server_url, make_client, transports):
        client, recorder = make_client()
        _connect(client, server_url, transports)
        for i in range(10):
            client.emit("message", i)
        assert [recorder.get("message-back")[0] for _ in range(10)] == list(range(10))

    def test_custom_namespace(self, server_url, make_client, transports):
        client, recorder = make_client(namespaces=("/", "/custom"))
        _connect(client, server_url, transports, auth={"token": "abc"}, namespaces=("/", "/custom"))
        assert set(client.namespaces) == {"/", "/custom"}
        assert recorder.get("auth", "/custom") == ({"token": "abc"},)
        assert recorder.get("auth", "/") == ({"token": "abc"},)
        assert client.get_sid("/custom") and client.get_sid("/custom") != client.get_sid("/")
        # the main namespace keeps working next to the custom one
        client.emit("message", ("still main",))
        assert recorder.get("message-back") == ("still main",)

    def test_custom_namespace_alone(self, server_url, make_client, transports):
        client, recorder = make_client(namespaces=("/custom",))
        _connect(client, server_url, transports, namespaces=("/custom",))
        assert recorder.get("auth", "/custom") == ({},)
        assert list(client.namespaces) == ["/custom"]

    def test_unknown_namespace_raises_connection_error(self, server_url, make_client, transports):
        client, _ = make_client(namespaces=("/random",))
        with pytest.raises(socketio.exceptions.ConnectionError):
            _connect(client, server_url, transports, namespaces=("/random",))
        assert not client.connected

    def test_disconnect_then_reconnect(self, server_url, make_client, transports):
        client, recorder = make_client()
        _connect(client, server_url, transports, auth={"round": 1})
        assert recorder.get("auth") == ({"round": 1},)
        client.disconnect()
        assert not client.connected
        _connect(client, server_url, transports, auth={"round": 2})
        assert recorder.get("auth") == ({"round": 2},)
        client.emit("message", "again")
        assert recorder.get("message-back") == ("again",)


class TestUpgrade:
    def test_polling_client_upgrades_to_websocket(self, server_url, make_client):
        client, recorder = make_client()
        # default transports: polling first, then the upgrade (python-engineio upgrades during connect)
        client.connect(server_url, auth={"up": True}, wait_timeout=REPLY_TIMEOUT)
        assert client.transport() == "websocket"
        assert recorder.get("auth") == ({"up": True},)
        client.emit("message", ("after upgrade", b"\x07\x08"))
        assert recorder.get("message-back") == ("after upgrade", b"\x07\x08")
        assert _as_tuple(client.call("message-with-ack", ("ack", 1), timeout=REPLY_TIMEOUT)) == ("ack", 1)

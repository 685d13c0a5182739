"""Socket.IO v5 conformance over raw Engine.IO v4 transports, at /socket.io/.

Translates the official suite (socketio/socket.io-protocol test-suite/test-suite.js, v5 edition:
socket.io docs/socket.io-protocol/v5-test-suite) and adds what its spec (Readme.md) states:
polling variants, binary over polling as "b"+base64, and the reference parser's list of invalid
payloads.

Server under test (the suite's reference setup): on connection to "/" or "/custom" it emits
"auth" with the handshake auth payload; on "/" it answers "message" with "message-back" and the
same arguments, and acks "message-with-ack" with the same arguments; unknown namespaces get
CONNECT_ERROR {"message":"Invalid namespace"}; connectTimeout 1000 ms.
"""
import base64
import json
import time

import pytest

from conformance_support import (
    CONNECT_TIMEOUT,
    MARGIN,
    PING_INTERVAL,
    REPLY_TIMEOUT,
    RS,
    WS,
    WSClosed,
    assert_sio_equal,
    open_polling_session,
    open_websocket_session,
    parse_sio,
    placeholder,
    poll,
    poll_packets,
    push,
    websocket_url,
)

PATH = "/socket.io/"
P0, P1 = placeholder(0), placeholder(1)


def _assert_connect_ok(received: str, nsp: str = "/") -> str:
    """A CONNECT packet for `nsp` whose payload is exactly {"sid": <string>}; returns the sid."""
    prefix = "40" if nsp == "/" else f"40{nsp},"
    assert received.startswith(prefix), received
    handshake = json.loads(received[len(prefix):])
    assert set(handshake) == {"sid"}, handshake
    assert isinstance(handshake["sid"], str) and handshake["sid"], handshake
    return handshake["sid"]


def _open(ws_url) -> WS:
    ws, _ = open_websocket_session(ws_url, PATH)
    return ws


def _init_socketio_connection(ws_url) -> WS:
    """Engine.IO handshake, CONNECT to "/", and the "auth" event (initSocketIOConnection)."""
    ws = _open(ws_url)
    ws.send("40")
    _assert_connect_ok(ws.recv_skipping_pings().data)
    assert_sio_equal(ws.recv_skipping_pings().data, '42["auth",{}]')
    return ws


def _texts(frames):
    return [f.data for f in frames if not f.binary]


@pytest.fixture
def sio(ws_url):
    ws = _init_socketio_connection(ws_url)
    yield ws
    ws.close()


@pytest.fixture
def raw(ws_url):
    """An Engine.IO WebSocket session at /socket.io/ without any Socket.IO CONNECT yet."""
    ws = _open(ws_url)
    yield ws
    ws.close()


# =========================================================================== connect


class TestConnect:
    def test_allows_connection_to_the_main_namespace(self, raw):
        raw.send("40")
        _assert_connect_ok(raw.recv_skipping_pings().data)
        assert_sio_equal(raw.recv_skipping_pings().data, '42["auth",{}]')

    def test_allows_connection_to_the_main_namespace_with_a_payload(self, raw):
        raw.send('40{"token":"123"}')
        _assert_connect_ok(raw.recv_skipping_pings().data)
        assert_sio_equal(raw.recv_skipping_pings().data, '42["auth",{"token":"123"}]')

    def test_allows_connection_to_a_custom_namespace(self, raw):
        raw.send("40/custom,")
        _assert_connect_ok(raw.recv_skipping_pings().data, "/custom")
        assert_sio_equal(raw.recv_skipping_pings().data, '42/custom,["auth",{}]')

    def test_allows_connection_to_a_custom_namespace_with_a_payload(self, raw):
        raw.send('40/custom,{"token":"abc"}')
        _assert_connect_ok(raw.recv_skipping_pings().data, "/custom")
        assert_sio_equal(raw.recv_skipping_pings().data, '42/custom,["auth",{"token":"abc"}]')

    def test_disallows_connection_to_an_unknown_namespace(self, raw):
        raw.send("40/random")
        received = raw.recv_skipping_pings().data
        assert received == '44/random,{"message":"Invalid namespace"}' or (
            received.startswith("44/random,") and json.loads(received[len("44/random,"):]) == {"message": "Invalid namespace"}
        ), received

    def test_disallows_connection_with_an_invalid_handshake(self, raw):
        raw.send("4abc")
        raw.wait_closed(REPLY_TIMEOUT)

    def test_closes_the_connection_if_no_handshake_is_received(self, raw):
        # Pongs are sent, so only the connect timeout (1000 ms) can end this session.
        started = time.monotonic()
        frames = raw.wait_closed(CONNECT_TIMEOUT + MARGIN, answer_pings=True)
        assert set(_texts(frames)) <= {"2", "1"}, frames
        assert time.monotonic() - started >= CONNECT_TIMEOUT * 0.8, "closed before connectTimeout although pongs were sent"

    def test_closes_the_connection_if_the_first_packet_is_not_connect(self, raw):
        # spec: "If the server does not receive a CONNECT packet first, then it MUST close the connection"
        raw.send('42["message","too early"]')
        frames = raw.wait_closed(REPLY_TIMEOUT)
        assert not any("message-back" in t for t in _texts(frames)), frames

    def test_connect_sids_differ_between_namespaces_and_from_engineio_sid(self, ws_url):
        ws, opened = open_websocket_session(ws_url, PATH)
        try:
            ws.send("40")
            main_sid = _assert_connect_ok(ws.recv_skipping_pings().data)
            ws.recv_skipping_pings()  # auth
            ws.send("40/custom,")
            custom_sid = _assert_connect_ok(ws.recv_skipping_pings().data, "/custom")
            # v5: "the ID of the Socket.IO connection will now be different from the ID of the
            # underlying Engine.IO connection"
            assert main_sid != opened["sid"]
            assert custom_sid != opened["sid"]
            assert main_sid != custom_sid
        finally:
            ws.close()


# =========================================================================== disconnect


class TestDisconnect:
    def test_disconnects_from_the_main_namespace(self, sio):
        sio.send("41")
        # The Engine.IO session stays open: the next thing to arrive is the server's ping.
        assert sio.recv_text(timeout=PING_INTERVAL + MARGIN) == "2"

    def test_connects_then_disconnects_from_a_custom_namespace(self, sio):
        sio.send("40/custom")
        _assert_connect_ok(sio.recv_skipping_pings().data, "/custom")
        assert_sio_equal(sio.recv_skipping_pings().data, '42/custom,["auth",{}]')
        sio.send("41/custom")
        sio.send('42["message","message to main namespace"]')
        assert_sio_equal(sio.recv_skipping_pings().data, '42["message-back","message to main namespace"]')

    def test_no_events_are_delivered_after_disconnecting_the_main_namespace(self, sio):
        sio.send("41")
        sio.send('42["message","after disconnect"]')
        # Either the connection is closed, or nothing but Engine.IO control packets comes within a
        # ping cycle: no Socket.IO packet for the disconnected namespace.
        deadline = time.monotonic() + PING_INTERVAL + 0.5
        while time.monotonic() < deadline:
            try:
                frame = sio.recv(max(0.01, deadline - time.monotonic()))
            except AssertionError:
                break  # no frame at all: fine
            except WSClosed:
                break  # closed: fine
            if not frame.binary and frame.data == "2":
                sio.send("3")
                continue
            if not frame.binary and frame.data in ("1", "6"):
                continue
            raise AssertionError(f"received {frame!r} after the namespace was disconnected")


    def test_connect_disconnect_cycling_is_cut_off(self, ws_url):
        """Every CONNECT runs the namespace's middleware (in a real server, a token check): a client
        cycling 40/41 on one connection is refused and closed once its connect budget is spent,
        instead of costing that work for ever."""
        ws, _ = open_websocket_session(ws_url, PATH)
        try:
            for attempt in range(100):
                ws.send("40")
                frame = ws.recv_skipping_pings()
                if frame.data.startswith("44"):
                    assert parse_sio(frame.data[1:]).data == {"message": "Too many connection attempts"}, frame.data
                    assert attempt >= 1, "the first connects must be accepted"
                    ws.wait_closed(REPLY_TIMEOUT, answer_pings=True)
                    return
                _assert_connect_ok(frame.data, "/")
                assert_sio_equal(ws.recv_skipping_pings().data, '42["auth",{}]')
                ws.send("41")
            raise AssertionError("100 CONNECT/DISCONNECT cycles were all accepted")
        finally:
            ws.close()


# =========================================================================== message


class TestMessage:
    def test_sends_a_plain_text_packet(self, sio):
        sio.send('42["message",1,"2",{"3":[true]}]')
        assert_sio_equal(sio.recv_skipping_pings().data, '42["message-back",1,"2",{"3":[true]}]')

    def test_sends_a_packet_with_binary_attachments(self, sio):
        sio.send(f'452-["message",{P0},{P1}]')
        sio.send_binary(bytes([1, 2, 3]))
        sio.send_binary(bytes([4, 5, 6]))
        header, first, second = sio.recv_packets(3)
        assert not header.binary
        assert_sio_equal(header.data, f'452-["message-back",{P0},{P1}]')
        assert first.binary and first.data == bytes([1, 2, 3]), first
        assert second.binary and second.data == bytes([4, 5, 6]), second

    def test_sends_a_plain_text_packet_with_an_ack(self, sio):
        sio.send('42456["message-with-ack",1,"2",{"3":[false]}]')
        assert_sio_equal(sio.recv_skipping_pings().data, '43456[1,"2",{"3":[false]}]')

    def test_sends_a_packet_with_binary_attachments_and_an_ack(self, sio):
        sio.send(f'452-789["message-with-ack",{P0},{P1}]')
        sio.send_binary(bytes([1, 2, 3]))
        sio.send_binary(bytes([4, 5, 6]))
        header, first, second = sio.recv_packets(3)
        assert not header.binary
        assert_sio_equal(header.data, f"462-789[{P0},{P1}]")
        assert first.binary and first.data == bytes([1, 2, 3]), first
        assert second.binary and second.data == bytes([4, 5, 6]), second

    def test_ack_with_no_arguments(self, sio):
        # spec: the ACK payload "MUST be an array (possibly empty)"
        sio.send('4212["message-with-ack"]')
        assert_sio_equal(sio.recv_skipping_pings().data, "4312[]")

    def test_nested_binary_attachment_in_an_object(self, sio):
        sio.send(f'451-["message",{{"file":{P0},"name":"a.bin"}}]')
        sio.send_binary(bytes([9, 8, 7]))
        header, attachment = sio.recv_packets(2)
        assert_sio_equal(header.data, f'451-["message-back",{{"file":{P0},"name":"a.bin"}}]')
        assert attachment.binary and attachment.data == bytes([9, 8, 7])

    def test_events_are_answered_in_order(self, sio):
        for i in range(5):
            sio.send(f'42["message",{i}]')
        for i in range(5):
            assert_sio_equal(sio.recv_skipping_pings().data, f'42["message-back",{i}]')


# Invalid packets, each sent after a successful CONNECT to "/". The first three are the suite's
# "invalid format" cases; the rest is the reference parser's list of invalid payloads
# (socket.io-parser test: "throw an error upon parsing error" / "invalid attachment count")
# translated to the wire (Engine.IO "4" prefix, "/custom" for the parser's "/admin") plus the two
# payload rules of the spec (EVENT: non-empty array; ACK: array).
INVALID_PACKETS = [
    pytest.param("4abc", id="unknown packet type"),
    pytest.param("42{}", id="invalid payload format"),
    pytest.param('42abc["message-with-ack",1,"2",{"3":[false]}]', id="invalid ack id"),
    pytest.param('4442["some","data"', id="connect_error from client, truncated json"),
    pytest.param('40/custom,"invalid"', id="connect payload is a string"),
    pytest.param("40[]", id="connect payload is an array"),
    pytest.param("41/custom,{}", id="disconnect with a payload"),
    pytest.param('42/custom,"invalid', id="event payload truncated string"),
    pytest.param("42/custom,{}", id="event payload object on custom namespace"),
    pytest.param('42[{"toString":"foo"}]', id="event name is an object"),
    pytest.param('42[true,"foo"]', id="event name is a boolean"),
    pytest.param('42[null,"bar"]', id="event name is null"),
    pytest.param("42[]", id="event payload is an empty array"),
    pytest.param('42"message"', id="event payload is a string"),
    pytest.param("431{}", id="ack payload is an object"),
    pytest.param("4999", id="packet type 9"),
    pytest.param("45", id="binary event without attachment count"),
    pytest.param("451", id="binary event count without dash"),
    pytest.param("45a-", id="binary event non-numeric count"),
    pytest.param("451.23-", id="binary event fractional count"),
    pytest.param('42["message",1', id="truncated json"),
]


class TestInvalidPackets:
    @pytest.mark.parametrize("payload", INVALID_PACKETS)
    def test_closes_the_connection_upon_invalid_packet(self, sio, payload):
        sio.send(payload)
        frames = sio.wait_closed(REPLY_TIMEOUT, answer_pings=True)
        assert not any("message-back" in t for t in _texts(frames)), frames


# =========================================================================== HTTP long-polling


def _polling_connect(server_url, connect="40", nsp="/"):
    sid = open_polling_session(server_url, PATH)["sid"]
    pushed = push(server_url, PATH, sid, connect)
    assert pushed.status_code == 200 and pushed.text == "ok", (pushed.status_code, pushed.text)
    connected, auth = poll_packets(server_url, PATH, sid, 2)
    _assert_connect_ok(connected, nsp)
    return sid, auth


class TestPolling:
    def test_handshake_advertises_the_websocket_upgrade(self, server_url):
        opened = open_polling_session(server_url, PATH)
        assert opened["upgrades"] == ["websocket"]
        assert opened["pingInterval"] == 300 and opened["pingTimeout"] == 200 and opened["maxPayload"] == 1000000

    def test_connects_to_the_main_namespace_with_a_payload(self, server_url):
        _, auth = _polling_connect(server_url, '40{"token":"123"}')
        assert_sio_equal(auth, '42["auth",{"token":"123"}]')

    def test_connects_to_a_custom_namespace(self, server_url):
        _, auth = _polling_connect(server_url, "40/custom,", "/custom")
        assert_sio_equal(auth, '42/custom,["auth",{}]')

    def test_disallows_connection_to_an_unknown_namespace(self, server_url):
        sid = open_polling_session(server_url, PATH)["sid"]
        assert push(server_url, PATH, sid, "40/random").text == "ok"
        (refused,) = poll_packets(server_url, PATH, sid, 1)
        assert refused.startswith("44/random,"), refused
        assert json.loads(refused[len("44/random,"):]) == {"message": "Invalid namespace"}

    def test_event_and_ack_in_one_payload(self, server_url):
        sid, _ = _polling_connect(server_url)
        body = '42["message","a",1]' + RS + '427["message-with-ack",{"k":[null,false]}]'
        assert push(server_url, PATH, sid, body).text == "ok"
        back, ack = poll_packets(server_url, PATH, sid, 2)
        assert_sio_equal(back, '42["message-back","a",1]')
        assert_sio_equal(ack, '437[{"k":[null,false]}]')

    def test_binary_event_attachments_are_base64(self, server_url):
        sid, _ = _polling_connect(server_url)
        body = RS.join([f'452-["message",{P0},{P1}]', "bAQID", "bBAUG"])
        assert push(server_url, PATH, sid, body).text == "ok"
        header, first, second = poll_packets(server_url, PATH, sid, 3)
        assert_sio_equal(header, f'452-["message-back",{P0},{P1}]')
        assert first.startswith("b") and base64.b64decode(first[1:]) == bytes([1, 2, 3]), first
        assert second.startswith("b") and base64.b64decode(second[1:]) == bytes([4, 5, 6]), second

    def test_binary_ack_attachments_are_base64(self, server_url):
        sid, _ = _polling_connect(server_url)
        body = RS.join([f'451-789["message-with-ack",{P0}]', "b" + base64.b64encode(bytes([0, 30, 255])).decode()])
        assert push(server_url, PATH, sid, body).text == "ok"
        header, attachment = poll_packets(server_url, PATH, sid, 2)
        assert_sio_equal(header, f"461-789[{P0}]")
        assert attachment.startswith("b") and base64.b64decode(attachment[1:]) == bytes([0, 30, 255]), attachment

    def test_binary_attachments_may_arrive_in_separate_posts(self, server_url):
        sid, _ = _polling_connect(server_url)
        assert push(server_url, PATH, sid, f'451-["message",{P0}]').text == "ok"
        assert push(server_url, PATH, sid, "bCgsM").text == "ok"
        header, attachment = poll_packets(server_url, PATH, sid, 2)
        assert_sio_equal(header, f'451-["message-back",{P0}]')
        assert base64.b64decode(attachment[1:]) == bytes([10, 11, 12])

    def test_invalid_packet_closes_the_session(self, server_url):
        sid, _ = _polling_connect(server_url)
        response = push(server_url, PATH, sid, "42{}")
        if response.status_code == 200:
            # accepted, then the session is closed: a pending/next GET gets "close" or 400
            followup = poll(server_url, PATH, sid)
            assert followup.status_code == 400 or followup.text.split(RS)[-1] == "1", (followup.status_code, followup.text)
            if followup.status_code == 200:
                assert poll(server_url, PATH, sid).status_code == 400
        else:
            assert response.status_code == 400
            assert poll(server_url, PATH, sid).status_code == 400

    def test_closes_the_session_if_no_connect_is_received(self, server_url):
        sid = open_polling_session(server_url, PATH)["sid"]
        deadline = time.monotonic() + CONNECT_TIMEOUT + MARGIN
        # Answer every ping so that only the connect timeout can end the session.
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "session still open after connectTimeout"
            response = poll(server_url, PATH, sid, timeout=remaining)
            if response.status_code == 400:
                return
            assert response.status_code == 200, (response.status_code, response.text)
            packets = response.text.split(RS)
            if "1" in packets:
                assert poll(server_url, PATH, sid).status_code == 400
                return
            assert set(packets) <= {"2", "6"}, packets
            if "2" in packets:
                push(server_url, PATH, sid, "3")

    def test_upgrade_keeps_the_socketio_session(self, server_url, ws_url):
        sid, _ = _polling_connect(server_url)
        ws = WS(websocket_url(ws_url, PATH, sid))
        try:
            ws.send("2probe")
            assert ws.recv_text() == "3probe"
            ws.send("5")
            ws.send('42["message","over websocket"]')
            # noops are tolerated here: this test is about the session surviving the upgrade
            # (test_engineio.TestUpgrade checks that no stray noop reaches the WebSocket)
            assert_sio_equal(ws.recv_skipping_pings(skip_noops=True).data, '42["message-back","over websocket"]')
            ws.send(f'451-["message",{P0}]')
            ws.send_binary(b"\x00\x01")
            header, attachment = ws.recv_packets(2, skip_noops=True)
            assert_sio_equal(header.data, f'451-["message-back",{P0}]')
            assert attachment.binary and attachment.data == b"\x00\x01"
        finally:
            ws.close()

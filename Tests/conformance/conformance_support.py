"""Raw Engine.IO v4 / Socket.IO v5 client helpers shared by the conformance tests.

Every receive blocks with a timeout; nothing here sleeps to synchronise.
"""
import json
import time
from dataclasses import dataclass
from typing import List, Optional, Union

import requests
import websocket

# Settings of the conformance server (see the official test suites).
PING_INTERVAL = 0.300
PING_TIMEOUT = 0.200
MAX_PAYLOAD = 1_000_000
CONNECT_TIMEOUT = 1.000
# Slack added to every protocol interval: generous enough for a loaded 2-core CI machine.
MARGIN = 1.5
# How long to wait for an answer that should come right away.
REPLY_TIMEOUT = 5.0

RS = "\x1e"  # record separator between packets of a polling payload


# --------------------------------------------------------------------------- HTTP long-polling


def polling_url(base: str, path: str, sid: Optional[str] = None, **extra) -> str:
    url = f"{base}{path}?EIO=4&transport=polling"
    if sid is not None:
        url += f"&sid={sid}"
    for key, value in extra.items():
        url += f"&{key}={value}"
    return url


def open_polling_session(base: str, path: str = "/engine.io/") -> dict:
    """Handshake over HTTP long-polling; returns the decoded open packet (contains "sid")."""
    response = requests.get(polling_url(base, path), timeout=REPLY_TIMEOUT)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.text.startswith("0"), response.text
    return json.loads(response.text[1:])


def poll(base: str, path: str, sid: str, timeout: float = REPLY_TIMEOUT) -> requests.Response:
    return requests.get(polling_url(base, path, sid), timeout=timeout)


def push(base: str, path: str, sid: str, body: Union[str, bytes], timeout: float = REPLY_TIMEOUT, **kwargs):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return requests.post(polling_url(base, path, sid), data=data, timeout=timeout, **kwargs)


def poll_packets(base: str, path: str, sid: str, count: int, timeout: float = REPLY_TIMEOUT) -> List[str]:
    """GETs until at least `count` packets other than pings arrived; pings are answered with pongs."""
    packets: List[str] = []
    deadline = time.monotonic() + timeout
    while len(packets) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {packets!r} arrived within {timeout} s, wanted {count} packets"
        response = poll(base, path, sid, timeout=remaining)
        assert response.status_code == 200, (response.status_code, response.text, packets)
        for packet in response.text.split(RS):
            if packet == "2":
                pong = push(base, path, sid, "3")
                assert pong.status_code == 200, (pong.status_code, pong.text)
                continue
            packets.append(packet)
    return packets


def error_body(response: requests.Response) -> dict:
    """The JSON body {"code": n, "message": "..."} of an Engine.IO error response."""
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {response.text!r}")
    assert isinstance(body, dict), body
    return body


# --------------------------------------------------------------------------- WebSocket


class WSClosed(Exception):
    """The server closed the WebSocket connection."""


@dataclass
class Frame:
    binary: bool
    data: Union[str, bytes]


def websocket_url(ws_base: str, path: str, sid: Optional[str] = None, query: Optional[str] = None) -> str:
    if query is not None:
        return f"{ws_base}{path}?{query}"
    url = f"{ws_base}{path}?EIO=4&transport=websocket"
    if sid is not None:
        url += f"&sid={sid}"
    return url


class WS:
    """A thin blocking WebSocket client (websocket-client) with deadline-based receives."""

    def __init__(self, url: str, timeout: float = REPLY_TIMEOUT, sockopt: tuple = ()):
        """`sockopt`: socket options set before connecting, as `(level, option, value)` triples."""
        self.url = url
        self.ws = websocket.create_connection(url, timeout=timeout, sockopt=sockopt)
        self.closed = False

    # sending
    def send(self, text: str) -> None:
        self.ws.send(text)

    def send_binary(self, data: bytes) -> None:
        self.ws.send_binary(data)

    # receiving
    def recv(self, timeout: float = REPLY_TIMEOUT) -> Frame:
        """The next text or binary frame; raises WSClosed once the server closed the connection."""
        if self.closed:
            raise WSClosed()
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            raise AssertionError(f"no frame within {timeout} s on {self.url}")
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as error:
            if isinstance(error, TimeoutError):
                raise AssertionError(f"no frame within {timeout} s on {self.url}")
            self.closed = True
            raise WSClosed() from error
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.closed = True
            raise WSClosed()
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return Frame(False, data.decode("utf-8"))
        return Frame(True, bytes(data))

    def recv_text(self, timeout: float = REPLY_TIMEOUT) -> str:
        frame = self.recv(timeout)
        assert not frame.binary, f"expected a text frame, got binary {frame.data!r}"
        return frame.data

    def recv_skipping_pings(self, timeout: float = REPLY_TIMEOUT, skip_noops: bool = False) -> Frame:
        """The next frame that is not an Engine.IO ping (nor a noop, with skip_noops); pings are
        answered with pongs."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no frame other than pings within {timeout} s on {self.url}")
            frame = self.recv(remaining)
            if not frame.binary and frame.data == "2":
                self.send("3")
                continue
            if skip_noops and not frame.binary and frame.data == "6":
                continue
            return frame

    def recv_packets(self, count: int, timeout: float = REPLY_TIMEOUT, skip_noops: bool = False) -> List[Frame]:
        deadline = time.monotonic() + timeout
        return [self.recv_skipping_pings(max(0.0, deadline - time.monotonic()), skip_noops) for _ in range(count)]

    def wait_closed(self, timeout: float, answer_pings: bool = False) -> List[Frame]:
        """Blocks until the server closes the connection; returns the frames received meanwhile.

        Fails when the connection is still open after `timeout` seconds.
        """
        frames: List[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"connection still open after {timeout} s; received {frames!r}")
            try:
                frame = self.recv(remaining)
            except WSClosed:
                return frames
            except AssertionError:
                raise AssertionError(f"connection still open after {timeout} s; received {frames!r}")
            frames.append(frame)
            if answer_pings and not frame.binary and frame.data == "2":
                self.send("3")

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass


def open_websocket_session(ws_base: str, path: str = "/engine.io/", sockopt: tuple = ()) -> tuple:
    """WebSocket-only handshake; returns (WS, decoded open packet)."""
    ws = WS(websocket_url(ws_base, path), sockopt=sockopt)
    opening = ws.recv_text()
    assert opening.startswith("0"), opening
    return ws, json.loads(opening[1:])


def assert_websocket_accepted_then_closed(url: str, timeout: float = REPLY_TIMEOUT) -> None:
    """As the reference server does for a second WebSocket of an upgraded session: the HTTP upgrade
    succeeds (101), then the server closes the connection without sending anything."""
    try:
        ws = WS(url)
    except websocket.WebSocketBadStatusException as error:
        raise AssertionError(f"the upgrade was refused with HTTP {error.status_code}; it must be accepted, then closed")
    try:
        frames = ws.wait_closed(timeout)
    finally:
        ws.close()
    assert frames == [], f"nothing may be sent on it: {frames!r}"


def assert_websocket_refused(url: str, timeout: float = REPLY_TIMEOUT) -> None:
    """The server must refuse the WebSocket: either the HTTP upgrade fails, or the connection is
    closed without an Engine.IO open packet."""
    try:
        ws = WS(url)
    except websocket.WebSocketBadStatusException as error:
        assert 400 <= error.status_code < 500, error.status_code
        return
    except (websocket.WebSocketException, ConnectionError, OSError):
        return  # the server dropped the connection during the upgrade
    try:
        frames = ws.wait_closed(timeout)
    finally:
        ws.close()
    assert not any(not f.binary and f.data.startswith("0") for f in frames), f"a session was opened: {frames!r}"


def placeholder(num: int) -> str:
    return '{"_placeholder":true,"num":%d}' % num


# --------------------------------------------------------------------------- Socket.IO packets


@dataclass
class SioPacket:
    type: int
    attachments: Optional[int]
    nsp: str
    id: Optional[int]
    data: object


def parse_sio(encoded: str) -> SioPacket:
    """Decodes a Socket.IO packet (without the Engine.IO "4" prefix) so that JSON payloads can be
    compared by value rather than by their exact serialisation."""
    assert encoded and encoded[0].isdigit(), encoded
    packet_type = int(encoded[0])
    i = 1
    attachments = None
    if packet_type in (5, 6):
        dash = encoded.index("-", i)
        attachments = int(encoded[i:dash])
        i = dash + 1
    nsp = "/"
    if i < len(encoded) and encoded[i] == "/":
        comma = encoded.find(",", i)
        if comma == -1:
            nsp, i = encoded[i:], len(encoded)
        else:
            nsp, i = encoded[i:comma], comma + 1
    start = i
    while i < len(encoded) and encoded[i].isdigit():
        i += 1
    packet_id = int(encoded[start:i]) if i > start else None
    data = json.loads(encoded[i:]) if i < len(encoded) else None
    return SioPacket(packet_type, attachments, nsp, packet_id, data)


def assert_sio_equal(received: str, expected: str) -> None:
    """A received Engine.IO message carrying a Socket.IO packet equals the expected one (JSON by value)."""
    assert received.startswith("4"), f"not an Engine.IO message packet: {received!r}"
    assert expected.startswith("4"), expected
    try:
        got = parse_sio(received[1:])
    except (ValueError, AssertionError) as error:
        raise AssertionError(f"undecodable Socket.IO packet {received!r}: {error}")
    want = parse_sio(expected[1:])
    assert (got.type, got.attachments, got.nsp, got.id) == (want.type, want.attachments, want.nsp, want.id), (
        f"received {received!r}, expected {expected!r}"
    )
    assert canonical_json(got.data) == canonical_json(want.data), f"received {received!r}, expected {expected!r}"


def canonical_json(value) -> str:
    """JSON text that tells true from 1 but not 1 from 1.0 (the same JSON number), keys sorted."""

    def normalise(v):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [normalise(x) for x in v]
        if isinstance(v, dict):
            return {k: normalise(x) for k, x in v.items()}
        return v

    return json.dumps(normalise(value), sort_keys=True)

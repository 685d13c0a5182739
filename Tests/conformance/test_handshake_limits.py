"""Handshake admission (beyond the suites): a server holding too many silent sessions from one
address answers 429, one admitting new sessions faster than its rate answers 503, both with
Retry-After; over WebSocket the connection is accepted and closed with 1008 or 1013 and a reason,
since a refused upgrade could not say why. Each case runs its own server with small limits."""
import pytest
import requests
import websocket

from conformance_support import REPLY_TIMEOUT, open_polling_session, polling_url, push, websocket_url
from conftest import run_server

PATH = "/socket.io/"


@pytest.fixture(scope="module")
def few_per_address(tmp_path_factory):
    yield from run_server(tmp_path_factory, MAX_PENDING_PER_ADDRESS=3)


@pytest.fixture(scope="module")
def slow_rate(tmp_path_factory):
    yield from run_server(tmp_path_factory, HANDSHAKES_PER_SECOND=1, HANDSHAKE_BURST=2)


def refused_websocket(url):
    """Opens a WebSocket and returns the close frame's (code, reason)."""
    ws = websocket.create_connection(url, timeout=REPLY_TIMEOUT)
    try:
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE, (opcode, data)
        return int.from_bytes(data[:2], "big"), data[2:].decode()
    finally:
        ws.close()


def test_silent_sessions_are_capped_per_address(few_per_address):
    sids = [open_polling_session(few_per_address, PATH)["sid"] for _ in range(3)]
    refused = requests.get(polling_url(few_per_address, PATH), timeout=REPLY_TIMEOUT)
    assert refused.status_code == 429, refused.text
    assert refused.headers.get("Retry-After")
    assert refused.json()["message"]
    code, reason = refused_websocket(websocket_url("ws" + few_per_address[len("http"):], PATH))
    assert code == 1008 and reason, (code, reason)
    # A session whose client speaks (its CONNECT) is no longer silent: its place is free again.
    assert push(few_per_address, PATH, sids[0], "40").status_code == 200
    assert requests.get(polling_url(few_per_address, PATH), timeout=REPLY_TIMEOUT).status_code == 200


def test_new_sessions_beyond_the_rate_are_told_to_retry(slow_rate):
    ws_base = "ws" + slow_rate[len("http"):]
    answers = [requests.get(polling_url(slow_rate, PATH), timeout=REPLY_TIMEOUT) for _ in range(4)]
    statuses = [answer.status_code for answer in answers]
    assert 200 in statuses and 503 in statuses, statuses
    busy = next(answer for answer in answers if answer.status_code == 503)
    assert int(busy.headers["Retry-After"]) >= 1
    code, reason = refused_websocket(websocket_url(ws_base, PATH))
    assert code == 1013 and reason, (code, reason)

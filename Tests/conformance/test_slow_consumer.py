"""A WebSocket client that stops reading is cut off once the bytes waiting for it pass the bound,
counting those the server's connection has not sent yet; the server never buffers without bound
for it. The client here sends echo requests and reads nothing until it cannot send any more."""
import socket

import pytest
import websocket

from conformance_support import REPLY_TIMEOUT, WSClosed, open_websocket_session
from conftest import run_server

BOUND = 256 * 1024
MESSAGE = "4" + "x" * 65_536  # an Engine.IO message the echo server sends back
MESSAGES = 400  # 26 MB: far more than the bound plus every kernel buffer on the way


@pytest.fixture(scope="module")
def small_bound(tmp_path_factory):
    # Pings far apart: the client is cut off for reading slowly, never for a missed pong.
    yield from run_server(tmp_path_factory, MAX_BUFFERED_BYTES=BOUND, PING_INTERVAL_MS=600_000)


def test_a_websocket_client_that_stops_reading_is_cut_off(small_bound):
    # A small receive buffer fills fast.
    ws, _ = open_websocket_session(
        "ws" + small_bound[len("http"):], sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024),))
    try:
        sent = 0
        try:
            for _ in range(MESSAGES):
                ws.send(MESSAGE)
                sent += 1
        except (websocket.WebSocketTimeoutException, websocket.WebSocketConnectionClosedException, OSError):
            pass  # the server stopped reading: it cut this client off
        # Now read: the echoes the server had written, then its close, not every echo.
        echoes = 0
        while True:
            try:
                frame = ws.recv(REPLY_TIMEOUT)  # fails if the server neither sends nor closes
            except WSClosed:
                break
            assert not frame.binary and frame.data == MESSAGE, frame.data[:40]
            echoes += 1
        assert 0 < echoes < sent, (echoes, sent)
    finally:
        ws.close()

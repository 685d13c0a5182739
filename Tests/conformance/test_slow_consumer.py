"""A WebSocket client that stops reading is cut off once the bytes waiting for it pass the bound,
counting those the server's connection has not sent yet; the server never buffers without bound
for it. The client here sends echo requests and reads nothing until it cannot send any more."""
import socket

import pytest

from conformance_support import REPLY_TIMEOUT
from conftest import run_server

BOUND = 256 * 1024
MESSAGE = "4" + "x" * 65_536  # an Engine.IO message the echo server sends back
MESSAGES = 400  # 26 MB: far more than the bound plus every kernel buffer on the way


@pytest.fixture(scope="module")
def small_bound(tmp_path_factory):
    # Pings far apart: the client is cut off for reading slowly, never for a missed pong.
    yield from run_server(tmp_path_factory, MAX_BUFFERED_BYTES=BOUND, PING_INTERVAL_MS=600_000)


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (the mask is zero: XOR leaves the payload as it is)."""
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65_536:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
    return header + b"\0\0\0\0" + payload


class FrameReader:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the connection without a close frame")
            self.buffer += chunk
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def frame(self) -> tuple:
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._take(2), "big")
        elif length == 127:
            length = int.from_bytes(self._take(8), "big")
        return first & 0x0F, self._take(length)


def open_websocket(url_base: str) -> tuple:
    host, port = url_base[len("http://"):].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # fills fast
    sock.connect((host, int(port)))
    sock.settimeout(REPLY_TIMEOUT)
    sock.sendall(
        b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %b\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        % host.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)
        assert chunk, response
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    reader = FrameReader(sock)
    opcode, payload = reader.frame()
    assert opcode == 0x1 and payload.startswith(b"0{"), (opcode, payload[:80])
    return sock, reader


def test_a_websocket_client_that_stops_reading_is_cut_off(small_bound):
    sock, reader = open_websocket(small_bound)
    try:
        sent = 0
        frame = client_frame(0x1, MESSAGE.encode())
        try:
            for _ in range(MESSAGES):
                sock.sendall(frame)
                sent += 1
        except (socket.timeout, ConnectionError):
            pass  # the server stopped reading: it cut this client off
        # Now read: the echoes the server had written, then its close frame, not every echo.
        echoes = 0
        while True:
            opcode, payload = reader.frame()
            if opcode == 0x8:
                break
            assert opcode == 0x1 and payload == MESSAGE.encode(), (opcode, payload[:40])
            echoes += 1
        assert 0 < echoes < sent, (echoes, sent)
    finally:
        sock.close()

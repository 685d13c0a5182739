#!/usr/bin/env python3
"""Benchmark of one VoiceFlow Socket.IO gateway: idle sockets (memory) and room fan-out
(throughput and delivery latency).

Run it against a running local stack (`make up`), from the repository root:

    .data/venv/bin/python scripts/bench-gateway.py
    .data/venv/bin/python scripts/bench-gateway.py --idle 100 --fanout 10 --messages 100

It needs python-socketio 5.x, requests and aiohttp in that venv
(`.data/venv/bin/pip install -r scripts/bench-requirements.txt`).

The script starts its OWN gateway process on a free port (the stack's gateways are not used),
pointed at the stack's rooms and messages services and Redis, and stops it at the end (also on
Ctrl-C). It never builds anything: it runs `--binary`, by default `.build/release/voiceflow-gateway`
when present, else `.build/debug/voiceflow-gateway`.

1. Idle sockets: opens N Socket.IO connections over WebSocket (authenticated, no room), holds
   them, and prints the gateway's RSS (VmRSS in /proc/<pid>/status) before and after and the
   difference per socket, plus the time to open (and close) them.
2. Fan-out: one fresh room with F receiving sockets and S sending sockets; M messages go out with
   `message:send` (each content carries its send time), and every `message:received` on a
   receiver gives one delivery latency. Prints messages/s, deliveries/s, p50/p99/max latency and
   a loss/duplicate/order check per receiver. Losses are reported, never hidden.

Users: a small pool of benchmark users (`<prefix>1`..`<prefix>K`, fixed e-mail and password) is
logged in, and registered only the first time, so repeated runs do not spend the per-IP
registration limit. Many sockets share one user.

Rate limits of the stack: the messages service allows 120 messages per minute per user (GCRA,
bursts of 120), so the M messages are spread over S sender users; a send answered RATE_LIMITED is
retried after a pause and counted. The gateway itself runs with SOCKET_EVENTS_PER_SECOND=1000.

Measurements are printed, not asserted: the exit status is 0 unless setup failed (1: stack
unreachable, users/room not created, gateway not ready), the gateway died during the run (2) or
the run was interrupted (130).

Settings (flag, or environment variable, or default):
  --base-url   VOICEFLOW_BASE_URL  http://127.0.0.1:8080  (the edge; REST under /api/v1)
  --rooms-url  ROOMS_URL           http://127.0.0.1:3002
  --messages-url MESSAGES_URL      http://127.0.0.1:3003
  --jwt-key-file JWT_KEY_FILE      .data/keys/jwt-ed25519.pem
  --redis-url  REDIS_URL           redis://127.0.0.1:6379
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import math
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import build_config, default_binary, free_port, percentile  # noqa: E402
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

try:
    import aiohttp
    import requests
except ImportError as missing:  # pragma: no cover - environment problem
    sys.exit(f"bench-gateway: {missing}. Use .data/venv/bin/python "
             f"(and `.data/venv/bin/pip install -r scripts/bench-requirements.txt`).")


class SetupError(Exception):
    """The benchmark could not be set up (exit 1)."""


class RegistrationLimited(SetupError):
    """A benchmark user could not be registered yet (per-IP limit)."""


class GatewayDied(Exception):
    """The gateway under test exited during the run (exit 2)."""


# ------------------------------------------------------------------------------------------ helpers


def redact(url: str) -> str:
    """The URL without a password (REDIS_URL may carry one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))






def fmt_ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f}"






# ------------------------------------------------------------------------------------------ gateway


class Gateway:
    """The gateway process this benchmark starts, watches and stops."""

    def __init__(self, args):
        self.args = args
        self.port = args.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # /health and /ready are also served on a port (and thread) of their own, as for the edge.
        self.health_port = free_port()
        self.health_url = f"http://127.0.0.1:{self.health_port}"
        self.process: subprocess.Popen | None = None
        if args.gateway_log:
            self.log_path, self.keep_log = args.gateway_log, True
        else:
            handle, self.log_path = tempfile.mkstemp(prefix="bench-gateway-", suffix=".log")
            os.close(handle)
            self.keep_log = False
        self._log_file = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self):
        args = self.args
        if not os.access(args.binary, os.X_OK):
            raise SetupError(f"gateway binary not found or not executable: {args.binary} "
                             f"(build it first; this script never builds)")
        env = dict(os.environ)
        env.update({
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "ROOMS_URL": args.rooms_url,
            "MESSAGES_URL": args.messages_url,
            "JWT_KEY_FILE": args.jwt_key_file,
            "REDIS_URL": args.redis_url,
            "LOG_LEVEL": args.log_level,
            "SOCKET_EVENTS_PER_SECOND": str(args.events_per_second),
            "GATEWAY_ID": f"gw-bench-{os.getpid()}",
            "HEALTH_PORT": str(self.health_port),
        })
        self._log_file = open(self.log_path, "ab")
        # Own session: a Ctrl-C in the terminal reaches this script, which then stops the gateway
        # in order (SIGTERM, then SIGKILL after a grace period).
        self.process = subprocess.Popen(
            [args.binary], env=env, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + args.ready_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"gateway exited with status {self.process.returncode} before it was "
                                 f"ready; log tail:\n{self.log_tail()}")
            try:
                response = requests.get(self.url + "/ready", timeout=2)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.2)
        raise SetupError(f"gateway not ready within {args.ready_timeout}s (last: {last}); "
                         f"log tail:\n{self.log_tail()}")

    def check_alive(self):
        if self.process is not None and self.process.poll() is not None:
            raise GatewayDied(f"gateway exited with status {self.process.returncode} during the run; "
                              f"log tail:\n{self.log_tail()}")

    def rss_kib(self) -> int:
        return self._status_field("VmRSS")

    def hwm_kib(self) -> int:
        return self._status_field("VmHWM")

    def threads(self) -> int:
        return self._status_field("Threads")

    def _status_field(self, name: str) -> int:
        self.check_alive()
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"{name} missing from /proc/{self.pid}/status")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the gateway so far."""
        self.check_alive()
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print("  gateway did not stop within 15 s of SIGTERM; killing it", flush=True)
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:]).rstrip() or "(empty)"
        except OSError:
            return "(no log)"

    def log_summary(self) -> tuple[Counter, list[str]]:
        """Counts of log lines by level, and a few distinct warning-or-worse messages."""
        levels: Counter = Counter()
        notable: dict[str, int] = {}
        try:
            with open(self.log_path, errors="replace") as log:
                for line in log:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        record = json.loads(line)
                        level, message = record.get("level", "?"), record.get("message", line)
                    except ValueError:
                        level, message = "unparsed", line[:200]
                    levels[level] += 1
                    if level not in ("trace", "debug", "info", "notice"):
                        key = f"{level}: {message}"
                        notable[key] = notable.get(key, 0) + 1
        except OSError:
            pass
        return levels, [f"{count}x {key}" for key, count in sorted(notable.items(), key=lambda kv: -kv[1])]

    def cleanup_log(self):
        if not self.keep_log:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass


# ------------------------------------------------------------------------------------------ REST setup


class Api:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = requests.Session()

    def call(self, method, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)
        except requests.RequestException as error:
            raise SetupError(f"{method} {self.base + path}: {error}") from error

    def user(self, prefix: str, index: int) -> dict:
        """Logs benchmark user `index` in, registering it the first time."""
        username = f"{prefix}{index}"
        email = f"{prefix}{index}@bench.example.com"
        password = f"{prefix}-bench-{index}-password"
        response = self.call("POST", "/auth/login", json={"email": email, "password": password})
        if response.status_code == 401:
            response = self.call("POST", "/auth/register", json={
                "username": username, "email": email, "password": password, "confirmPassword": password})
            if response.status_code == 429:
                raise RegistrationLimited(f"register {username}: 429, per-IP registration limit "
                                          f"(Retry-After {response.headers.get('Retry-After', '?')} s)")
            if response.status_code != 201:
                raise SetupError(f"register {username}: {response.status_code} {response.text[:300]}"
                                 + (" (name taken with another e-mail? use --user-prefix)" if response.status_code == 409 else ""))
        elif response.status_code != 200:
            raise SetupError(f"login {username}: {response.status_code} {response.text[:300]}"
                             + (" (login rate limit; wait a few minutes)" if response.status_code == 429 else ""))
        body = response.json()
        return {"name": username, "token": body["token"], "id": body["user"]["id"]}

    def room(self, users: list[dict], name: str) -> dict:
        response = self.call("POST", "/rooms", token=users[0]["token"], json={"name": name, "maxUsers": 500})
        if response.status_code != 201:
            raise SetupError(f"create room: {response.status_code} {response.text[:300]}")
        room = response.json()
        for user in users[1:]:
            joined = self.call("POST", f"/rooms/{room['code']}/join", token=user["token"])
            if joined.status_code != 200:
                raise SetupError(f"{user['name']} join room: {joined.status_code} {joined.text[:300]}")
        return room


# ------------------------------------------------------------------------------------------ clients


# Probes /ready and /health of the URL in argv[1] every 100 ms, each on a new connection, until
# terminated; prints "path status seconds" per probe ("error" for no answer within 5 s).
PROBE_SCRIPT = """
import signal, sys, time, requests
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    for path in ("/ready", "/health"):
        started = time.perf_counter()
        try:
            status = requests.get(sys.argv[1] + path, timeout=5, headers={"Connection": "close"}).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        print(path, status, time.perf_counter() - started, flush=True)
    time.sleep(0.1)
"""


class ConnectFailed(Exception):
    def __init__(self, message, status=None, retry_after=None):
        super().__init__(message)
        self.status = status  # HTTP status of a refused WebSocket handshake
        self.retry_after = retry_after  # its Retry-After, seconds


class CallTimeout(Exception):
    pass


class RawSocket:
    """A minimal Socket.IO v5 client over one Engine.IO v4 WebSocket (text packets only): CONNECT
    with auth, events, acks, and answering the server's pings. Far lighter than one
    socketio.AsyncClient per connection, so thousands fit in one Python process and the client adds
    little to the measured latency."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str):
        self.http = http
        self.url = url.replace("http://", "ws://").replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.handlers = {}
        self.acks: dict[int, asyncio.Future] = {}
        self.ack_ids = itertools.count()
        self.ws = None
        self.reader = None
        self.connected = False
        self.closing = False
        self.lost_reason = None  # set when the connection ended without close()
        self._connected: asyncio.Future | None = None  # the CONNECT answer

    def on(self, event, handler):
        self.handlers[event] = handler

    @property
    def alive(self) -> bool:
        return self.connected and self.ws is not None and not self.ws.closed

    async def connect(self, timeout: float):
        try:
            self.ws = await self.http.ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=5),
                                                 autoping=True, max_msg_size=0)
            opened = await asyncio.wait_for(self.ws.receive(), timeout)
            if opened.type == aiohttp.WSMsgType.CLOSE and opened.data in (1008, 1013):
                # A handshake beyond the gateway's limits: 1008 too many from this address, 1013
                # try again later (the WebSocket forms of 429 and 503).
                raise ConnectFailed(f"handshake refused: close {opened.data} {opened.extra}",
                                    status=429 if opened.data == 1008 else 503, retry_after=1.0)
            if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                raise ConnectFailed(f"unexpected Engine.IO open: {opened.type} {str(opened.data)[:100]}")
            self._connected = asyncio.get_running_loop().create_future()
            self.reader = asyncio.create_task(self._read())
            await self.ws.send_str("40" + json.dumps({"token": self.token}, separators=(",", ":")))
            await asyncio.wait_for(self._connected, timeout)
            self.connected = True
        except asyncio.TimeoutError as error:
            await self.close()
            raise ConnectFailed("timed out") from error
        except aiohttp.WSServerHandshakeError as error:
            await self.close()
            retry_after = (error.headers or {}).get("Retry-After")
            raise ConnectFailed(f"handshake refused: HTTP {error.status}", status=error.status,
                                retry_after=float(retry_after) if retry_after else None) from error
        except (aiohttp.ClientError, OSError) as error:
            await self.close()
            raise ConnectFailed(f"{type(error).__name__}: {error}") from error
        except ConnectFailed:
            await self.close()
            raise

    async def _read(self):
        ws = self.ws
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = message.data
                kind = data[:1]
                if kind == "4":
                    self._socketio(data)
                elif kind == "2":
                    await ws.send_str("3" + data[1:])
                elif kind == "1":
                    break
            if not self.closing:
                self.lost_reason = f"closed by server (WebSocket code {ws.close_code})"
        except Exception as error:  # noqa: BLE001 - report whatever ended the connection
            if not self.closing:
                self.lost_reason = f"{type(error).__name__}: {error}"
        finally:
            self.connected = False
            if self._connected is not None and not self._connected.done():
                self._connected.set_exception(ConnectFailed(self.lost_reason or "closed"))
            for future in self.acks.values():
                if not future.done():
                    future.set_exception(ConnectionError(self.lost_reason or "closed"))
            self.acks.clear()

    def _socketio(self, data: str):
        kind = data[1:2]
        index = 2
        if data[index:index + 1] == "/":  # a namespace other than "/" (not used by the gateway)
            comma = data.find(",", index)
            index = len(data) if comma < 0 else comma + 1
        start = index
        while index < len(data) and data[index].isdigit():
            index += 1
        ack_id = int(data[start:index]) if index > start else None
        payload = json.loads(data[index:]) if index < len(data) else None
        if kind == "2":
            if payload:
                handler = self.handlers.get(payload[0])
                if handler is not None:
                    handler(*payload[1:])
        elif kind == "3":
            future = self.acks.pop(ack_id, None)
            if future is not None and not future.done():
                future.set_result(payload[0] if payload else None)
        elif kind == "0":
            if not self._connected.done():
                self._connected.set_result(payload)
        elif kind == "4":
            if not self._connected.done():
                self._connected.set_exception(ConnectFailed(f"refused: {payload}"))
        elif kind == "1":
            self.lost_reason = "Socket.IO DISCONNECT from server"
            self.connected = False

    async def call(self, event: str, data, timeout: float):
        ack_id = next(self.ack_ids)
        future = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = future
        try:
            await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":")))
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError as error:
            raise CallTimeout(event) from error
        finally:
            self.acks.pop(ack_id, None)

    async def close(self):
        self.closing = True
        ws = self.ws
        try:
            if ws is not None and not ws.closed:
                if self.connected:
                    await ws.send_str("41")
                await ws.close()
        except Exception:  # noqa: BLE001 - best effort
            pass
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
            try:
                await self.reader
            except BaseException:  # noqa: BLE001
                pass
        self.connected = False


class SioSocket:
    """The same interface over python-socketio's AsyncClient (`--client socketio`)."""

    _classes = None

    @classmethod
    def _client_class(cls):
        if cls._classes is None:
            import engineio
            import socketio

            class EngineIOClient(engineio.AsyncClient):
                # The stock __del__ closes the aiohttp session even when it is shared.
                def __del__(self):
                    pass

            class Client(socketio.AsyncClient):
                def _engineio_client_class(self):
                    return EngineIOClient

            cls._classes = (Client, socketio)
        return cls._classes

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str):
        client, self.socketio = self._client_class()
        self.sio = client(reconnection=False, handle_sigint=False, http_session=http)
        self.url = url
        self.token = token
        self.closing = False
        self.lost_reason = None
        self.sio.on("disconnect", self._on_disconnect)

    def _on_disconnect(self, reason=None):
        if not self.closing:
            self.lost_reason = f"disconnected: {reason}"

    def on(self, event, handler):
        self.sio.on(event, handler=handler)

    @property
    def alive(self) -> bool:
        return self.sio.connected

    async def connect(self, timeout: float):
        try:
            await self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"],
                                   wait_timeout=timeout)
        except self.socketio.exceptions.ConnectionError as error:
            raise ConnectFailed(str(error)) from error

    async def call(self, event: str, data, timeout: float):
        try:
            return await self.sio.call(event, data, timeout=timeout)
        except self.socketio.exceptions.TimeoutError as error:
            raise CallTimeout(event) from error
        except self.socketio.exceptions.BadNamespaceError as error:
            raise ConnectionError(self.lost_reason or "not connected") from error

    async def close(self):
        self.closing = True
        try:
            await self.sio.disconnect()
        except Exception:  # noqa: BLE001 - best effort
            pass


# ------------------------------------------------------------------------------------------ phases


class Bench:
    def __init__(self, args, gateway: Gateway, users: list[dict], room: dict | None):
        self.args = args
        self.gateway = gateway
        self.users = users
        self.room = room
        self.sockets: list = []  # every socket opened, closed at the end whatever happens
        self.http: aiohttp.ClientSession | None = None
        self.results: dict = {}

    def new_socket(self, user: dict):
        kind = SioSocket if self.args.client == "socketio" else RawSocket
        sock = kind(self.http, self.gateway.url, user["token"])
        self.sockets.append(sock)
        return sock

    async def open_many(self, count: int, prepare=None) -> tuple[list, Counter, float]:
        """Opens `count` sockets (users round-robin); returns (opened, failures, seconds)."""
        limit = asyncio.Semaphore(self.args.connect_concurrency)
        failures: Counter = Counter()
        opened = []

        async def one(index):
            sock = self.new_socket(self.users[index % len(self.users)])
            if prepare:
                prepare(index, sock)
            async with limit:
                try:
                    await sock.connect(self.args.timeout)
                    opened.append((index, sock))
                except ConnectFailed as error:
                    failures[str(error)[:120]] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - started
        opened.sort(key=lambda pair: pair[0])
        return [sock for _, sock in opened], failures, elapsed

    async def close_many(self, sockets: list) -> float:
        started = time.perf_counter()
        limit = asyncio.Semaphore(200)

        async def one(sock):
            async with limit:
                await sock.close()

        await asyncio.wait_for(asyncio.gather(*(one(s) for s in sockets), return_exceptions=True), 60)
        for sock in sockets:
            if sock in self.sockets:
                self.sockets.remove(sock)
        return time.perf_counter() - started

    # -------------------------------------------------------------------------------- idle

    async def idle(self):
        n = self.args.idle
        gw = self.gateway
        print(f"\n[1] Idle sockets: opening {n} (concurrency {self.args.connect_concurrency})", flush=True)
        await asyncio.sleep(1.0)
        rss_before, cpu_before = gw.rss_kib(), gw.cpu_seconds()
        opened, failures, open_seconds = await self.open_many(n)
        cpu_open = gw.cpu_seconds() - cpu_before
        await asyncio.sleep(self.args.hold)
        gw.check_alive()
        alive = sum(1 for s in opened if s.alive)
        rss_after, threads = gw.rss_kib(), gw.threads()
        delta = rss_after - rss_before
        per_socket = delta / len(opened) if opened else math.nan
        print(f"    sockets held:          {alive} of {n} requested ({len(opened)} opened, "
              f"{sum(failures.values())} failed, {len(opened) - alive} dropped during the {self.args.hold:g} s hold)")
        for reason, count in failures.most_common(5):
            print(f"      connect failure x{count}: {reason}")
        lost = Counter(s.lost_reason for s in opened if not s.alive)
        for reason, count in lost.most_common(5):
            print(f"      dropped x{count}: {reason}")
        print(f"    time to open:          {open_seconds:.2f} s ({len(opened) / open_seconds:.0f} sockets/s), "
              f"gateway CPU {cpu_open:.2f} s")
        print(f"    gateway RSS before:    {rss_before / 1024:.1f} MiB")
        print(f"    gateway RSS after:     {rss_after / 1024:.1f} MiB ({threads} threads)")
        print(f"    memory per socket:     {per_socket:.1f} KiB  (RSS delta {delta / 1024:.1f} MiB / {len(opened)})")
        close_seconds = await self.close_many(opened)
        await asyncio.sleep(2.0)
        rss_closed = gw.rss_kib()
        print(f"    closed all in {close_seconds:.2f} s; RSS 2 s later: {rss_closed / 1024:.1f} MiB "
              f"(retained {(rss_closed - rss_before) / 1024:+.1f} MiB vs before)")
        rounds = []
        # Further rounds (--idle-rounds): the same again; RSS that keeps growing round after round
        # points at per-connection state the gateway does not free.
        for number in range(2, self.args.idle_rounds + 1):
            again, again_failures, again_seconds = await self.open_many(n)
            await asyncio.sleep(self.args.hold)
            held, rss_open = sum(1 for s in again if s.alive), gw.rss_kib()
            await self.close_many(again)
            await asyncio.sleep(2.0)
            rss_shut = gw.rss_kib()
            rounds.append({"held": held, "open_seconds": round(again_seconds, 3), "rss_open_kib": rss_open,
                           "rss_closed_kib": rss_shut})
            print(f"    round {number}: held {held}/{n} (opened in {again_seconds:.2f} s), RSS open "
                  f"{rss_open / 1024:.1f} MiB, closed {rss_shut / 1024:.1f} MiB")
        self.results["idle"] = {
            "requested": n, "opened": len(opened), "held": alive, "connect_failures": dict(failures),
            "open_seconds": round(open_seconds, 3), "gateway_cpu_open_seconds": round(cpu_open, 2),
            "rss_before_kib": rss_before, "rss_after_kib": rss_after, "rss_after_close_kib": rss_closed,
            "per_socket_kib": round(per_socket, 2), "close_seconds": round(close_seconds, 3),
            "more_rounds": rounds,
        }

    # -------------------------------------------------------------------------------- connect storm

    async def storm(self):
        """N authenticated sockets opened as fast as the client can (every connect in flight at
        once, up to --storm-concurrency), as when a gateway dies and its clients come to this one,
        while /health and /ready are probed every 100 ms (each probe on a new connection, as the
        edge's health checks are). A refused handshake (429/503) is retried after its Retry-After."""
        n, gw = self.args.storm, self.gateway
        print(f"\n[0] Connect storm: {n} sockets at once (concurrency {self.args.storm_concurrency}), "
              f"/ready and /health probed every 100 ms", flush=True)
        # The prober is a process of its own: in this one, the client's event loop would hold the
        # interpreter lock and the probes would measure the client, not the gateway.
        probed = gw.health_url if self.args.probe == "health-port" else gw.url
        print(f"    probing {probed} ({self.args.probe})", flush=True)
        prober = subprocess.Popen([sys.executable, "-c", PROBE_SCRIPT, probed], stdout=subprocess.PIPE, text=True)
        limit = asyncio.Semaphore(self.args.storm_concurrency)
        refused = Counter()
        failures = Counter()
        opened = []

        async def one(index):
            user = self.users[index % len(self.users)]
            for _attempt in range(100):
                sock = self.new_socket(user)
                async with limit:
                    try:
                        await sock.connect(self.args.timeout)
                        opened.append(sock)
                        return
                    except ConnectFailed as error:
                        if error.status in (429, 503):
                            refused[error.status] += 1
                            wait = error.retry_after or 1.0
                        else:
                            failures[str(error)[:120]] += 1
                            return
                # A client backs off as told, with jitter, as socket.io-client's reconnection does.
                await asyncio.sleep(wait * (0.5 + random.random()))
            failures["gave up after 100 refusals"] += 1

        cpu_before = gw.cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - started
        prober.terminate()
        output, _ = prober.communicate(timeout=10)
        probes = {"/ready": [], "/health": []}
        failed_probes = Counter()
        for line in output.splitlines():
            path, status, seconds = line.split()
            probes[path].append(float(seconds))
            if status != "200":
                failed_probes[f"{path} {status}"] += 1
        gw.check_alive()
        cpu = gw.cpu_seconds() - cpu_before
        print(f"    connected:             {len(opened)} of {n} in {elapsed:.2f} s ({len(opened) / elapsed:.0f} sockets/s), "
              f"gateway CPU {cpu:.2f} s")
        print(f"    handshakes refused:    {dict(refused) or 'none'} (each retried after its Retry-After)")
        for reason, count in failures.most_common(5):
            print(f"      connect failure x{count}: {reason}")
        summary = {}
        for path, samples in probes.items():
            ordered = sorted(samples)
            if not ordered:
                continue
            summary[path] = {"probes": len(ordered), "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
                             "p99_ms": round(percentile(ordered, 0.99) * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}
            print(f"    {path:8s} during storm: {len(ordered)} probes, p50 {fmt_ms(percentile(ordered, 0.50))} ms, "
                  f"p99 {fmt_ms(percentile(ordered, 0.99))} ms, max {fmt_ms(ordered[-1])} ms")
        print(f"    failed probes:         {dict(failed_probes) or 'none'}")
        await self.close_many(opened)
        self.results["storm"] = {"requested": n, "connected": len(opened), "seconds": round(elapsed, 3),
                                 "gateway_cpu_seconds": round(cpu, 2), "refused": dict(refused),
                                 "failures": dict(failures), "probes": summary, "failed_probes": dict(failed_probes)}

    # -------------------------------------------------------------------------------- fan-out

    async def fanout(self):
        args, gw = self.args, self.gateway
        room_id = self.room["id"]
        tag = uuid.uuid4().hex[:8]
        f, m, s = args.fanout, args.messages, args.senders
        print(f"\n[2] Fan-out: room {room_id}, {f} receiving sockets, {s} senders "
              f"(window {args.window} each), {m} messages (+{args.warmup} warm-up)", flush=True)

        # Per receiver: ids seen, duplicates, order breaks, last seq.
        latencies: list[float] = []
        marks = {"last_delivery": 0.0}
        pattern = re.compile(r"^gwbench (\w+) (\w+) (\d+) (\d+\.\d+)$")

        def make_handler(state, record_latency: bool):
            def on_message(payload):
                now = time.time()
                match = pattern.match(payload.get("content", "")) if isinstance(payload, dict) else None
                if not match or match.group(1) != tag:
                    state["foreign"] += 1
                    return
                phase, index, sent = match.group(2), int(match.group(3)), float(match.group(4))
                seen = state["seen"].setdefault(phase, set())
                if index in seen:
                    state["duplicates"] += 1
                seen.add(index)
                seq = payload.get("seq")
                if isinstance(seq, int):
                    if seq <= state["last_seq"]:
                        state["out_of_order"] += 1
                    state["last_seq"] = max(state["last_seq"], seq)
                if phase == "m":
                    if record_latency:
                        latencies.append(now - sent)
                    marks["last_delivery"] = now
            return on_message

        def new_state():
            return {"seen": {}, "duplicates": 0, "out_of_order": 0, "last_seq": 0, "foreign": 0}

        recv_states = [new_state() for _ in range(f)]
        send_states = [new_state() for _ in range(s)]

        state_of = {}

        def prepare_receiver(index, sock):
            state_of[id(sock)] = recv_states[index]
            sock.on("message:received", make_handler(recv_states[index], True))

        receivers, failures, open_seconds = await self.open_many(f, prepare_receiver)
        # Senders use users 0..S-1 (their own rate-limit budgets); they are room members too.
        senders = []
        for index in range(s):
            sock = self.new_socket(self.users[index % len(self.users)])
            sock.on("message:received", make_handler(send_states[index], False))
            try:
                await sock.connect(args.timeout)
            except ConnectFailed as error:
                raise SetupError(f"sender {index} could not connect: {error}") from error
            senders.append(sock)
        if failures:
            print(f"    {sum(failures.values())} receiving sockets failed to connect: {dict(failures)}")

        join_errors: Counter = Counter()
        limit = asyncio.Semaphore(args.connect_concurrency)

        async def join(sock):
            async with limit:
                try:
                    ack = await sock.call("room:join", {"roomId": room_id}, args.timeout)
                except (CallTimeout, ConnectionError) as error:
                    join_errors[f"{type(error).__name__}: {error}"] += 1
                    return False
                if not isinstance(ack, dict) or "error" in ack:
                    join_errors[json.dumps(ack)[:120]] += 1
                    return False
                return True

        started = time.perf_counter()
        joined_flags = await asyncio.gather(*(join(sock) for sock in receivers))
        join_seconds = time.perf_counter() - started
        for sock in senders:
            if not await join(sock):
                raise SetupError(f"a sender could not join the room: {dict(join_errors)}")
        joined = [sock for sock, ok in zip(receivers, joined_flags) if ok]
        print(f"    receivers connected {len(receivers)}/{f} in {open_seconds:.2f} s, joined {len(joined)} "
              f"in {join_seconds:.2f} s" + (f"; join errors: {dict(join_errors)}" if join_errors else ""))
        if not joined:
            raise SetupError("no receiving socket could join the room")
        # Only receivers that joined are expected to get the messages.
        states = [state_of[id(sock)] for sock in joined]

        stats = {"rate_limited": Counter(), "errors": Counter(), "timeouts": 0, "disconnected": 0,
                 "acked": {}, "ack_latency": [], "first_send": None, "last_ack": None}

        async def run(phase: str, count: int):
            indices = iter(range(count))

            async def worker(sock):
                for index in indices:
                    while True:
                        sent = time.time()
                        if phase == "m" and stats["first_send"] is None:
                            stats["first_send"] = sent
                        content = f"gwbench {tag} {phase} {index} {sent:.6f}"
                        try:
                            ack = await sock.call("message:send", {"roomId": room_id, "content": content}, args.timeout)
                        except CallTimeout:
                            stats["timeouts"] += 1 if phase == "m" else 0
                            break
                        except ConnectionError:
                            stats["disconnected"] += 1 if phase == "m" else 0
                            return
                        error = ack.get("error") if isinstance(ack, dict) else {"code": "BAD_ACK"}
                        if error:
                            if error.get("code") == "RATE_LIMITED":
                                if phase == "m":
                                    stats["rate_limited"][error.get("message", "")] += 1
                                await asyncio.sleep(args.retry_pause)
                                continue
                            if phase == "m":
                                stats["errors"][f"{error.get('code')}: {error.get('message')}"] += 1
                            break
                        if phase == "m":
                            done = time.time()
                            stats["acked"][index] = ack.get("message", {}).get("seq")
                            stats["ack_latency"].append(done - sent)
                            stats["last_ack"] = done
                        break

            await asyncio.gather(*(worker(sock) for sock in senders for _ in range(args.window)))

        async def drain(phase: str, expected: set, timeout: float):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if all(expected <= st["seen"].get(phase, set()) for st in states):
                    return True
                await asyncio.sleep(0.02)
            return False

        if args.warmup:
            await run("w", args.warmup)
            await drain("w", set(range(args.warmup)), args.drain_timeout)
            gw.check_alive()
        rss_before, cpu_before, client_cpu_before = gw.rss_kib(), gw.cpu_seconds(), time.process_time()
        await run("m", m)
        expected = set(stats["acked"])
        complete = await drain("m", expected, args.drain_timeout)
        cpu = gw.cpu_seconds() - cpu_before
        client_cpu = time.process_time() - client_cpu_before
        rss_after = gw.rss_kib()

        # ---- report
        first = stats["first_send"] or time.time()
        acked = len(expected)
        send_seconds = (stats["last_ack"] or first) - first
        deliver_seconds = (marks["last_delivery"] or first) - first
        deliveries = sum(len(st["seen"].get("m", set()) & expected) for st in states)
        missing = [len(expected - st["seen"].get("m", set())) for st in states]
        extra = sum(len(st["seen"].get("m", set()) - expected) for st in states)
        duplicates = sum(st["duplicates"] for st in states)
        out_of_order = sum(st["out_of_order"] for st in states)
        lost_sockets = Counter(sock.lost_reason for sock in joined + senders if not sock.alive)
        latencies.sort()
        acks = sorted(stats["ack_latency"])
        sender_deliveries = sum(len(st["seen"].get("m", set()) & expected) for st in send_states)
        print(f"    messages acked:        {acked} of {m}"
              + (f"; not sent: {dict(stats['errors'])}" if stats["errors"] else "")
              + (f"; ack timeouts {stats['timeouts']}" if stats["timeouts"] else "")
              + (f"; sender disconnected {stats['disconnected']}" if stats["disconnected"] else ""))
        if stats["rate_limited"]:
            print(f"    RATE_LIMITED answers (retried after {args.retry_pause:g} s): "
                  + ", ".join(f"{count}x {message!r}" for message, count in stats["rate_limited"].items()))
        print(f"    messages sent/s:       {acked / send_seconds:.1f}  ({acked} acked in {send_seconds:.2f} s)"
              if send_seconds > 0 else "    messages sent/s:       n/a")
        print(f"    deliveries/s:          {deliveries / deliver_seconds:.0f}  ({deliveries} deliveries to "
              f"{len(states)} receivers in {deliver_seconds:.2f} s, first send to last delivery)"
              if deliver_seconds > 0 else "    deliveries/s:          n/a")
        print(f"    delivery latency ms:   p50 {fmt_ms(percentile(latencies, 0.50))}  "
              f"p99 {fmt_ms(percentile(latencies, 0.99))}  max {fmt_ms(latencies[-1] if latencies else math.nan)}  "
              f"(send -> message:received, {len(latencies)} samples)")
        print(f"    send->ack latency ms:  p50 {fmt_ms(percentile(acks, 0.50))}  p99 {fmt_ms(percentile(acks, 0.99))}  "
              f"max {fmt_ms(acks[-1] if acks else math.nan)}")
        complete_receivers = sum(1 for count in missing if count == 0)
        print(f"    completeness:          {complete_receivers}/{len(states)} receivers got all {acked} messages; "
              f"missing deliveries {sum(missing)}" + (f" (worst receiver missed {max(missing)})" if sum(missing) else "")
              + f"; duplicates {duplicates}; out of order {out_of_order}; unacked-but-delivered {extra}"
              + ("" if complete else f"  [drain timed out after {args.drain_timeout:g} s]"))
        print(f"    senders' own sockets:  {sender_deliveries} of {acked * len(senders)} deliveries")
        if lost_sockets:
            print(f"    sockets lost during the run: {dict(lost_sockets)}")
        print(f"    CPU:                   gateway {cpu:.2f} s, this client {client_cpu:.2f} s, over "
              f"{max(deliver_seconds, send_seconds):.2f} s; gateway RSS {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB")
        self.results["fanout"] = {
            "receivers": len(states), "senders": len(senders), "messages_requested": m, "messages_acked": acked,
            "send_errors": dict(stats["errors"]), "ack_timeouts": stats["timeouts"],
            "rate_limited_retries": sum(stats["rate_limited"].values()),
            "messages_per_second": round(acked / send_seconds, 1) if send_seconds > 0 else None,
            "deliveries": deliveries,
            "deliveries_per_second": round(deliveries / deliver_seconds, 1) if deliver_seconds > 0 else None,
            "latency_ms": {"p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
                           "max": latencies[-1] * 1000 if latencies else None},
            "ack_latency_ms": {"p50": percentile(acks, 0.5) * 1000, "p99": percentile(acks, 0.99) * 1000},
            "missing_deliveries": sum(missing), "duplicates": duplicates, "out_of_order": out_of_order,
            "gateway_cpu_seconds": round(cpu, 2), "client_cpu_seconds": round(client_cpu, 2), "rss_before_kib": rss_before, "rss_after_kib": rss_after,
        }

    async def run(self):
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self.http = aiohttp.ClientSession(connector=connector)
        try:
            if self.args.storm > 0:
                await self.storm()
            if self.args.idle > 0:
                await self.idle()
            if self.room is not None:
                await self.fanout()
        finally:
            await self.shutdown()

    async def shutdown(self):
        sockets, self.sockets = self.sockets, []
        if sockets:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(s.close() for s in sockets), return_exceptions=True), 30)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        if self.http is not None:
            await self.http.close()


# ------------------------------------------------------------------------------------------ main


def parse_args(argv=None):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="bench-gateway.py",
        description="Benchmark one VoiceFlow Socket.IO gateway (started by this script on a free port): "
                    "idle-socket memory and room fan-out throughput/latency. Needs the stack (`make up`).",
        epilog="Example: .data/venv/bin/python scripts/bench-gateway.py --idle 100 --fanout 10 --messages 100",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sizes = parser.add_argument_group("sizes")
    sizes.add_argument("--storm", type=int, default=0, metavar="N",
                       help="connect storm: N sockets at once while /ready is probed (0 skips)")
    sizes.add_argument("--storm-concurrency", type=int, default=1000, help="connects in flight during the storm")
    sizes.add_argument("--probe", choices=("health-port", "main-port"), default="health-port",
                       help="probe /ready on the gateway's HEALTH_PORT (what the edge checks) or on its main port")
    sizes.add_argument("--idle", type=int, default=1000, metavar="N", help="idle sockets to open and hold (0 skips)")
    sizes.add_argument("--fanout", type=int, default=50, metavar="F", help="receiving sockets in the room (0 skips)")
    sizes.add_argument("--messages", type=int, default=500, metavar="M", help="messages to send (0 skips fan-out)")
    sizes.add_argument("--senders", type=int, default=5, metavar="S",
                       help="sending sockets, each with its own user (the messages service limits 120 messages/min per user)")
    sizes.add_argument("--window", type=int, default=4, help="sends in flight per sender")
    sizes.add_argument("--warmup", type=int, default=10, help="messages sent and delivered before measuring (not counted)")
    sizes.add_argument("--hold", type=float, default=5.0, help="seconds to hold the idle sockets before reading RSS")
    sizes.add_argument("--idle-rounds", type=int, default=1,
                       help="open/hold/close the idle sockets this many times (RSS per round shows retention)")
    sizes.add_argument("--connect-concurrency", type=int, default=50, help="connects (and joins) in flight")
    sizes.add_argument("--client", choices=("raw", "socketio"), default="raw",
                       help="raw: minimal built-in Engine.IO/Socket.IO WebSocket client; socketio: python-socketio AsyncClient")
    stack = parser.add_argument_group("stack (flags override the environment variables)")
    stack.add_argument("--base-url", default=env("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080"),
                       help="edge URL for REST (/api/v1) [VOICEFLOW_BASE_URL]")
    stack.add_argument("--rooms-url", default=env("ROOMS_URL", "http://127.0.0.1:3002"), help="[ROOMS_URL]")
    stack.add_argument("--messages-url", default=env("MESSAGES_URL", "http://127.0.0.1:3003"), help="[MESSAGES_URL]")
    stack.add_argument("--jwt-key-file", default=env("JWT_KEY_FILE", os.path.join(ROOT, ".data", "keys", "jwt-ed25519.pem")),
                       help="[JWT_KEY_FILE]")
    stack.add_argument("--redis-url", default=env("REDIS_URL", "redis://127.0.0.1:6379"), help="[REDIS_URL]")
    gateway = parser.add_argument_group("gateway under test")
    gateway.add_argument("--binary", default=None,
                         help="gateway executable (default: .build/release/voiceflow-gateway if present, else .build/debug/...)")
    gateway.add_argument("--port", type=int, default=0, help="listen port (0: a free one)")
    gateway.add_argument("--events-per-second", type=int, default=1000, help="SOCKET_EVENTS_PER_SECOND of the gateway")
    gateway.add_argument("--log-level", default="warning", help="LOG_LEVEL of the gateway")
    gateway.add_argument("--gateway-log", default=None, help="keep the gateway's log in this file (default: temporary, deleted)")
    gateway.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for GET /ready")
    misc = parser.add_argument_group("misc")
    misc.add_argument("--user-prefix", default="gwbench", help="benchmark users are <prefix>1..<prefix>S")
    misc.add_argument("--timeout", type=float, default=30.0, help="seconds for one connect or acknowledgement")
    misc.add_argument("--drain-timeout", type=float, default=15.0, help="seconds to wait for outstanding deliveries")
    misc.add_argument("--retry-pause", type=float, default=0.5, help="seconds before resending a RATE_LIMITED message")
    misc.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.binary is None:
        args.binary = default_binary("voiceflow-gateway")
        args.binary_source = "default (release if present, else debug)"
    else:
        args.binary_source = "--binary"
    for name in ("idle", "fanout", "messages", "warmup"):
        if getattr(args, name) < 0:
            parser.error(f"--{name} must be >= 0")
    if min(args.senders, args.window, args.connect_concurrency, args.idle_rounds) < 1:
        parser.error("--senders, --window, --connect-concurrency and --idle-rounds must be >= 1")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,17}", args.user_prefix):
        parser.error("--user-prefix: 1-17 letters, digits or _")
    return args


def raise_fd_limit(needed: int):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main(argv=None) -> int:
    args = parse_args(argv)
    binary_real = os.path.realpath(args.binary)
    config = build_config(args.binary)
    do_fanout = args.fanout > 0 and args.messages > 0
    started_at = dt.datetime.now().astimezone()
    print(f"VoiceFlow gateway benchmark - {started_at:%Y-%m-%d %H:%M:%S %Z}")
    try:
        built = dt.datetime.fromtimestamp(os.path.getmtime(binary_real)).strftime("%Y-%m-%d %H:%M")
    except OSError:
        built = "missing"
    print(f"  binary:      {args.binary} [{args.binary_source}]")
    print(f"               -> {binary_real} ({config} build, built {built})")
    print(f"  parameters:  N(idle)={args.idle}  F(fan-out)={args.fanout}  M(messages)={args.messages}  "
          f"senders={args.senders}  window={args.window}  warm-up={args.warmup}  client={args.client}")
    print(f"  stack:       REST {args.base_url}/api/v1  rooms {args.rooms_url}  messages {args.messages_url}  "
          f"redis {redact(args.redis_url)}")
    print(f"  machine:     {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}")
    fd_limit = raise_fd_limit(max(args.idle, args.storm) + args.fanout + args.senders + 256)
    if fd_limit < args.idle + args.fanout + 64:
        print(f"  warning: open-file limit {fd_limit} is low for {args.idle} sockets")

    gateway = Gateway(args)
    bench = None
    status = 0
    try:
        api = Api(args.base_url)
        pool = max(args.senders, 1)
        users = []
        for index in range(pool):
            try:
                users.append(api.user(args.user_prefix, index + 1))
            except RegistrationLimited as error:
                if not users:
                    raise
                print(f"  warning:     {error}; continuing with {len(users)} user(s): senders share users, "
                      f"so expect RATE_LIMITED retries from the messages service (120 messages/min per user)")
                break
        room = api.room(users, f"gateway bench {uuid.uuid4().hex[:6]}") if do_fanout else None
        print(f"  users:       {', '.join(u['name'] for u in users)} (logged in)"
              + (f"; room {room['id']} (code {room['code']})" if room else ""))
        gateway.start()
        print(f"  gateway:     pid {gateway.pid} on {gateway.url} (SOCKET_EVENTS_PER_SECOND={args.events_per_second}, "
              f"LOG_LEVEL={args.log_level}), ready; log {gateway.log_path}", flush=True)
        bench = Bench(args, gateway, users, room)

        async def runner():
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
            await bench.run()

        try:
            asyncio.run(runner())
        except asyncio.CancelledError:
            raise KeyboardInterrupt from None
        gateway.check_alive()
    except SetupError as error:
        print(f"\nSETUP FAILED: {error}", file=sys.stderr)
        status = 1
    except GatewayDied as error:
        print(f"\nGATEWAY DIED: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print("\ninterrupted; closing sockets and stopping the gateway", file=sys.stderr)
        status = 130
    finally:
        gateway.stop()
        if gateway.process is not None:
            levels, notable = gateway.log_summary()
            print(f"\n  gateway exit status {gateway.process.returncode}; log lines by level: "
                  f"{dict(levels) if levels else 'none'}")
            for line in notable[:10]:
                print(f"    {line[:200]}")
            if gateway.process.returncode not in (0, -signal.SIGTERM):
                print(f"    log tail:\n{gateway.log_tail()}")
        gateway.cleanup_log()
    if args.json and bench is not None:
        with open(args.json, "w") as out:
            json.dump({"started": started_at.isoformat(), "binary": binary_real, "config": config,
                       "parameters": {"idle": args.idle, "fanout": args.fanout, "messages": args.messages,
                                      "senders": args.senders, "window": args.window, "client": args.client},
                       "exit_status": status, **bench.results}, out, indent=2)
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Live-path benchmark of a running VoiceFlow stack: one room, R receiving sockets spread over the
stack's gateways, S senders each sending `message:send` at a fixed rate for a fixed time. Prints the
offered and achieved message rate, deliveries/s, delivery latency, the CPU the gateways and the
messages service spent, and a completeness check per receiver (missing, duplicated, out of order).

Run it against a running stack with two gateways, from the repository root, e.g.:

    GATEWAYS=2 RATE_LIMIT_MESSAGES_PER_MINUTE=1000000 SOCKET_EVENTS_PER_SECOND=10000 \\
      RATE_LIMIT_LOGIN_PER_IP=1000000 RATE_LIMIT_LOGIN_PER_ACCOUNT=1000000 \\
      RATE_LIMIT_ROOM_JOIN_PER_IP=1000000 RATE_LIMIT_ROOM_JOIN_PER_MINUTE=1000000 \\
      RATE_LIMIT_ROOM_CREATE_PER_HOUR=1000000 RATE_LIMIT_REGISTER_PER_IP=1000000 \\
      BCRYPT_COST=6 LOG_LEVEL=warning APP_ENV=test scripts/stack.sh up
    .data/venv/bin/python scripts/bench-live.py                       # R=100, S=10, 2 msgs/s each, 10 s
    .data/venv/bin/python scripts/bench-live.py --rate 10             # 10 senders x 10 msgs/s
    .data/venv/bin/python scripts/bench-live.py --receivers 50 --senders 5 --rate 10

Another stack (other ports, another state directory): give the same environment as `stack.sh`
(VOICEFLOW_STATE_DIR, EDGE_PORT, GATEWAY_PORT_BASE, GATEWAYS) or the flags --base-url,
--gateway-urls and --state-dir. It needs python-socketio 5.x, requests and aiohttp in the venv
(`.data/venv/bin/pip install -r scripts/bench-requirements.txt`). The limits above must be lifted:
every socket is on 127.0.0.1, each benchmark user logs in once per run, and the default limits
(20 events/s per socket, 120 messages/min per user, 10 logins per account per 15 min) would
measure the limiter.

What it does:
1. REST through the edge (--base-url): a pool of benchmark users (`<prefix>1..<prefix>U`, logged
   in, registered the first time), a fresh room (maxUsers 500) that they all join by code.
2. Receivers: R Socket.IO sockets over WebSocket, connected DIRECTLY to the gateways
   (--gateway-urls, round-robin), all in the room, run by --procs worker processes so that the
   client is not the bottleneck. Senders: S sockets in this process, also round-robin over the
   gateways, also members (their own `message:received` are checked too, reported apart).
3. Warm-up: --warmup messages, sent one by one and delivered everywhere before measuring.
4. Idle baseline: the gateways' CPU over --baseline seconds with nothing sent.
5. Measured: each sender sends `message:send {roomId, content}` at --rate msgs/s for --duration
   seconds (open loop, at most --window sends in flight per sender; the senders are staggered).
   The content carries the send time (time.time_ns(); one machine, one clock), so delivery latency
   = receipt - send. Then the drain: wait until every receiver has every acknowledged message, or
   --drain-timeout; whatever is still missing is reported as missing, never hidden.

Figures: offered and achieved msgs/s (acked / the longer of first send -> last ack and --duration),
deliveries/s (to the R receivers, over the longer of first send -> last delivery and --duration),
delivery latency p50/p99/max, send -> ack latency, gateway CPU ms per 1,000 deliveries (utime+stime
of every gateway process from /proc/<pid>/stat, over first send -> drained; pids from
<state-dir>/run/gateway-N.pid, matched to the URLs by gateway-N.port), messages-service CPU ms per
message (run/messages.pid), rooms and Redis CPU, the requests the messages and rooms services
served in that window (their /metrics; history reads there are the gateways catching sockets up
after a seq gap), failed acks by error code, completeness per receiver (every acked message once;
seq must rise by exactly 1 from one `message:received` to the next in the fresh room), the
client's own CPU per process (near 100 % of a core means the client, not the server, sets the
pace), and the warning-or-worse lines the services logged during the run (<state-dir>/logs).

Measurements are printed, never asserted. Exit status: 0 when the run completed (also with losses,
which are printed), 1 when setup failed (stack unreachable, users/room/sockets not set up), 130 when
interrupted (Ctrl-C, SIGTERM).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import math
import multiprocessing
import os
import signal
import sys
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from benchlib import (default_gateway_urls, interrupted, machine, percentile, run_bench, setup_failed,  # noqa: E402
                      write_results)

# bench-gateway.py (not importable by name) has the REST helper and the lean Socket.IO client.
_spec = importlib.util.spec_from_file_location("bench_gateway", os.path.join(HERE, "bench-gateway.py"))
bg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bg)
aiohttp = bg.aiohttp
SetupError = bg.SetupError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONTENT_PREFIX = "live"


# ------------------------------------------------------------------------------------------ helpers


def fmt(value, digits=1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def latency_summary(sorted_ms: list[float]) -> dict:
    return {"p50": percentile(sorted_ms, 0.50), "p99": percentile(sorted_ms, 0.99),
            "max": sorted_ms[-1] if sorted_ms else math.nan, "samples": len(sorted_ms)}


def fmt_latency(summary: dict) -> str:
    return (f"p50 {fmt(summary['p50'])}  p99 {fmt(summary['p99'])}  max {fmt(summary['max'])}"
            f"  ({summary['samples']:,} samples)")


class StackProcess:
    """A process of the stack found by its pid file (run/<name>.pid); its CPU time from /proc."""

    def __init__(self, name: str, pid: int):
        self.name, self.pid = name, pid

    @classmethod
    def find(cls, run_dir: str, name: str) -> "StackProcess | None":
        try:
            with open(os.path.join(run_dir, f"{name}.pid")) as file:
                pid = int(file.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                cmdline = file.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            return None
        if "voiceflow-" not in cmdline and "redis-server" not in cmdline:
            return None  # a stale pid file, the pid now belongs to something else
        return cls(name, pid)

    def cpu_seconds(self) -> float:
        """utime + stime so far; NaN once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def alive(self) -> bool:
        return os.path.exists(f"/proc/{self.pid}")


def gateway_processes(run_dir: str, urls: list[str]) -> list[StackProcess | None]:
    """For each gateway URL, the stack's gateway process listening on its port (by gateway-N.port)."""
    by_port = {}
    try:
        names = os.listdir(run_dir)
    except OSError:
        names = []
    for name in names:
        if name.startswith("gateway-") and name.endswith(".port"):
            try:
                with open(os.path.join(run_dir, name)) as file:
                    by_port[int(file.read().strip())] = name[:-len(".port")]
            except (OSError, ValueError):
                continue
    found = []
    for url in urls:
        name = by_port.get(urlsplit(url).port)
        found.append(StackProcess.find(run_dir, name) if name else None)
    return found


class LogWatch:
    """Warning-or-worse lines a service logs (JSON lines) from now on."""

    def __init__(self, path: str, redis: bool = False):
        self.path, self.redis = path, redis
        try:
            self.offset = os.path.getsize(path)
        except OSError:
            self.offset = None

    def summary(self) -> tuple[Counter, list[str]]:
        levels: Counter = Counter()
        notable: Counter = Counter()
        if self.offset is None:
            return levels, []
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                text = log.read(64 * 1024 * 1024).decode(errors="replace")
        except OSError:
            return levels, []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            if self.redis:
                # Redis's own format: "<pid>:<role> <dd Mon yyyy> <time> <mark> <message>", "#" marks a warning.
                fields = line.split(" ", 6)
                level = "warning" if len(fields) == 7 and fields[5] == "#" else "notice"
                message = fields[6] if len(fields) == 7 else line
                levels[level] += 1
                if level == "warning":
                    notable[f"{level}: {message}"[:240]] += 1
                continue
            try:
                record = json.loads(line)
                level, message = record.get("level", "?"), record.get("message", line)
                extra = {k: v for k, v in record.items() if k.startswith("error")}
                if extra:
                    message = f"{message} {json.dumps(extra, sort_keys=True)}"
            except ValueError:
                level, message = "unparsed", line[:200]
            levels[level] += 1
            if level not in ("trace", "debug", "info", "notice"):
                notable[f"{level}: {message}"[:240]] += 1
        return levels, [f"{count}x {key}" for key, count in notable.most_common(8)]


def service_url(run_dir: str, name: str, variable: str) -> str | None:
    """A service's own URL: the environment variable, else its port file under run/."""
    if os.environ.get(variable):
        return os.environ[variable].rstrip("/")
    try:
        with open(os.path.join(run_dir, f"{name}.port")) as file:
            return f"http://127.0.0.1:{int(file.read().strip())}"
    except (OSError, ValueError):
        return None


def request_counts(url: str | None) -> Counter | None:
    """`http_requests_total` of a service's /metrics, by "METHOD route status"; None if unreachable."""
    if not url:
        return None
    try:
        response = bg.requests.get(url + "/metrics", timeout=5)
        response.raise_for_status()
    except bg.requests.RequestException:
        return None
    counts: Counter = Counter()
    for line in response.text.splitlines():
        if not line.startswith("http_requests_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        fields = dict(part.split("=", 1) for part in labels[len("http_requests_total{"):-1].split('",') if "=" in part)
        fields = {k: v.strip('"') for k, v in fields.items()}
        try:
            counts[f"{fields.get('method')} {fields.get('route')} {fields.get('status')}"] += int(float(value))
        except ValueError:
            continue
    return counts


async def recv(conn, timeout: float):
    """The next message from a multiprocessing pipe, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while not conn.poll():
        if time.monotonic() >= deadline:
            raise TimeoutError("no answer from the other process")
        await asyncio.sleep(0.01)
    return conn.recv()


def new_socket(kind: str, http, url: str, token: str):
    return (bg.SioSocket if kind == "socketio" else bg.RawSocket)(http, url, token)


async def connect_and_join(sockets: list, room_id: str, timeout: float, concurrency: int) -> Counter:
    """Connects and joins every socket; returns the failures by reason (failed sockets are closed)."""
    failures: Counter = Counter()
    limit = asyncio.Semaphore(concurrency)

    async def one(sock):
        async with limit:
            try:
                await sock.connect(timeout)
            except bg.ConnectFailed as error:
                failures[f"connect: {str(error)[:120]}"] += 1
                return
            try:
                ack = await sock.call("room:join", {"roomId": room_id}, timeout)
            except (bg.CallTimeout, ConnectionError) as error:
                failures[f"room:join: {type(error).__name__} {error}"[:160]] += 1
                await sock.close()
                return
            if not isinstance(ack, dict) or "error" in ack:
                failures[f"room:join: {json.dumps(ack)[:140]}"] += 1
                await sock.close()

    await asyncio.gather(*(one(s) for s in sockets))
    return failures


# ------------------------------------------------------------------------------------------ receiving


class Receiver:
    """What one socket saw of the room: ids by phase, order breaks, latencies of the measured phase."""

    __slots__ = ("index", "gateway", "room_id", "tag", "seen", "duplicates", "backwards", "gaps",
                 "last_seq", "first_seq", "foreign", "latencies", "last_delivery_ns", "deliveries")

    def __init__(self, index: int, gateway: int, room_id: str, tag: str):
        self.index, self.gateway, self.room_id, self.tag = index, gateway, room_id, tag
        self.seen = {"w": set(), "m": set()}
        self.duplicates = {"w": 0, "m": 0}
        self.backwards = 0  # seq not above the previous one
        self.gaps = 0  # seq more than one above the previous one
        self.last_seq = None
        self.first_seq = None
        self.foreign = 0  # messages of this room that this run did not send
        self.latencies: list[float] = []  # ms, measured phase
        self.last_delivery_ns = 0
        self.deliveries = 0

    def on_message(self, payload):
        now = time.time_ns()
        if not isinstance(payload, dict) or payload.get("roomId") != self.room_id:
            self.foreign += 1
            return
        seq = payload.get("seq")
        if isinstance(seq, int):
            if self.last_seq is None:
                self.first_seq = seq
            elif seq <= self.last_seq:
                self.backwards += 1
            elif seq != self.last_seq + 1:
                self.gaps += 1
            if self.last_seq is None or seq > self.last_seq:
                self.last_seq = seq
        parts = str(payload.get("content", "")).split(" ")
        if len(parts) != 5 or parts[0] != CONTENT_PREFIX or parts[1] != self.tag or parts[2] not in self.seen:
            self.foreign += 1
            return
        phase, message_id = parts[2], payload.get("id")
        seen = self.seen[phase]
        if message_id in seen:
            self.duplicates[phase] += 1
            return
        seen.add(message_id)
        if phase == "m":
            self.deliveries += 1
            self.last_delivery_ns = now
            try:
                self.latencies.append((now - int(parts[4])) / 1e6)
            except ValueError:
                pass

    def has_all(self, phase: str, expected: set) -> bool:
        seen = self.seen[phase]
        return len(seen) >= len(expected) and expected <= seen

    def summary(self, phase: str, expected: set, alive: bool, lost_reason) -> dict:
        seen = self.seen[phase]
        return {"index": self.index, "gateway": self.gateway, "alive": alive, "lost_reason": lost_reason,
                "missing": len(expected - seen), "extra": len(seen - expected),
                "delivered": len(seen & expected), "duplicates": self.duplicates[phase],
                "backwards": self.backwards, "gaps": self.gaps, "foreign": self.foreign,
                "first_seq": self.first_seq, "last_seq": self.last_seq}


async def drain(receivers: list[Receiver], phase: str, expected: set, timeout: float) -> tuple[bool, float]:
    """Waits until every receiver has every expected message; (complete, seconds waited)."""
    started = time.monotonic()
    deadline = started + timeout
    pending = list(receivers)
    while True:
        pending = [r for r in pending if not r.has_all(phase, expected)]
        if not pending:
            return True, time.monotonic() - started
        if time.monotonic() >= deadline:
            return False, time.monotonic() - started
        await asyncio.sleep(0.02)


def receiver_process(conn, config: dict):
    """Worker process: runs its share of the receiving sockets and answers the parent's commands."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and tells us to stop
    try:
        asyncio.run(receiver_main(conn, config))
    except Exception as error:  # noqa: BLE001 - report to the parent instead of a traceback
        try:
            conn.send(("failed", f"{type(error).__name__}: {error}"))
        except OSError:
            pass


async def receiver_main(conn, config: dict):
    parent = os.getppid()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets, receivers = [], []
    try:
        for spec in config["sockets"]:
            receiver = Receiver(spec["index"], spec["gateway"], config["room_id"], config["tag"])
            sock = new_socket(config["client"], http, spec["url"], spec["token"])
            sock.on("message:received", receiver.on_message)
            sockets.append(sock)
            receivers.append(receiver)
        failures = await connect_and_join(sockets, config["room_id"], config["timeout"], config["concurrency"])
        joined = [(s, r) for s, r in zip(sockets, receivers) if s.alive]
        conn.send(("ready", {"joined": len(joined), "failures": dict(failures)}))
        active = [r for _, r in joined]
        cpu_start = wall_start = None
        lifetime = time.monotonic() + config["lifetime"]
        while time.monotonic() < lifetime:
            try:
                command = await recv(conn, 1.0)
            except TimeoutError:
                if os.getppid() != parent:
                    return  # the parent is gone
                continue
            kind = command[0]
            if kind == "start":
                cpu_start, wall_start = time.process_time(), time.monotonic()
                conn.send(("started", None))
            elif kind == "drain":
                _, phase, expected, timeout = command
                complete, waited = await drain(active, phase, expected, timeout)
                result = {"complete": complete, "waited": waited}
                if phase == "m":
                    result["cpu"] = time.process_time() - cpu_start if cpu_start is not None else math.nan
                    result["wall"] = time.monotonic() - wall_start if wall_start is not None else math.nan
                    result["receivers"] = [r.summary("m", expected, s.alive, s.lost_reason) for s, r in joined]
                    result["latencies"] = [(r.gateway, r.latencies) for r in active]
                    result["last_delivery_ns"] = max((r.last_delivery_ns for r in active), default=0)
                else:
                    result["missing"] = sum(len(expected - r.seen[phase]) for r in active)
                conn.send(("drained", result))
            elif kind == "stop":
                break
    finally:
        try:
            await asyncio.wait_for(asyncio.gather(*(s.close() for s in sockets), return_exceptions=True), 20)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        await http.close()
        try:
            conn.send(("stopped", None))
        except OSError:
            pass


class Worker:
    def __init__(self, ctx, config: dict):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=receiver_process, args=(child, config), daemon=True)
        self.process.start()
        child.close()
        self.sockets = len(config["sockets"])

    async def expect(self, kind: str, timeout: float):
        try:
            answer, payload = await recv(self.conn, timeout)
        except TimeoutError as error:
            raise SetupError(f"receiver process {self.process.pid}: no '{kind}' within {timeout:g} s") from error
        except EOFError as error:
            raise SetupError(f"receiver process {self.process.pid} exited (status {self.process.exitcode})") from error
        if answer == "failed":
            raise SetupError(f"receiver process {self.process.pid} failed: {payload}")
        if answer != kind:
            raise SetupError(f"receiver process {self.process.pid}: expected '{kind}', got '{answer}'")
        return payload

    def send(self, *command):
        self.conn.send(command)

    def stop(self, timeout: float = 25.0):
        if self.process.is_alive():
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# ------------------------------------------------------------------------------------------ the run


class LiveBench:
    def __init__(self, args, users: list[dict], room: dict, gateways: list[StackProcess | None],
                 others: dict[str, StackProcess | None], services: dict[str, str | None]):
        self.args = args
        self.services = services
        self.users = users
        self.room = room
        self.gateways = gateways
        self.others = others
        self.workers: list[Worker] = []
        self.senders: list = []
        self.http = None
        self.tag = uuid.uuid4().hex[:8]
        self.results: dict = {}

    def user_for(self, socket_index: int) -> dict:
        return self.users[socket_index % len(self.users)]

    def cpu(self) -> dict:
        values = {f"gateway-{i + 1}": (g.cpu_seconds() if g else math.nan) for i, g in enumerate(self.gateways)}
        for name, process in self.others.items():
            values[name] = process.cpu_seconds() if process else math.nan
        return values

    async def run(self):
        args = self.args
        urls = args.gateway_urls
        room_id = self.room["id"]

        # ---- receivers: R sockets, round-robin over the gateways, split over the worker processes
        specs = [[] for _ in range(args.procs)]
        for r in range(args.receivers):
            gateway = r % len(urls)
            user = self.user_for(args.senders + r)
            specs[r % args.procs].append({"index": r, "gateway": gateway, "url": urls[gateway], "token": user["token"]})
        lifetime = 120 + args.warmup * args.timeout + args.baseline + args.duration + args.timeout + 2 * args.drain_timeout
        ctx = multiprocessing.get_context("spawn")
        for share in specs:
            if share:
                self.workers.append(Worker(ctx, {
                    "sockets": share, "room_id": room_id, "tag": self.tag, "client": args.client,
                    "timeout": args.timeout, "concurrency": args.connect_concurrency, "lifetime": lifetime}))
        started = time.perf_counter()
        joined, failures = 0, Counter()
        for worker in self.workers:
            ready = await worker.expect("ready", 60 + 2 * args.timeout + worker.sockets * 0.5)
            joined += ready["joined"]
            failures.update(ready["failures"])
        print(f"  receivers:   {joined}/{args.receivers} connected and joined in {time.perf_counter() - started:.2f} s "
              f"({len(self.workers)} processes, client {args.client})"
              + (f"; failures: {dict(failures)}" if failures else ""), flush=True)
        if joined == 0:
            raise SetupError("no receiving socket could join the room")

        # ---- senders: S sockets in this process, also round-robin over the gateways
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sender_receivers = []
        for s in range(args.senders):
            gateway = s % len(urls)
            sock = new_socket(args.client, self.http, urls[gateway], self.user_for(s)["token"])
            receiver = Receiver(-1 - s, gateway, room_id, self.tag)
            sock.on("message:received", receiver.on_message)
            self.senders.append(sock)
            sender_receivers.append(receiver)
        failures = await connect_and_join(self.senders, room_id, args.timeout, args.connect_concurrency)
        if failures:
            raise SetupError(f"senders could not connect or join: {dict(failures)}")

        # ---- warm-up: sequential sends, delivered everywhere before measuring
        warm_ids, warm_errors = set(), Counter()
        for k in range(args.warmup):
            sock = self.senders[k % len(self.senders)]
            content = f"{CONTENT_PREFIX} {self.tag} w {k % len(self.senders)}-{k} {time.time_ns()}"
            try:
                ack = await sock.call("message:send", {"roomId": room_id, "content": content}, args.timeout)
            except (bg.CallTimeout, ConnectionError) as error:
                warm_errors[type(error).__name__] += 1
                continue
            message = ack.get("message") if isinstance(ack, dict) else None
            if isinstance(message, dict) and message.get("id"):
                warm_ids.add(message["id"])
            else:
                warm_errors[json.dumps(ack)[:120]] += 1
        if args.warmup and not warm_ids:
            raise SetupError(f"no warm-up message was acknowledged: {dict(warm_errors)}")
        if args.warmup:
            for worker in self.workers:
                worker.send("drain", "w", warm_ids, args.drain_timeout)
            missing = 0
            for worker in self.workers:
                missing += (await worker.expect("drained", args.drain_timeout + 30))["missing"]
            _, _ = await drain(sender_receivers, "w", warm_ids, args.drain_timeout)
            print(f"  warm-up:     {len(warm_ids)}/{args.warmup} acked"
                  + (f" (errors {dict(warm_errors)})" if warm_errors else "")
                  + (f"; {missing} warm-up deliveries still missing after {args.drain_timeout:g} s" if missing else
                     "; delivered to every receiver"), flush=True)

        # ---- idle baseline
        await asyncio.sleep(0.5)
        base_before, base_started = self.cpu(), time.monotonic()
        await asyncio.sleep(args.baseline)
        base_after, base_seconds = self.cpu(), time.monotonic() - base_started
        idle = {k: (base_after[k] - base_before[k]) / base_seconds * 1000 for k in base_before}

        # ---- measured phase
        logs = {name: LogWatch(os.path.join(args.state_dir, "logs", f"{name}.log"), redis=name == "redis")
                for name in [f"gateway-{i + 1}" for i in range(len(urls))] + list(self.others)}
        stats = {"errors": Counter(), "timeouts": 0, "disconnected": 0, "acked": {}, "ack_ms": [],
                 "lag": [], "window_waits": 0, "first_send": None, "last_ack": None, "sent": 0}
        per_sender = max(1, round(args.rate * args.duration))
        interval = 1.0 / args.rate
        for worker in self.workers:
            worker.send("start")
        for worker in self.workers:
            await worker.expect("started", 30)
        requests_before = {name: request_counts(url) for name, url in self.services.items()}
        cpu_before = self.cpu()
        client_before, wall_before = time.process_time(), time.monotonic()
        t0 = time.perf_counter() + 0.05

        async def send_one(s: int, sock, k: int, slots: asyncio.Semaphore):
            try:
                sent = time.time_ns()
                if stats["first_send"] is None:
                    stats["first_send"] = sent
                stats["sent"] += 1
                content = f"{CONTENT_PREFIX} {self.tag} m {s}-{k} {sent}"
                try:
                    ack = await sock.call("message:send", {"roomId": room_id, "content": content}, args.timeout)
                except bg.CallTimeout:
                    stats["timeouts"] += 1
                    return
                except ConnectionError:
                    stats["disconnected"] += 1
                    return
                done = time.time_ns()
                error = ack.get("error") if isinstance(ack, dict) else {"code": "BAD_ACK", "message": str(ack)[:80]}
                message = ack.get("message") if isinstance(ack, dict) else None
                if error or not isinstance(message, dict) or not message.get("id"):
                    error = error or {"code": "BAD_ACK", "message": json.dumps(ack)[:80]}
                    stats["errors"][str(error.get("code"))] += 1
                    return
                stats["acked"][message["id"]] = message.get("seq")
                stats["ack_ms"].append((done - sent) / 1e6)
                stats["last_ack"] = done
            finally:
                slots.release()

        async def sender(s: int, sock):
            slots = asyncio.Semaphore(args.window)
            tasks = []
            start = t0 + s * interval / len(self.senders)  # staggered over one interval
            for k in range(per_sender):
                target = start + k * interval
                delay = target - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if slots.locked():
                    stats["window_waits"] += 1
                await slots.acquire()
                stats["lag"].append(max(0.0, time.perf_counter() - target) * 1000)
                if not sock.alive:
                    slots.release()
                    stats["disconnected"] += 1
                    continue
                tasks.append(asyncio.create_task(send_one(s, sock, k, slots)))
            await asyncio.gather(*tasks)

        await asyncio.gather(*(sender(s, sock) for s, sock in enumerate(self.senders)))
        sends_done = time.monotonic()
        expected = set(stats["acked"])
        for worker in self.workers:
            worker.send("drain", "m", expected, args.drain_timeout)
        answers = []
        for worker in self.workers:
            answers.append(await worker.expect("drained", args.drain_timeout + 60))
        await drain(sender_receivers, "m", expected, max(0.0, args.drain_timeout - (time.monotonic() - sends_done)))
        cpu_after = self.cpu()
        client_cpu = time.process_time() - client_before
        wall = time.monotonic() - wall_before
        requests = {}
        for name, url in self.services.items():
            after = request_counts(url)
            if after is not None and requests_before[name] is not None:
                requests[name] = {k: v for k, v in (after - requests_before[name]).items()
                                  if not k.split(" ")[1].startswith(("/health", "/ready", "/metrics"))}
            else:
                requests[name] = None
        self.report(stats, expected, answers, sender_receivers, cpu_before, cpu_after, idle, client_cpu, wall, logs,
                    requests)

    # -------------------------------------------------------------------------------- report

    def report(self, stats, expected, answers, sender_receivers, cpu_before, cpu_after, idle, client_cpu, wall, logs,
               requests):
        args = self.args
        urls = args.gateway_urls
        offered = args.senders * args.rate
        requested = args.senders * max(1, round(args.rate * args.duration))
        acked = len(expected)
        first = stats["first_send"] or time.time_ns()
        send_seconds = ((stats["last_ack"] or first) - first) / 1e9
        last_delivery = max((a["last_delivery_ns"] for a in answers), default=0)
        deliver_seconds = (max(last_delivery, first) - first) / 1e9
        receivers = sorted((r for a in answers for r in a["receivers"]), key=lambda r: r["index"])
        deliveries = sum(r["delivered"] for r in receivers)
        complete = all(a["complete"] for a in answers)
        drain_waited = max((a["waited"] for a in answers), default=0.0)
        all_ms = sorted(ms for a in answers for _, values in a["latencies"] for ms in values)
        by_gateway = {}
        for a in answers:
            for gateway, values in a["latencies"]:
                by_gateway.setdefault(gateway, []).extend(values)
        acks = sorted(stats["ack_ms"])
        lag = sorted(stats["lag"])

        print(f"\n  measured:    {args.senders} senders x {args.rate:g} msgs/s for {args.duration:g} s "
              f"({requested} messages), {len(receivers)} receivers; tag {self.tag}")
        print(f"    offered:               {offered:,.1f} msgs/s -> {offered * len(receivers):,.0f} deliveries/s to the receivers")
        send_span = max(send_seconds, args.duration)
        print(f"    achieved:              {acked / send_span:,.1f} msgs/s ({acked} acked of {stats['sent']} sent, "
              f"{requested} scheduled; first send -> last ack {send_seconds:.2f} s, rate over max(that, --duration))")
        failed = dict(stats["errors"])
        if stats["timeouts"]:
            failed["ack timeout"] = stats["timeouts"]
        if stats["disconnected"]:
            failed["sender disconnected"] = stats["disconnected"]
        print(f"    failed sends:          {sum(failed.values())}" + (f"  {failed}" if failed else ""))
        print(f"    send schedule:         lag p50 {fmt(percentile(lag, 0.5))} p99 {fmt(percentile(lag, 0.99))} "
              f"max {fmt(lag[-1] if lag else math.nan)} ms; waited for a free slot (window {args.window}) "
              f"{stats['window_waits']} times")
        print(f"    send -> ack ms:        p50 {fmt(percentile(acks, 0.5))}  p99 {fmt(percentile(acks, 0.99))}  "
              f"max {fmt(acks[-1] if acks else math.nan)}")
        deliver_span = max(deliver_seconds, args.duration)
        print(f"    deliveries/s:          {deliveries / deliver_span:,.0f}  ({deliveries:,} deliveries to the receivers; "
              f"first send -> last delivery {deliver_seconds:.2f} s, rate over max(that, --duration))")
        print(f"    delivery latency ms:   {fmt_latency(latency_summary(all_ms))}")
        for gateway in sorted(by_gateway):
            print(f"      receivers on {urls[gateway]}: {fmt_latency(latency_summary(sorted(by_gateway[gateway])))}")

        # completeness
        problems = [r for r in receivers if r["missing"] or r["duplicates"] or r["backwards"] or r["gaps"] or not r["alive"]]
        missing = sum(r["missing"] for r in receivers)
        print(f"    completeness:          {len(receivers) - len(problems)}/{len(receivers)} receivers got all {acked} "
              f"acked messages once and in seq order" + ("" if complete else
                                                          f"  [drain timed out after {args.drain_timeout:g} s]")
              + f"; drain wait after the last ack {drain_waited:.2f} s")
        print(f"      missing {missing}, duplicates {sum(r['duplicates'] for r in receivers)}, "
              f"seq backwards {sum(r['backwards'] for r in receivers)}, seq gaps {sum(r['gaps'] for r in receivers)}, "
              f"delivered but not acked {sum(r['extra'] for r in receivers)}, "
              f"foreign {sum(r['foreign'] for r in receivers)}")
        shown = problems if args.per_receiver == "problems" else receivers if args.per_receiver == "all" else []
        for r in shown[:args.show_receivers]:
            print(f"      receiver {r['index']:>4} on {urls[r['gateway']]}: missing {r['missing']}, dup {r['duplicates']}, "
                  f"backwards {r['backwards']}, gaps {r['gaps']}, seq {r['first_seq']}..{r['last_seq']}"
                  + ("" if r["alive"] else f", socket lost: {r['lost_reason']}"))
        if len(shown) > args.show_receivers:
            print(f"      ... {len(shown) - args.show_receivers} more (--show-receivers)")
        sender_summaries = [sr.summary("m", expected, sock.alive, sock.lost_reason)
                            for sr, sock in zip(sender_receivers, self.senders)]
        print(f"    senders' own sockets:  {sum(s['delivered'] for s in sender_summaries):,} of {acked * len(self.senders):,} "
              f"deliveries; missing {sum(s['missing'] for s in sender_summaries)}, "
              f"duplicates {sum(s['duplicates'] for s in sender_summaries)}, "
              f"seq backwards {sum(s['backwards'] for s in sender_summaries)}, gaps {sum(s['gaps'] for s in sender_summaries)}")
        lost = Counter(r["lost_reason"] for r in receivers if not r["alive"])
        lost.update(s["lost_reason"] for s in sender_summaries if not s["alive"])
        if lost:
            print(f"    sockets lost:          {dict(lost)}")

        # CPU
        window = wall
        used = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
        gateway_names = [f"gateway-{i + 1}" for i in range(len(urls))]
        gateway_cpu = sum(used[n] for n in gateway_names)
        all_deliveries = deliveries + sum(s["delivered"] for s in sender_summaries)
        print(f"    CPU window:            {window:.2f} s (first send -> drained)")
        if math.isnan(gateway_cpu):
            print(f"    gateway CPU:           n/a (no live pid file for some gateway port under {args.state_dir}/run)")
        else:
            per_gw = ", ".join(f"{n} {used[n] * 1000:,.0f} ms" for n in gateway_names)
            print(f"    gateway CPU:           {gateway_cpu * 1000:,.0f} ms ({per_gw}) = "
                  f"{gateway_cpu * 1000 / (deliveries / 1000):,.1f} ms per 1,000 deliveries to the receivers"
                  f" ({gateway_cpu * 1000 / (all_deliveries / 1000):,.1f} counting the senders' sockets too)"
                  if deliveries else f"    gateway CPU:           {gateway_cpu * 1000:,.0f} ms, no deliveries")
            print(f"                           {gateway_cpu / window * 100:.0f} % of one core; idle baseline "
                  + ", ".join(f"{n} {idle[n]:.1f} ms/s" for n in gateway_names))
        for name in self.others:
            value = used[name]
            if math.isnan(value):
                print(f"    {name} CPU:{' ' * (18 - len(name))}n/a (no live {name}.pid under {args.state_dir}/run)")
            else:
                unit = (f"{value * 1000 / acked:.2f} ms per message" if acked else "no messages")
                print(f"    {name} CPU:{' ' * (18 - len(name))}{value * 1000:,.0f} ms = {unit}; "
                      f"{value / window * 100:.0f} % of one core; idle {idle[name]:.1f} ms/s")

        # what the services were asked during the window (from their /metrics)
        for name, counts in requests.items():
            if counts is None:
                print(f"    {name} requests:{' ' * (13 - len(name))}n/a (no /metrics at {self.services[name]})")
            else:
                print(f"    {name} requests:{' ' * (13 - len(name))}"
                      + (", ".join(f"{k} x{v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"))
        catch_up = (requests.get("messages") or {}).get("GET /api/v1/rooms/{roomId}/messages 200")
        if catch_up:
            print(f"      (history reads while nobody joins: the gateways' catch-up after a seq gap, one per socket; "
                  f"{catch_up / max(acked, 1):.2f} per message sent)")

        # the client itself
        worker_cpu = [a["cpu"] for a in answers]
        worker_wall = [a["wall"] for a in answers]
        busiest = max([client_cpu / wall] + [c / w for c, w in zip(worker_cpu, worker_wall) if w > 0])
        print(f"    client CPU:            senders' process {client_cpu:.2f} s ({client_cpu / wall * 100:.0f} %); "
              f"receiver processes " + ", ".join(f"{c:.2f} s ({c / w * 100:.0f} %)" for c, w in zip(worker_cpu, worker_wall))
              + f"; total {client_cpu + sum(worker_cpu):.2f} s over {wall:.2f} s")
        if busiest > 0.8:
            print("    note: a client process used over 80 % of a core; the client may be setting the pace "
                  "(try more --procs)")
        load = os.getloadavg()
        print(f"    load average now:      {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")

        # logs
        for name, watch in logs.items():
            levels, notable = watch.summary()
            bad = {k: v for k, v in levels.items() if k not in ("trace", "debug", "info", "notice")}
            if bad:
                print(f"    {name} log during the run: {dict(levels)}")
                for line in notable:
                    print(f"      {line}")

        self.results = {
            "tag": self.tag, "receivers": len(receivers), "senders": len(self.senders), "rate": args.rate,
            "duration": args.duration, "offered_msgs_per_s": offered, "scheduled": requested, "sent": stats["sent"],
            "acked": acked, "failed": failed,
            "achieved_msgs_per_s": acked / send_span, "first_send_to_last_ack_s": send_seconds,
            "deliveries": deliveries, "deliveries_per_s": deliveries / deliver_span,
            "first_send_to_last_delivery_s": deliver_seconds,
            "latency_ms": latency_summary(all_ms),
            "latency_ms_by_gateway": {urls[g]: latency_summary(sorted(v)) for g, v in by_gateway.items()},
            "ack_ms": latency_summary(acks),
            "missing": missing, "duplicates": sum(r["duplicates"] for r in receivers),
            "seq_backwards": sum(r["backwards"] for r in receivers), "seq_gaps": sum(r["gaps"] for r in receivers),
            "receivers_with_problems": len(problems), "drain_complete": complete, "drain_seconds": drain_waited,
            "cpu_window_s": window, "cpu_s": used, "idle_cpu_ms_per_s": idle,
            "gateway_cpu_ms_per_1000_deliveries": gateway_cpu * 1000 / (deliveries / 1000) if deliveries else None,
            "messages_cpu_ms_per_message": used.get("messages", math.nan) * 1000 / acked if acked else None,
            "client_cpu_s": {"senders": client_cpu, "receivers": worker_cpu}, "service_requests": requests,
            "problems": problems[:50],
        }

    async def shutdown(self):
        senders, self.senders = self.senders, []
        if senders:
            try:
                await asyncio.wait_for(asyncio.gather(*(s.close() for s in senders), return_exceptions=True), 20)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        if self.http is not None:
            await self.http.close()
            self.http = None

    def stop_workers(self):
        for worker in self.workers:
            worker.stop()
        self.workers = []


# ------------------------------------------------------------------------------------------ main


def parse_args(argv=None):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="bench-live.py",
        description="Live-path benchmark of a running VoiceFlow stack: one room, R receivers on the gateways, "
                    "S senders at a fixed rate; throughput, delivery latency, server CPU, completeness.",
        epilog="Example: .data/venv/bin/python scripts/bench-live.py --receivers 50 --senders 5 --rate 10",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    load = parser.add_argument_group("scenario")
    load.add_argument("--receivers", type=int, default=100, metavar="R", help="receiving sockets in the room")
    load.add_argument("--senders", type=int, default=10, metavar="S", help="sending sockets (members too)")
    load.add_argument("--rate", type=float, default=2.0, help="messages per second per sender")
    load.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    load.add_argument("--warmup", type=int, default=10, help="messages sent (one at a time) and delivered before measuring")
    load.add_argument("--window", type=int, default=32, help="sends in flight per sender at most (open loop below that)")
    load.add_argument("--baseline", type=float, default=2.0, help="seconds of idle CPU measured before sending")
    stack = parser.add_argument_group("stack (flags override the environment)")
    stack.add_argument("--base-url", default=env("VOICEFLOW_BASE_URL", f"http://127.0.0.1:{env('EDGE_PORT', '8080')}"),
                       help="the edge, for REST (/api/v1) [VOICEFLOW_BASE_URL, else EDGE_PORT]")
    stack.add_argument("--gateway-urls", default=default_gateway_urls(),
                       help="comma-separated gateway URLs the sockets connect to directly "
                            "[GATEWAY_PORT_BASE +1..+GATEWAYS]")
    stack.add_argument("--messages-url", default=None,
                       help="the messages service itself, for its /metrics [MESSAGES_URL, else <state-dir>/run/messages.port]")
    stack.add_argument("--rooms-url", default=None,
                       help="the rooms service itself, for its /metrics [ROOMS_URL, else <state-dir>/run/rooms.port]")
    stack.add_argument("--state-dir", default=env("VOICEFLOW_STATE_DIR", os.path.join(ROOT, ".data")),
                       help="the stack's state directory: run/*.pid, run/*.port, logs/ [VOICEFLOW_STATE_DIR]")
    client = parser.add_argument_group("client")
    client.add_argument("--procs", type=int, default=2, help="processes running the receiving sockets")
    client.add_argument("--client", choices=("raw", "socketio"), default="raw",
                        help="raw: the lean Engine.IO/Socket.IO WebSocket client of bench-gateway.py; "
                             "socketio: one python-socketio AsyncClient per socket")
    client.add_argument("--users", type=int, default=0,
                        help="benchmark users (0: one per socket, at most 499; sockets share users beyond that)")
    client.add_argument("--user-prefix", default="livebench", help="benchmark users are <prefix>1..<prefix>U")
    client.add_argument("--connect-concurrency", type=int, default=25, help="connects and joins in flight per process")
    client.add_argument("--timeout", type=float, default=30.0, help="seconds for one connect or acknowledgement")
    client.add_argument("--drain-timeout", type=float, default=60.0,
                        help="seconds to wait, after the last ack, for every receiver to have every message")
    client.add_argument("--per-receiver", choices=("problems", "all", "none"), default="problems",
                        help="per-receiver lines: those with losses/duplicates/order breaks, all, or none")
    client.add_argument("--show-receivers", type=int, default=20, help="at most this many per-receiver lines")
    client.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.receivers < 1 or args.senders < 1 or args.procs < 1 or args.window < 1 or args.connect_concurrency < 1:
        parser.error("--receivers, --senders, --procs, --window and --connect-concurrency must be >= 1")
    if args.rate <= 0 or args.duration <= 0 or args.warmup < 0 or args.baseline <= 0:
        parser.error("--rate, --duration and --baseline must be > 0, --warmup >= 0")
    if args.rate * args.duration * args.senders > 1_000_000:
        parser.error("more than 1,000,000 messages: lower --rate, --duration or --senders")
    args.gateway_urls = [u.strip().rstrip("/") for u in args.gateway_urls.split(",") if u.strip()]
    if not args.gateway_urls:
        parser.error("--gateway-urls: at least one URL")
    for url in args.gateway_urls + [args.base_url]:
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"{url}: this benchmark only talks to loopback (127.0.0.1)")
    args.state_dir = os.path.abspath(args.state_dir)
    args.procs = min(args.procs, args.receivers)
    if args.users <= 0:
        args.users = min(args.receivers + args.senders, 499)
    args.users = min(args.users, 499)  # the room's maxUsers is at most 500, its creator included
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    run_dir = os.path.join(args.state_dir, "run")
    started_at = dt.datetime.now().astimezone()
    print(f"VoiceFlow live-path benchmark - {started_at:%Y-%m-%d %H:%M:%S %Z}")
    print(f"  parameters:  R={args.receivers}  S={args.senders}  rate={args.rate:g} msgs/s per sender  "
          f"duration={args.duration:g} s  warm-up={args.warmup}  window={args.window}  procs={args.procs}  "
          f"client={args.client}")
    gateways = gateway_processes(run_dir, args.gateway_urls)
    others = {name: StackProcess.find(run_dir, name) for name in ("messages", "rooms", "redis")}
    services = {"messages": args.messages_url or service_url(run_dir, "messages", "MESSAGES_URL"),
                "rooms": args.rooms_url or service_url(run_dir, "rooms", "ROOMS_URL")}
    print(f"  stack:       REST {args.base_url}/api/v1; gateways "
          + ", ".join(f"{u} (pid {g.pid})" if g else f"{u} (pid unknown)" for u, g in zip(args.gateway_urls, gateways))
          + "; " + ", ".join(f"{n} pid {p.pid if p else 'unknown'}" for n, p in others.items())
          + f"; state {args.state_dir}")
    binaries = sorted({os.path.realpath(f"/proc/{p.pid}/exe") for p in gateways + [others["messages"]] if p
                       and os.path.exists(f"/proc/{p.pid}/exe")})
    if binaries:
        print(f"  executables: {', '.join(binaries)}")
    print(f"  machine:     {machine()}", flush=True)
    bg.raise_fd_limit(args.receivers + args.senders + 512)

    bench = None
    status = 0
    try:
        api = bg.Api(args.base_url)
        started = time.perf_counter()
        users = [api.user(args.user_prefix, index + 1) for index in range(args.users)]
        room = api.room(users, f"live bench {uuid.uuid4().hex[:6]}")
        print(f"  setup:       {len(users)} users logged in, room {room['id']} (code {room['code']}) joined by all, "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        bench = LiveBench(args, users, room, gateways, others, services)
        run_bench(bench)
    except SetupError as error:
        status = setup_failed(error)
    except KeyboardInterrupt:
        status = interrupted()
    finally:
        if bench is not None:
            bench.stop_workers()
    if args.json and bench is not None and bench.results:
        write_results(args.json, started_at, {
            "receivers": args.receivers, "senders": args.senders, "rate": args.rate, "duration": args.duration,
            "warmup": args.warmup, "window": args.window, "procs": args.procs, "client": args.client,
            "gateway_urls": args.gateway_urls}, status, bench.results)
    return status


if __name__ == "__main__":
    sys.exit(main())

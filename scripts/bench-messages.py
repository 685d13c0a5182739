#!/usr/bin/env python3
"""Benchmark of the messages service's write and read path: `POST /api/v1/messages` throughput and
latency, history page latency, and the messages service's CPU time per message.

Run it against a running stack (release build, send limit lifted), from the repository root:

    RATE_LIMIT_MESSAGES_PER_MINUTE=1000000 RATE_LIMIT_REGISTER_PER_IP=1000000 \\
      RATE_LIMIT_LOGIN_PER_IP=1000000 CONFIG=release scripts/stack.sh up
    .data/venv/bin/python scripts/bench-messages.py
    .data/venv/bin/python scripts/bench-messages.py --rooms 40 --clients 40 --duration 20

It needs aiohttp in that venv (`.data/venv/bin/pip install -r scripts/bench-requirements.txt`).
It starts and builds nothing: it talks to the stack through the edge and reads the messages
service's pid file (`$VOICEFLOW_STATE_DIR/run/messages.pid`) for its CPU time.

What it does:
1. Setup: logs in `--clients` benchmark users (`<prefix>1`..`<prefix>N`), registering them the
   first time, and creates `--rooms` fresh rooms; client i posts to room i mod R, and every
   client joins the rooms it posts to.
2. Send: every client posts messages one after the other (a new request as soon as the last one
   answered) for `--duration` seconds after `--warmup` seconds that are not counted. Prints
   messages/s (201 answers per second of the measured window), p50/p99/max latency of the POSTs,
   non-201 answers by status, and the messages service's CPU seconds per stored message
   (utime+stime of /proc/<pid>/stat over the measured window, divided by the 201s in it), and
   the same per message for the six busiest commands on the machine (every process's CPU summed
   by command name: PostgreSQL, the client workers, HAProxy, Redis...), which shows what a
   stored message costs the whole machine.
3. History: every client (or the first `--history-clients`) reads
   `GET /api/v1/rooms/<room>/messages?limit=50` of its room (which now holds the messages of
   step 2) for `--history-duration` seconds, then the same with `page=<--history-page>`;
   p50/p99/max latency and requests/s of each, and the messages service's CPU per request.
   With 40 clients the latency is mostly queueing; `--history-clients 1` shows one request's.

The clients run in `--processes` worker processes (asyncio + aiohttp, keep-alive connections),
because one Python process cannot drive thousands of requests per second; they share the
machine's CPUs with the stack, which the machine-wide CPU figure printed with each phase shows.

Measurements are printed, never asserted: the exit status is 0 unless setup failed (1) or the
run was interrupted (130).

Settings (flag, or environment variable, or default):
  --base-url   VOICEFLOW_BASE_URL   http://127.0.0.1:8080  (the edge; REST under /api/v1)
  --state-dir  VOICEFLOW_STATE_DIR  .data                  (the stack's state; pid files in run/)
"""
from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import sys
import time
import uuid
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, percentile  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

try:
    import aiohttp
except ImportError as missing:  # pragma: no cover - environment problem
    sys.exit(f"bench-messages: {missing}. Use .data/venv/bin/python "
             f"(and `.data/venv/bin/pip install -r scripts/bench-requirements.txt`).")


class SetupError(Exception):
    """The benchmark could not be set up (exit 1)."""


# ------------------------------------------------------------------------------------------ helpers


def fmt_ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.2f}"


def stat_cpu_seconds(stat: str) -> float:
    """utime + stime, in seconds, of a /proc/<pid>/stat text."""
    # The command name (field 2) may hold spaces; fields after it are space separated.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat_cpu_seconds(stat.read())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def cpu_by_process() -> dict[tuple[str, str], float]:
    """utime + stime of every process on the machine, in seconds, by (pid, command name)."""
    seconds = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # it exited meanwhile
        seconds[(entry, text[text.index("(") + 1:text.rindex(")")])] = stat_cpu_seconds(text)
    return seconds


def read_pid(state_dir: str, name: str) -> int:
    path = os.path.join(state_dir, "run", f"{name}.pid")
    try:
        with open(path) as file:
            pid = int(file.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError) as error:
        raise SetupError(f"no running {name} service ({path}: {error}); start the stack or pass --state-dir") from error


class CpuWindow:
    """CPU time of the messages service and of the machine between `start()` and `stop()`."""

    def __init__(self, pid: int):
        self.pid = pid

    def start(self):
        self.process0 = process_cpu_seconds(self.pid)
        self.machine0 = machine_cpu()
        self.processes0 = cpu_by_process()
        self.wall0 = time.monotonic()

    def stop(self):
        self.process = process_cpu_seconds(self.pid) - self.process0
        busy, total = machine_cpu()
        self.machine_busy = (busy - self.machine0[0]) / max(total - self.machine0[1], 1e-9)
        self.wall = time.monotonic() - self.wall0
        # Every process's share by command name (PostgreSQL's backends, the client workers and so
        # on summed); a process that exited within the window is not counted.
        self.by_command = Counter()
        for key, seconds in cpu_by_process().items():
            self.by_command[key[1]] += seconds - self.processes0.get(key, 0.0)


# ------------------------------------------------------------------------------------------ REST setup


async def call(http: aiohttp.ClientSession, base: str, method: str, path: str, token: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with http.request(method, base + path, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, body
    except aiohttp.ClientError as error:
        raise SetupError(f"{method} {base + path}: {error}") from error


async def user(http, base: str, prefix: str, index: int) -> dict:
    """Logs benchmark user `index` in, registering it the first time."""
    username = f"{prefix}{index}"
    email = f"{prefix}{index}@bench.example.com"
    password = f"{prefix}-bench-{index}-password"
    status, body = await call(http, base, "POST", "/auth/login", json={"email": email, "password": password})
    if status == 401:
        status, body = await call(http, base, "POST", "/auth/register", json={
            "username": username, "email": email, "password": password, "confirmPassword": password})
        if status != 201:
            raise SetupError(f"register {username}: {status} {body} (per-IP registration limit? "
                             "start the stack with RATE_LIMIT_REGISTER_PER_IP=1000000)")
    elif status != 200:
        raise SetupError(f"login {username}: {status} {body}")
    return {"name": username, "token": body["token"], "id": body["user"]["id"]}


async def setup(args) -> list[dict]:
    """The clients: each with its user's token and the room it posts to."""
    base = args.base_url.rstrip("/") + "/api/v1"
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=20)) as http:
        # A few sign-ins at a time: the auth service answers 503 beyond its bcrypt queue.
        gate = asyncio.Semaphore(4)

        async def signed_in(index: int) -> dict:
            async with gate:
                return await user(http, base, args.user_prefix, index + 1)

        users = await asyncio.gather(*(signed_in(index) for index in range(args.clients)))
        run = uuid.uuid4().hex[:6]
        rooms = []
        for index in range(args.rooms):
            owner = users[index % len(users)]
            status, body = await call(http, base, "POST", "/rooms", token=owner["token"],
                                      json={"name": f"bench {run} {index}", "maxUsers": 500})
            if status != 201:
                raise SetupError(f"create room: {status} {body} (room creation limit? RATE_LIMIT_ROOM_CREATE_PER_HOUR)")
            rooms.append((owner["id"], body))
        clients = []
        for index, client_user in enumerate(users):
            owner_id, room = rooms[index % len(rooms)]
            if owner_id != client_user["id"]:
                status, body = await call(http, base, "POST", f"/rooms/{room['code']}/join", token=client_user["token"])
                if status != 200:
                    raise SetupError(f"{client_user['name']} join: {status} {body} (RATE_LIMIT_ROOM_JOIN_*?)")
            clients.append({"token": client_user["token"], "room": room["id"]})
        return clients


# ------------------------------------------------------------------------------------------ load


def worker(base: str, clients: list[dict], kind: str, query: str, start_at: float, measure_from: float,
           stop_at: float, results) -> None:
    """One process: runs `clients` until `stop_at` (wall clock), sends back latencies and statuses."""
    async def main():
        latencies: list[float] = []
        statuses: Counter = Counter()
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
            async def client(state: dict):
                headers = {"Authorization": f"Bearer {state['token']}", "Content-Type": "application/json"}
                if kind == "send":
                    url = base + "/messages"
                else:
                    url = f"{base}/rooms/{state['room']}/messages?{query}"
                sequence = 0
                await asyncio.sleep(max(0.0, start_at - time.time()))
                while True:
                    now = time.time()
                    if now >= stop_at:
                        return
                    sequence += 1
                    began = time.perf_counter()
                    try:
                        if kind == "send":
                            body = '{"roomId":"%s","content":"bench message %d"}' % (state["room"], sequence)
                            response = await http.post(url, data=body, headers=headers)
                        else:
                            response = await http.get(url, headers=headers)
                        await response.read()
                        status = response.status
                        response.release()
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        status = "error"
                    elapsed = time.perf_counter() - began
                    if now >= measure_from and time.time() <= stop_at:
                        statuses[status] += 1
                        if status in (200, 201):
                            latencies.append(elapsed)

            await asyncio.gather(*(client(state) for state in clients))
        results.put((latencies, dict(statuses)))

    asyncio.run(main())


def run_phase(args, clients: list[dict], kind: str, query: str, duration: float, pid: int) -> dict:
    base = args.base_url.rstrip("/") + "/api/v1"
    processes = max(1, min(args.processes, len(clients)))
    shares = [clients[index::processes] for index in range(processes)]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    measure_from = start_at + args.warmup
    stop_at = measure_from + duration
    children = [context.Process(target=worker, args=(base, share, kind, query, start_at, measure_from, stop_at, results))
                for share in shares]
    for child in children:
        child.start()
    window = CpuWindow(pid)
    time.sleep(max(0.0, measure_from - time.time()))
    window.start()
    time.sleep(max(0.0, stop_at - time.time()))
    window.stop()
    latencies: list[float] = []
    statuses: Counter = Counter()
    for _ in children:
        part, counts = results.get()
        latencies += part
        statuses.update(counts)
    for child in children:
        child.join()
    latencies.sort()
    ok = len(latencies)
    return {
        "ok": ok, "rate": ok / duration, "statuses": statuses,
        "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else math.nan,
        "cpu": window.process, "cpu_per": window.process / ok if ok else math.nan, "machine": window.machine_busy,
        "by_command": window.by_command,
    }


def report(title: str, unit: str, result: dict):
    others = {key: value for key, value in result["statuses"].items() if key not in (200, 201)}
    print(f"{title}")
    print(f"  {unit}/s            {result['rate']:.0f}   ({result['ok']} answered 2xx)")
    print(f"  latency ms       p50 {fmt_ms(result['p50'])}   p99 {fmt_ms(result['p99'])}   max {fmt_ms(result['max'])}")
    print(f"  messages CPU     {result['cpu']:.2f} s, {result['cpu_per'] * 1000:.3f} ms per {unit[:-1] if unit.endswith('s') else unit}")
    print(f"  machine busy     {result['machine'] * 100:.0f}% of all CPUs")
    if result["ok"]:
        top = [(name, seconds) for name, seconds in result["by_command"].most_common(6) if seconds > 0]
        shares = ", ".join(f"{name} {seconds / result['ok'] * 1000:.2f}" for name, seconds in top)
        print(f"  CPU by process   ms per {unit[:-1] if unit.endswith('s') else unit}: {shares}")
    if others:
        print(f"  other answers    {dict(others)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--state-dir", default=os.environ.get("VOICEFLOW_STATE_DIR", os.path.join(ROOT, ".data")))
    parser.add_argument("--rooms", type=int, default=40)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds of sending")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of each phase before measuring")
    parser.add_argument("--history-duration", type=float, default=10.0)
    parser.add_argument("--history-page", type=int, default=20, help="page number of the paged history phase (0: skip)")
    parser.add_argument("--history-clients", type=int, default=0,
                        help="clients of the history phases (0: all; 1 gives latency without queueing)")
    parser.add_argument("--processes", type=int, default=2, help="client worker processes")
    parser.add_argument("--user-prefix", default="mbench")
    args = parser.parse_args()

    try:
        pid = read_pid(args.state_dir, "messages")
        clients = asyncio.run(setup(args))
    except SetupError as error:
        print(f"bench-messages: setup failed: {error}", file=sys.stderr)
        return 1
    print(f"bench-messages: {args.clients} clients, {args.rooms} rooms, {args.processes} client processes, "
          f"warm-up {args.warmup:.0f} s, messages service pid {pid}, {os.cpu_count()} CPUs")
    send = run_phase(args, clients, "send", "", args.duration, pid)
    report(f"POST /api/v1/messages ({args.duration:.0f} s)", "msgs", send)
    readers = clients[:args.history_clients] if args.history_clients > 0 else clients
    label = f"{len(readers)} client{'s' if len(readers) > 1 else ''}, {args.history_duration:.0f} s"
    latest = run_phase(args, readers, "history", "limit=50", args.history_duration, pid)
    report(f"GET history limit=50 ({label})", "reqs", latest)
    if args.history_page > 0:
        paged = run_phase(args, readers, "history", f"limit=50&page={args.history_page}", args.history_duration, pid)
        report(f"GET history limit=50&page={args.history_page} ({label})", "reqs", paged)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

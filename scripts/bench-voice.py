#!/usr/bin/env python3
"""Voice signalling benchmark of a running VoiceFlow stack: how long `voice:join` takes to be
acknowledged, and how long a `voice:signal` takes from the sender's emit to the receiver's handler,
from one gateway to another (gateway -> Redis -> the other gateway). Prints p50/p99/max of each.

Run it against a running stack with two gateways, from the repository root, e.g.:

    GATEWAYS=2 scripts/stack.sh up
    .data/venv/bin/python scripts/bench-voice.py                       # 100 joins, 500 signals
    .data/venv/bin/python scripts/bench-voice.py --joins 300 --signals 2000 --signal-rate 40

Another stack (other ports, another state directory): give the same environment as `stack.sh`
(EDGE_PORT, GATEWAY_PORT_BASE, GATEWAYS, VOICEFLOW_STATE_DIR) or the flags --base-url and
--gateway-urls. It needs python-socketio 5.x, requests and aiohttp in the venv
(`.data/venv/bin/pip install -r scripts/bench-requirements.txt`).

What it does:
1. REST through the edge (--base-url): two benchmark users (`<prefix>1`, `<prefix>2`, logged in,
   registered the first time) and a fresh room they both join by code.
2. Two Socket.IO sockets over WebSocket with the lean client of bench-gateway.py, connected
   DIRECTLY to the gateways: the first user's to the first gateway, the second user's to the second
   (to the one gateway there is, if only one is given). Both open the room with `room:join`; the
   second joins its voice and stays.
3. Joins: the first socket sends `voice:join` and, once acknowledged, `voice:leave`, --joins times
   (after --warmup unmeasured rounds). Each join is a new session of a room with one participant
   already there: the gateway asks the signaling service, which records the session in Redis, mints
   TURN credentials and announces the join to the room. Latency: emit -> acknowledgement.
4. Signals: the first socket joins voice again and sends `voice:signal {to: <second session>, data}`
   --signals times, one at a time, paced at --signal-rate per second (data is an ICE candidate of
   --signal-bytes bytes of JSON). Relay latency: the sender's emit -> the receiver's handler (one
   process, one clock); also emit -> `{ok: true}`.

The paces stay within a socket's default budgets (SOCKET_EVENTS_PER_SECOND=20 for voice:join and
voice:leave, SOCKET_SIGNALS_PER_SECOND=50 for signals); raise those on the gateways to go faster
(0 means unpaced). An event answered with an error (RATE_LIMITED, ...) is counted by code and not
measured; a signal not delivered within --timeout is counted as lost. The client adds its own
latency (one Python process; the figures include it).

Measurements are printed, never asserted. Exit status: 0 when the run completed (also with errors
or losses, which are printed), 1 when setup failed (stack unreachable, users/room/sockets not set
up), 130 when interrupted (Ctrl-C, SIGTERM).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import math
import os
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


# ------------------------------------------------------------------------------------------ helpers


def summary(seconds: list[float]) -> dict:
    """p50/p99/max/mean in milliseconds of a list of durations in seconds."""
    values = sorted(value * 1000 for value in seconds)
    return {"p50": percentile(values, 0.50), "p99": percentile(values, 0.99),
            "max": values[-1] if values else math.nan,
            "mean": sum(values) / len(values) if values else math.nan, "samples": len(values)}


def fmt_summary(figures: dict) -> str:
    def ms(value):
        return "n/a" if math.isnan(value) else f"{value:,.2f}"
    return (f"p50 {ms(figures['p50'])}  p99 {ms(figures['p99'])}  max {ms(figures['max'])}  "
            f"mean {ms(figures['mean'])} ms  ({figures['samples']:,} samples)")


def error_code(answer) -> str | None:
    """The code of an error acknowledgement, else None."""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        return str(answer["error"].get("code"))
    return None


class Pace:
    """Spaces events `1 / rate` seconds apart (open loop: a slow answer does not delay the next
    start beyond its slot); rate 0: no pacing."""

    def __init__(self, rate: float):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next = time.perf_counter()

    async def wait(self):
        if self.interval:
            delay = self.next - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.next = max(self.next + self.interval, time.perf_counter() - self.interval)


# ------------------------------------------------------------------------------------------ the benchmark


class VoiceBench:
    def __init__(self, args, users, room):
        self.args = args
        self.users = users
        self.room = room
        self.http = None
        self.sockets = []
        self.results = {}
        self.arrivals: dict[int, float] = {}  # signal number -> when the receiver's handler ran
        self.waiters: dict[int, asyncio.Future] = {}

    async def open(self, user, url):
        socket = bg.RawSocket(self.http, url, user["token"])
        try:
            await socket.connect(self.args.timeout)
        except bg.ConnectFailed as error:
            raise SetupError(f"{user['name']}: connect to {url}: {error}") from error
        self.sockets.append(socket)
        await self.setup_call(socket, user, "room:join", {"roomId": self.room["id"]})
        return socket

    async def setup_call(self, socket, user, event, data):
        """A call of the set-up: one answered RATE_LIMITED (the socket's budget spent by an unpaced
        part) is retried after a pause that lets the budget refill, a few times."""
        for _ in range(5):
            answer = await socket.call(event, data, self.args.timeout)
            if error_code(answer) != "RATE_LIMITED":
                break
            await asyncio.sleep(1.0)  # the budget refills with time; nothing to await
        if error_code(answer):
            raise SetupError(f"{user['name']}: {event}: {answer}")
        return answer

    def on_signal(self, payload):
        data = payload.get("data") if isinstance(payload, dict) else None
        number = data.get("n") if isinstance(data, dict) else None
        if isinstance(number, int):
            self.arrivals[number] = time.perf_counter()
            waiter = self.waiters.pop(number, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def run(self):
        args = self.args
        self.http = aiohttp.ClientSession()
        sender_url = args.gateway_urls[0]
        receiver_url = args.gateway_urls[1 % len(args.gateway_urls)]
        sender = await self.open(self.users[0], sender_url)
        receiver = await self.open(self.users[1], receiver_url)
        receiver.on("voice:signal", self.on_signal)
        settled = await self.setup_call(receiver, self.users[1], "voice:join", {"roomId": self.room["id"]})
        receiver_session = settled["sessionId"]
        print(f"  sockets:     sender on {sender_url}, receiver on {receiver_url} (in voice, session {receiver_session})",
              flush=True)

        # Joins (each followed by a leave), paced within the socket's event budget.
        joins, leaves, errors = [], [], Counter()
        pace = Pace(args.join_rate)
        for index in range(args.warmup + args.joins):
            await pace.wait()
            started = time.perf_counter()
            ack = await sender.call("voice:join", {"roomId": self.room["id"]}, args.timeout)
            joined_in = time.perf_counter() - started
            if error_code(ack):
                errors[f"voice:join {error_code(ack)}"] += 1
                continue
            started = time.perf_counter()
            left = await sender.call("voice:leave", {"roomId": self.room["id"]}, args.timeout)
            left_in = time.perf_counter() - started
            if error_code(left):
                errors[f"voice:leave {error_code(left)}"] += 1
            if index >= args.warmup:
                joins.append(joined_in)
                if not error_code(left):
                    leaves.append(left_in)
        self.results["voice_join_ms"] = summary(joins)
        self.results["voice_leave_ms"] = summary(leaves)
        print(f"  voice:join   emit -> ack:      {fmt_summary(self.results['voice_join_ms'])}")
        print(f"  voice:leave  emit -> ack:      {fmt_summary(self.results['voice_leave_ms'])}", flush=True)

        # Signals, one at a time, to the session on the other gateway.
        self.results["errors"] = dict(errors)
        await self.setup_call(sender, self.users[0], "voice:join", {"roomId": self.room["id"]})
        padding = "x" * max(args.signal_bytes - 120, 0)
        relays, acks, lost = [], [], 0
        pace = Pace(args.signal_rate)
        loop = asyncio.get_running_loop()
        for number in range(args.warmup + args.signals):
            await pace.wait()
            data = {"n": number, "candidate": f"candidate:1 1 udp 2130706431 127.0.0.1 {50000 + number % 10000} typ host{padding}",
                    "sdpMid": "0", "sdpMLineIndex": 0}
            arrived = loop.create_future()
            self.waiters[number] = arrived
            started = time.perf_counter()
            answer = await sender.call("voice:signal", {"to": receiver_session, "data": data}, args.timeout)
            acked_in = time.perf_counter() - started
            if error_code(answer):
                self.waiters.pop(number, None)
                errors[f"voice:signal {error_code(answer)}"] += 1
                continue
            try:
                await asyncio.wait_for(arrived, args.timeout)
            except asyncio.TimeoutError:
                self.waiters.pop(number, None)
                lost += 1
                continue
            if number >= args.warmup:
                relays.append(self.arrivals[number] - started)
                acks.append(acked_in)
        self.results["voice_signal_relay_ms"] = summary(relays)
        self.results["voice_signal_ack_ms"] = summary(acks)
        self.results["signals_lost"] = lost
        self.results["errors"] = dict(errors)
        print(f"  voice:signal emit -> delivered: {fmt_summary(self.results['voice_signal_relay_ms'])}")
        print(f"  voice:signal emit -> ack:       {fmt_summary(self.results['voice_signal_ack_ms'])}")
        print(f"  lost signals: {lost}   errors: {', '.join(f'{k} x{v}' for k, v in errors.items()) or 'none'}")

    async def shutdown(self):
        sockets, self.sockets = self.sockets, []
        if sockets:
            try:
                await asyncio.wait_for(asyncio.gather(*(s.close() for s in sockets), return_exceptions=True), 20)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        if self.http is not None:
            await self.http.close()
            self.http = None


# ------------------------------------------------------------------------------------------ main


def parse_args(argv=None):
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="bench-voice.py",
        description="Voice signalling benchmark of a running VoiceFlow stack: voice:join acknowledgement latency and "
                    "voice:signal relay latency between two gateways.",
        epilog="Example: .data/venv/bin/python scripts/bench-voice.py --joins 300 --signals 2000",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    load = parser.add_argument_group("scenario")
    load.add_argument("--joins", type=int, default=100, help="measured voice:join (+ voice:leave) rounds")
    load.add_argument("--signals", type=int, default=500, help="measured voice:signals")
    load.add_argument("--warmup", type=int, default=10, help="unmeasured rounds before each part")
    load.add_argument("--join-rate", type=float, default=8.0,
                      help="join+leave rounds per second (2 events each; a socket's default budget is 20 events/s); 0: unpaced")
    load.add_argument("--signal-rate", type=float, default=40.0,
                      help="signals per second (a socket's default budget is 50/s); 0: unpaced")
    load.add_argument("--signal-bytes", type=int, default=300, help="about this many bytes of JSON per signal's data")
    stack = parser.add_argument_group("stack (flags override the environment)")
    stack.add_argument("--base-url", default=env("VOICEFLOW_BASE_URL", f"http://127.0.0.1:{env('EDGE_PORT', '8080')}"),
                       help="the edge, for REST (/api/v1) [VOICEFLOW_BASE_URL, else EDGE_PORT]")
    stack.add_argument("--gateway-urls", default=default_gateway_urls(),
                       help="comma-separated gateway URLs: the sender connects to the first, the receiver to the second "
                            "[GATEWAY_PORT_BASE +1..+GATEWAYS]")
    client = parser.add_argument_group("client")
    client.add_argument("--user-prefix", default="voicebench", help="the benchmark users are <prefix>1 and <prefix>2")
    client.add_argument("--timeout", type=float, default=10.0, help="seconds for one connect, acknowledgement or delivery")
    client.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.joins < 1 or args.signals < 1 or args.warmup < 0:
        parser.error("--joins and --signals must be >= 1, --warmup >= 0")
    if args.join_rate < 0 or args.signal_rate < 0 or args.timeout <= 0:
        parser.error("--join-rate and --signal-rate must be >= 0, --timeout > 0")
    if not 100 <= args.signal_bytes <= 64 * 1024:
        parser.error("--signal-bytes: 100 to 65536 (a signal's data is at most 64 KiB of JSON)")
    if args.joins + args.signals > 1_000_000:
        parser.error("more than 1,000,000 rounds: lower --joins or --signals")
    args.gateway_urls = [u.strip().rstrip("/") for u in args.gateway_urls.split(",") if u.strip()]
    if not args.gateway_urls:
        parser.error("--gateway-urls: at least one URL")
    for url in args.gateway_urls + [args.base_url]:
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"{url}: this benchmark only talks to loopback (127.0.0.1)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started_at = dt.datetime.now().astimezone()
    print(f"VoiceFlow voice signalling benchmark - {started_at:%Y-%m-%d %H:%M:%S %Z}")
    print(f"  parameters:  joins={args.joins} at {args.join_rate:g}/s  signals={args.signals} at {args.signal_rate:g}/s "
          f"of ~{args.signal_bytes} bytes  warm-up={args.warmup}")
    if len(args.gateway_urls) < 2:
        print("  note:        one gateway only: the signals do not cross gateways")
    print(f"  machine:     {machine()}", flush=True)

    bench = None
    status = 0
    try:
        api = bg.Api(args.base_url)
        users = [api.user(args.user_prefix, index + 1) for index in range(2)]
        room = api.room(users, f"voice bench {uuid.uuid4().hex[:6]}")
        print(f"  setup:       users {users[0]['name']} and {users[1]['name']}, room {room['id']}", flush=True)
        bench = VoiceBench(args, users, room)
        run_bench(bench)
    except SetupError as error:
        status = setup_failed(error)
    except KeyboardInterrupt:
        status = interrupted()
    if args.json and bench is not None and bench.results:
        write_results(args.json, started_at, {
            "joins": args.joins, "signals": args.signals, "warmup": args.warmup, "join_rate": args.join_rate,
            "signal_rate": args.signal_rate, "signal_bytes": args.signal_bytes, "gateway_urls": args.gateway_urls},
            status, bench.results)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the benchmark scripts (scripts/bench-*.py)."""
from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import signal
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def default_binary(product: str) -> str:
    """`.build/release/<product>` when it was built, else the debug build's."""
    release = os.path.join(ROOT, ".build", "release", product)
    debug = os.path.join(ROOT, ".build", "debug", product)
    return release if os.path.exists(release) else debug


def build_config(path: str) -> str:
    """`release`, `debug` or `unknown`: which build a binary comes from."""
    parts = os.path.realpath(path).split(os.sep)
    for name in ("release", "debug"):
        if name in parts:
            return name
    return "unknown"


def default_gateway_urls() -> str:
    """The local stack's gateways, comma-separated: GATEWAY_PORT_BASE +1 .. +GATEWAYS, else 8101 and 8102."""
    base = os.environ.get("GATEWAY_PORT_BASE")
    if base:
        count = int(os.environ.get("GATEWAYS", "2") or 2)
        return ",".join(f"http://127.0.0.1:{int(base) + i}" for i in range(1, max(count, 1) + 1))
    return "http://127.0.0.1:8101,http://127.0.0.1:8102"


def machine() -> str:
    """The machine a run measured: CPUs, system, Python, load average now."""
    return (f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}")


def run_bench(bench) -> None:
    """Runs `await bench.run()` on a fresh event loop, then `await bench.shutdown()` whatever
    happened. SIGTERM cancels it; a cancelled run raises KeyboardInterrupt, as Ctrl-C does."""
    async def runner():
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await bench.run()
        finally:
            await bench.shutdown()

    try:
        asyncio.run(runner())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


def setup_failed(error: Exception) -> int:
    """Reports a set-up that failed (stack unreachable, users, room or sockets not set up); exit status 1."""
    print(f"\nSETUP FAILED: {error}", file=sys.stderr)
    return 1


def interrupted() -> int:
    """Reports a run interrupted (Ctrl-C, SIGTERM); exit status 130."""
    print("\ninterrupted; closing sockets", file=sys.stderr)
    return 130


def write_results(path: str, started_at, parameters: dict, status: int, results: dict) -> None:
    """Writes a run's results as JSON to `path`: when it started, its parameters, its exit status
    and the figures (a value json cannot serialize is written as null)."""
    with open(path, "w") as out:
        json.dump({"started": started_at.isoformat(), "parameters": parameters, "exit_status": status, **results}, out,
                  indent=2, default=lambda v: None)

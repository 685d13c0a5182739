"""Helpers shared by the benchmark scripts (scripts/bench-*.py)."""
from __future__ import annotations

import math
import os
import socket

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

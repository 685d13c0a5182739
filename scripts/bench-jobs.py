#!/usr/bin/env python3
"""Benchmark of VoiceFlow's job queue (`voiceflow-jobs`) against RQ, on one Redis server.

Run it from the repository root (Postgres of the local stack must be up: the worker runs its
migrations at start; nothing else of the stack is used):

    .data/venv/bin/python scripts/bench-jobs.py
    .data/venv/bin/python scripts/bench-jobs.py --jobs 2000 --concurrency 1,4 --trickle-jobs 100

It needs redis-py and rq 3.0.0 in that venv (`.data/venv/bin/pip install -r
scripts/bench-requirements.txt`) and `redis-server` on PATH. It never builds anything: it runs
`--binary`, by default `.build/release/voiceflow-jobs` when present, else `.build/debug/...`.

The script starts its OWN `redis-server` on a free port in a temporary directory (`--save ''
--appendonly no`), so other work on the machine's Redis does not disturb the figures. VoiceFlow
uses database 0, RQ database 1 (both emptied before each run), RQ's `enqueue_many` database 2.
Every process it starts (Redis, workers, enqueue processes) runs in its own session and is
stopped at the end, also on Ctrl-C or SIGTERM.

Per worker concurrency C (`--concurrency`, default 1,4,16) and per system, with the same job
count N (`--jobs`, default 5000) of a job that does nothing (VoiceFlow: the built-in `noop` with
data `{}`; RQ: a Python function that returns None):

1. Enqueue: N jobs, no worker running.
   VoiceFlow: one `voiceflow-jobs enqueue bench noop '{}' --count N` (200 adds at a time, each
   one Lua script call; there is no Python client, the add script lives in the Swift code).
   "CLI wall" is N / the process's wall time: it includes process start, connecting and exit.
   "adds only" is (N-1) / (last add - first add), taken from the queue's event stream, whose ids
   are Redis's clock at the moment each add ran.
   RQ: `Queue.enqueue` N times, one call after the other, in this (warm) process: N / wall time.
   Also `Queue.enqueue_many` with all N in one pipeline (into a scratch database).
2. Drain: the N jobs of step 1 are a backlog; then the workers start. VoiceFlow: ONE
   `voiceflow-jobs worker` process with JOBS_CONCURRENCY=C. RQ has no in-process concurrency:
   C `SimpleWorker` processes (SimpleWorker runs jobs in the worker process, no fork per job: RQ's
   fastest mode). The RQ processes first connect and wait at a barrier, and are released together,
   so their Python start-up is not counted; VoiceFlow's worker starts taking jobs as soon as it is
   up. Drain rate = jobs finished / (last finish - first pickup): VoiceFlow `finishedAt` and
   `processedAt` of the job hashes, RQ `ended_at` and `started_at`. Printed with it: CPU time per job of the worker
   process(es) (VoiceFlow's includes its start-up) and of Redis over this phase.
3. Backlog: with the same workers running and idle, N more jobs are added as in step 1 (the
   same enqueue path, on the same CPUs). Pickup latency = taken - added. With a backlog this is
   mostly time spent waiting in the queue, and depends on how much faster jobs come than go, so
   "max backlog" (most jobs added but not yet taken at any moment) is printed with it.
4. Trickle: with the workers idle, `--trickle-jobs` jobs are added one at a time at a steady
   `--trickle-rate` per second; pickup latency as in step 3. This is the wake-up path of an idle
   worker. VoiceFlow's trickle jobs are added by one `voiceflow-jobs enqueue` process each (its
   start-up is not in the latency, but it runs on the same CPUs); RQ's from this process.

Pickup latency, how it is measured:
- RQ: `started_at - enqueued_at` of the job hash (both stamped by the client: enqueued_at before
  the push is sent, started_at by the worker after it popped and fetched the job), microseconds.
- VoiceFlow, "Redis clock": the queue's event stream has a `waiting` event written by the add
  script and an `active` event written by the take script; their stream ids are Redis's clock
  (ms) when the scripts ran. The stream is read while the phase runs (it is trimmed to ~10,000).
  This is the figure of the summary.
- VoiceFlow, "job stamps": `processedAt - createdAt` of the job hash. Both are the client's clock
  when it BUILT its request (the queue passes `now` into its Lua scripts), so a take that waited
  before it reached Redis carries an early processedAt, which can even precede createdAt
  (negative latency). "take ran after processedAt" (active event - processedAt) shows that wait:
  p99, max and how many waited over 100 ms.
VoiceFlow's times are whole milliseconds (±1 ms); the clocks are the same (one machine).

A phase whose jobs do not all finish within `--timeout` seconds is reported with what finished;
the jobs still waiting are then dropped and the workers restarted, so the next phase starts on an
empty queue.

The worker runs with JOBS_QUEUES=bench, JOBS_SCHEDULER=false, JOBS_KEEP_COMPLETED large enough
that every job hash stays readable, LOG_LEVEL=warning, APP_ENV=test, RATE_LIMITS_ENABLED=false,
REDIS_URL of the benchmark's Redis and DATABASE_URL (`--database-url`, default the env variable or
the local stack's postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow) for migrations only.

Measurements are printed, not asserted. Jobs that did not finish within `--timeout`, failed, or
whose record is missing are counted and printed ("lost"). Exit status: 0 unless setup failed or
a process under test died (1), or the run was interrupted (130).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import build_config, default_binary, free_port, percentile  # noqa: E402
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DEFAULT_DATABASE_URL = "postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow"
VF_DB, RQ_DB, RQ_MANY_DB = 0, 1, 2
QUEUE = "bench"
VF_PREFIX = "jq:{%s}:" % QUEUE

try:
    import redis
except ImportError as missing:  # pragma: no cover - environment problem
    sys.exit(f"bench-jobs: {missing}. Use .data/venv/bin/python "
             f"(and `.data/venv/bin/pip install -r scripts/bench-requirements.txt`).")


# RQ's benchmark job. RQ refuses functions of __main__, so it lives in a module written to a
# temporary directory at start (on sys.path here, and on PYTHONPATH of the RQ workers).
RQ_JOB_MODULE = "bench_jobs_rq"
RQ_JOB = RQ_JOB_MODULE + ".noop"
RQ_JOB_SOURCE = 'def noop():\n    """Does nothing."""\n    return None\n'


class SetupError(Exception):
    """The benchmark could not be set up, or a process under test died (exit 1)."""


# ------------------------------------------------------------------------------------------ helpers










def check_postgres(url: str):
    """Fails early when the worker's PostgreSQL does not accept connections."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        raise SetupError(f"PostgreSQL not reachable at {host}:{port} ({error}); the worker runs its migrations "
                         f"there at start: start the stack (make up) or set DATABASE_URL / --database-url") from None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (NaN when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return math.nan


def rq_time(value) -> float | None:
    """Seconds since 1970 of an RQ timestamp ('%Y-%m-%dT%H:%M:%S.%fZ', UTC)."""
    if not value:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    for layout in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return dt.datetime.strptime(text, layout).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            continue
    return None


def fmt_rate(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f}"


def fmt_lat(value: float | None, decimals: int = 1) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{decimals}f}"


class Processes:
    """Every child process of the benchmark, so all of them are stopped at the end."""

    def __init__(self):
        self.children: list[subprocess.Popen] = []

    def start(self, argv, **kwargs) -> subprocess.Popen:
        # Own session: a Ctrl-C in the terminal reaches only this script, which stops the children.
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        self.children.append(process)
        return process

    def reap(self):
        self.children = [p for p in self.children if p.poll() is None]

    def stop(self, processes, grace: float = 10.0):
        processes = [p for p in processes if p.poll() is None]
        for process in processes:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def stop_all(self):
        self.stop(self.children)
        self.children = []


# ------------------------------------------------------------------------------------------ Redis


class RedisServer:
    """A private redis-server on a free port in a temporary directory."""

    def __init__(self, processes: Processes, executable: str):
        self.processes = processes
        self.executable = executable
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-jobs-redis-")
        self.process = None
        self.version = "?"

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db)

    def start(self):
        if shutil.which(self.executable) is None and not os.access(self.executable, os.X_OK):
            raise SetupError(f"redis-server not found: {self.executable} (--redis-server)")
        with open(os.path.join(self.dir, "redis.log"), "wb") as log:
            self.process = self.processes.start(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.dir, "--daemonize", "no", "--databases", "4"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SetupError(f"redis-server exited with status {self.process.returncode}: "
                                 f"{open(os.path.join(self.dir, 'redis.log'), errors='replace').read()[-500:]}")
            try:
                info = self.client(0).info("server")
                self.version = info.get("redis_version", "?")
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise SetupError("redis-server did not answer within 10 s")

    def cpu_seconds(self) -> float:
        info = self.client(0).info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def stop(self):
        if self.process is not None:
            self.processes.stop([self.process], grace=5)
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------------------------------ figures


def max_backlog(added: list[float], taken: list[float]) -> int:
    """Most jobs added but not yet taken at any one moment (adds count first on equal times)."""
    depth = peak = 0
    for _, kind in sorted([(a, 0) for a in added] + [(t, 1) for t in taken]):
        depth += 1 if kind == 0 else -1
        peak = max(peak, depth)
    return peak


def phase_figures(created: list[float], picked: list[float], finished: list[float], expected: int,
                  failed: int, added_all: list[float], taken_all: list[float]) -> dict:
    """Figures of one phase from per-job (added, picked up, finished) times in seconds; the three
    lists hold the jobs that finished successfully. added_all/taken_all: every add and every take
    of the phase (also of jobs that did not finish), for the backlog depth."""
    done = len(finished)
    figures = {"expected": expected, "completed": done, "failed": failed, "missing": expected - done - failed}
    if added_all:
        figures["max_backlog"] = max_backlog(added_all, taken_all)
    if done == 0:
        return figures
    latencies = sorted((p - c) * 1000 for c, p in zip(created, picked))
    figures.update({
        "add_span_s": max(created) - min(created),
        "work_span_s": max(finished) - min(picked),
        "latency_ms": {"p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
                       "max": latencies[-1], "mean": sum(latencies) / len(latencies)},
    })
    figures["drain_per_s"] = done / figures["work_span_s"] if figures["work_span_s"] > 0 else math.nan
    add_span = max(added_all) - min(added_all) if len(added_all) > 1 else 0
    figures["add_per_s"] = (len(added_all) - 1) / add_span if add_span > 0 else math.nan
    return figures


def wait_until(count, target: int, timeout: float, alive) -> bool:
    """Polls count() until it reaches target; False on timeout. alive() raises when a worker died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count() >= target:
            return True
        alive()
        time.sleep(0.02)
    return count() >= target


# ------------------------------------------------------------------------------------------ VoiceFlow


class EventRecorder(threading.Thread):
    """Reads the queue's event stream (`jq:{bench}:events`, trimmed to ~10,000 entries) while a
    phase runs. Stream ids are Redis's clock in ms at the moment the script ran, so they give the
    time a job was really added ('waiting') and really taken ('active')."""

    def __init__(self, client: redis.Redis):
        super().__init__(daemon=True)
        self.client = client
        self.key = VF_PREFIX + "events"
        self.stopping = threading.Event()
        self.times: dict[str, dict[str, int]] = {"waiting": {}, "active": {}}
        newest = client.xrevrange(self.key, count=1)
        self.last = newest[0][0] if newest else b"0-0"
        self.error: Exception | None = None

    def run(self):
        try:
            while True:
                stopping = self.stopping.is_set()
                reply = self.client.xread({self.key: self.last}, count=10000, block=None if stopping else 100)
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        self.last = entry_id
                        kind = fields.get(b"event")
                        if kind in (b"waiting", b"active"):
                            job = fields.get(b"jobId", b"").decode()
                            self.times[kind.decode()].setdefault(job, int(entry_id.split(b"-")[0]))
                if stopping and not reply:
                    return
        except Exception as error:  # noqa: BLE001 - reported with the figures
            self.error = error

    def finish(self) -> dict[str, dict[str, int]]:
        self.stopping.set()
        self.join(timeout=30)
        if self.error is not None:
            print(f"    warning: reading {self.key} failed ({self.error}); Redis-clock figures are incomplete", flush=True)
        return self.times


class VoiceFlowRun:
    """One concurrency level of VoiceFlow: enqueue, drain, backlog and trickle phases."""

    name = "VoiceFlow"

    def __init__(self, args, processes: Processes, server: RedisServer, concurrency: int):
        self.args = args
        self.processes = processes
        self.server = server
        self.concurrency = concurrency
        self.redis = server.client(VF_DB)
        self.worker = None
        self.log_path = None
        self.log_file = None
        self.http_port = free_port()
        self.results: dict = {}

    def env(self, worker: bool) -> dict:
        env = dict(os.environ)
        env.update({"REDIS_URL": self.server.url(VF_DB), "DATABASE_URL": self.args.database_url,
                    "APP_ENV": "test", "LOG_LEVEL": "warning", "RATE_LIMITS_ENABLED": "false"})
        if worker:
            keep = 2 * self.args.jobs + self.args.trickle_jobs + 1000
            env.update({"PORT": str(self.http_port), "HOST": "127.0.0.1", "JOBS_QUEUES": QUEUE,
                        "JOBS_SCHEDULER": "false", "JOBS_KEEP_COMPLETED": str(keep),
                        "JOBS_CONCURRENCY": str(self.concurrency)})
        return env

    def last_id(self) -> int:
        return int(self.redis.get(VF_PREFIX + "id") or 0)

    def finished_count(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(VF_PREFIX + "completed")
        pipe.zcard(VF_PREFIX + "failed")
        return sum(pipe.execute())

    def enqueue_cli(self, count: int) -> tuple[float, int]:
        """Runs one `enqueue --count` process; returns its wall time and exit status."""
        argv = [self.args.binary, "enqueue", QUEUE, "noop", "{}", "--count", str(count)]
        started = time.perf_counter()
        process = self.processes.start(argv, env=self.env(False), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = process.communicate(timeout=self.args.timeout)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SetupError(f"`{' '.join(argv)}` exited with {process.returncode}: {err.decode(errors='replace')[-500:]}")
        return wall, process.returncode

    def collect(self, first: int, last: int, events: dict | None = None) -> dict:
        """Figures of the jobs with ids first..last; with the phase's events also the pickup latency
        on Redis's clock, and how long after the worker stamped processedAt its take really ran."""
        created, picked, finished = [], [], []
        added_all, taken_all = [], []
        redis_latency, take_delay = [], []
        failed = 0
        ids = range(first, last + 1)
        for start in range(0, len(ids), 2000):
            pipe = self.redis.pipeline(transaction=False)
            chunk = ids[start:start + 2000]
            for job_id in chunk:
                pipe.hmget(f"{VF_PREFIX}job:{job_id}", "createdAt", "processedAt", "finishedAt", "state")
            for job_id, (c, p, f, state) in zip(chunk, pipe.execute()):
                if events is not None:
                    if str(job_id) in events["waiting"]:
                        added_all.append(events["waiting"][str(job_id)] / 1000)
                    if str(job_id) in events["active"]:
                        taken_all.append(events["active"][str(job_id)] / 1000)
                else:
                    if c:
                        added_all.append(int(c) / 1000)
                    if p:
                        taken_all.append(int(p) / 1000)
                if state == b"completed" and c and p and f:
                    created.append(int(c) / 1000)
                    picked.append(int(p) / 1000)
                    finished.append(int(f) / 1000)
                    if events is not None:
                        added, taken = events["waiting"].get(str(job_id)), events["active"].get(str(job_id))
                        if added is not None and taken is not None:
                            redis_latency.append(taken - added)
                            take_delay.append(taken - int(p))
                elif state == b"failed":
                    failed += 1
        figures = phase_figures(created, picked, finished, len(ids), failed, added_all, taken_all)
        if events is not None:
            redis_latency.sort()
            take_delay.sort()
            figures["events_matched"] = len(redis_latency)
            if redis_latency:
                figures["redis_latency_ms"] = {"p50": percentile(redis_latency, 0.5), "p99": percentile(redis_latency, 0.99),
                                               "max": redis_latency[-1]}
                figures["take_delay_ms"] = {"p50": percentile(take_delay, 0.5), "p99": percentile(take_delay, 0.99),
                                            "max": take_delay[-1],
                                            "over_100ms": sum(1 for d in take_delay if d > 100)}
                figures["processed_before_created"] = sum(1 for c, p in zip(created, picked) if p < c)
        return figures

    def check_alive(self):
        if self.worker is not None and self.worker.poll() is not None:
            raise SetupError(f"voiceflow-jobs worker exited with status {self.worker.returncode}; "
                             f"log tail:\n{self.log_tail()}")

    def failure(self, message: str) -> SetupError:
        """Stops the worker (its output is block-buffered until it exits), then quotes its log."""
        self.processes.stop([self.worker], grace=5)
        return SetupError(f"{message}; worker log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, errors="replace") as log:
                return "".join(log.readlines()[-lines:]).rstrip() or "(empty)"
        except (OSError, TypeError):
            return "(no log)"

    def start_worker(self):
        if self.log_path is None:
            handle, self.log_path = tempfile.mkstemp(prefix="bench-jobs-worker-", suffix=".log")
            self.log_file = os.fdopen(handle, "wb")
        self.worker = self.processes.start([self.args.binary, "worker"], env=self.env(True),
                                           stdout=self.log_file, stderr=subprocess.STDOUT)

    def recover(self, done: bool):
        """After a phase that timed out: stop the worker (running jobs finish), drop the jobs still
        waiting, and start a fresh worker, so the next phase starts on an empty queue."""
        if not done:
            self.processes.stop([self.worker], grace=15)
            self.redis.delete(VF_PREFIX + "wait", VF_PREFIX + "prioritized")
            self.start_worker()
        self.wait_ready()

    def wait_ready(self):
        import urllib.request
        deadline = time.monotonic() + self.args.ready_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/ready", timeout=3) as response:
                    if response.status == 200:
                        return
                    last = str(response.status)
            except Exception as error:  # noqa: BLE001 - any failure means "not ready yet"
                last = type(error).__name__ + (f" {error.code}" if hasattr(error, "code") else "")
            time.sleep(0.1)
        raise self.failure(f"voiceflow-jobs worker not ready within {self.args.ready_timeout}s (last: {last})")

    def run(self) -> dict:
        args, n = self.args, self.args.jobs
        self.redis.flushdb()
        results = self.results
        # 1. Enqueue, no worker.
        recorder = EventRecorder(self.server.client(VF_DB))
        recorder.start()
        wall, _ = self.enqueue_cli(n)
        first, last = 1, self.last_id()
        added = [ms for job, ms in recorder.finish()["waiting"].items() if job.isdigit() and first <= int(job) <= last]
        span = (max(added) - min(added)) / 1000 if len(added) > 1 else math.nan
        results["enqueue"] = {"cli_wall_s": wall, "cli_per_s": n / wall, "adds_seen": len(added),
                              "adds_span_s": span, "adds_per_s": (len(added) - 1) / span if span > 0 else math.nan,
                              "created_span_s": self.collect_created(first, last)}
        # 2. Drain: the worker starts on the backlog.
        cpu_redis = self.server.cpu_seconds()
        self.start_worker()
        done = wait_until(self.finished_count, n, args.timeout, self.check_alive)
        cpu_worker = cpu_seconds(self.worker.pid)
        cpu_redis = self.server.cpu_seconds() - cpu_redis
        drain = self.collect(first, last)
        drain["timed_out"] = not done
        # The worker's CPU includes its start-up (migrations check, connections): a small constant.
        drain["worker_cpu_us_per_job"] = cpu_worker / max(1, drain["completed"]) * 1e6
        drain["redis_cpu_us_per_job"] = cpu_redis / max(1, drain["completed"]) * 1e6
        results["drain"] = drain
        # 3. Backlog: worker ready and idle, N more jobs at once.
        self.recover(done)
        time.sleep(0.5)
        before = self.last_id()
        target = self.finished_count() + n
        recorder = EventRecorder(self.server.client(VF_DB))
        recorder.start()
        wall, _ = self.enqueue_cli(n)
        done = wait_until(self.finished_count, target, args.timeout, self.check_alive)
        backlog = self.collect(before + 1, self.last_id(), recorder.finish())
        backlog["timed_out"] = not done
        backlog["enqueue_cli_wall_s"] = wall
        results["backlog"] = backlog
        self.recover(done)
        # 4. Trickle: one enqueue process per job at a steady rate.
        time.sleep(0.5)
        before = self.last_id()
        target = self.finished_count() + args.trickle_jobs
        env = self.env(False)
        argv = [args.binary, "enqueue", QUEUE, "noop", "{}"]
        spawned, failures = [], 0
        recorder = EventRecorder(self.server.client(VF_DB))
        recorder.start()
        start = time.monotonic()
        for index in range(args.trickle_jobs):
            delay = start + index / args.trickle_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            spawned.append(self.processes.start(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            still = []
            for process in spawned:
                if process.poll() is None:
                    still.append(process)
                elif process.returncode != 0:
                    failures += 1
            spawned = still
            self.check_alive()
        for process in spawned:
            if process.wait(timeout=30) != 0:
                failures += 1
        self.processes.reap()
        done = wait_until(self.finished_count, target, args.timeout, self.check_alive)
        trickle = self.collect(before + 1, self.last_id(), recorder.finish())
        trickle["timed_out"] = not done
        trickle["enqueue_failures"] = failures
        trickle["expected"] = args.trickle_jobs
        trickle["missing"] = args.trickle_jobs - trickle["completed"] - trickle["failed"]
        results["trickle"] = trickle
        return results

    def collect_created(self, first: int, last: int) -> float:
        """Span (s) of createdAt over the jobs first..last."""
        times = []
        ids = range(first, last + 1)
        for start in range(0, len(ids), 2000):
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids[start:start + 2000]:
                pipe.hget(f"{VF_PREFIX}job:{job_id}", "createdAt")
            times += [int(v) / 1000 for v in pipe.execute() if v]
        return max(times) - min(times) if times else math.nan

    def stop(self) -> str:
        """Stops the worker; returns a one-line summary of its log."""
        if self.worker is None:
            return ""
        self.processes.stop([self.worker], grace=15)
        self.log_file.close()
        self.log_file = None
        levels: dict[str, int] = {}
        notable: list[str] = []
        try:
            with open(self.log_path, errors="replace") as log:
                for line in log:
                    try:
                        record = json.loads(line)
                        level, message = record.get("level", "?"), record.get("message", line.strip())
                    except ValueError:
                        level, message = "text", line.strip()
                    if not message:
                        continue
                    levels[level] = levels.get(level, 0) + 1
                    if message not in notable and len(notable) < 5:
                        notable.append(message)
        finally:
            os.unlink(self.log_path)
        status = self.worker.returncode
        summary = f"worker exit status {status}; log lines: {levels or 'none'}"
        if notable:
            summary += "; e.g. " + " | ".join(m[:120] for m in notable)
        return summary


# ------------------------------------------------------------------------------------------ RQ


def rq_worker_main(argv: list[str]) -> int:
    """`bench-jobs.py _rq-worker URL QUEUE READY_KEY GO_KEY`: one SimpleWorker that reports itself
    ready, waits for the go signal, then works until SIGTERM."""
    url, queue_name, ready_key, go_key = argv
    from rq import Queue, SimpleWorker
    connection = redis.Redis.from_url(url)
    worker = SimpleWorker([Queue(queue_name, connection=connection)], connection=connection)
    connection.rpush(ready_key, worker.name)
    connection.blpop([go_key], timeout=0)
    worker.work(burst=False, logging_level="WARNING")
    return 0


class RQRun:
    """One concurrency level of RQ: C SimpleWorker processes."""

    name = "RQ"

    def __init__(self, args, processes: Processes, server: RedisServer, concurrency: int):
        from rq import Queue
        self.args = args
        self.processes = processes
        self.server = server
        self.concurrency = concurrency
        self.redis = server.client(RQ_DB)
        self.queue = Queue(QUEUE, connection=self.redis)
        self.workers: list[subprocess.Popen] = []
        self.results: dict = {}
        self.log_dir = tempfile.mkdtemp(prefix="bench-jobs-rq-")

    def finished_count(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(f"rq:finished:{QUEUE}")
        pipe.zcard(f"rq:failed:{QUEUE}")
        return sum(pipe.execute())

    def enqueue(self, count: int) -> tuple[list[str], float]:
        started = time.perf_counter()
        ids = [self.queue.enqueue(RQ_JOB).id for _ in range(count)]
        return ids, time.perf_counter() - started

    def collect(self, ids: list[str]) -> dict:
        created, picked, finished = [], [], []
        added_all, taken_all = [], []
        failed = 0
        for start in range(0, len(ids), 2000):
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids[start:start + 2000]:
                pipe.hmget(f"rq:job:{job_id}", "enqueued_at", "started_at", "ended_at", "status")
            for c, p, f, status in pipe.execute():
                c, p, f = rq_time(c), rq_time(p), rq_time(f)
                if c:
                    added_all.append(c)
                if p:
                    taken_all.append(p)
                if status == b"finished" and c and p and f:
                    created.append(c)
                    picked.append(p)
                    finished.append(f)
                elif status == b"failed":
                    failed += 1
        return phase_figures(created, picked, finished, len(ids), failed, added_all, taken_all)

    def check_alive(self):
        for index, worker in enumerate(self.workers):
            if worker.poll() is not None:
                raise SetupError(f"RQ worker {index + 1} exited with status {worker.returncode}; "
                                 f"log tail:\n{self.log_tail(index)}")

    def log_tail(self, index: int, lines: int = 15) -> str:
        try:
            with open(os.path.join(self.log_dir, f"worker-{index + 1}.log"), errors="replace") as log:
                return "".join(log.readlines()[-lines:]).rstrip() or "(empty)"
        except OSError:
            return "(no log)"

    def recover(self, done: bool):
        """After a phase that timed out: stop the workers, drop the jobs still waiting, start fresh
        workers (see VoiceFlowRun.recover)."""
        if done:
            return
        self.processes.stop(self.workers, grace=15)
        self.workers = []
        self.queue.empty()
        self.redis.rpush(self.start_workers(), *(["go"] * self.concurrency))

    def start_workers(self) -> str:
        ready_key, go_key = f"bench:ready:{os.getpid()}", f"bench:go:{os.getpid()}"
        self.redis.delete(ready_key, go_key)
        for index in range(self.concurrency):
            log = open(os.path.join(self.log_dir, f"worker-{index + 1}.log"), "ab")
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.args.rq_job_dir, env.get("PYTHONPATH")]))
            self.workers.append(self.processes.start(
                [sys.executable, os.path.abspath(__file__), "_rq-worker", self.server.url(RQ_DB), QUEUE, ready_key, go_key],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env))
            log.close()
        deadline = time.monotonic() + self.args.ready_timeout
        while self.redis.llen(ready_key) < self.concurrency:
            self.check_alive()
            if time.monotonic() > deadline:
                raise SetupError(f"RQ workers not ready within {self.args.ready_timeout}s "
                                 f"({self.redis.llen(ready_key)}/{self.concurrency}); log tail:\n{self.log_tail(0)}")
            time.sleep(0.05)
        return go_key

    def run(self) -> dict:
        from rq import Queue
        args, n = self.args, self.args.jobs
        self.redis.flushdb()
        results = self.results
        # 1. Enqueue, no worker; then enqueue_many into a scratch database.
        ids, wall = self.enqueue(n)
        spans = [rq_time(v) for v in self.hget_all(ids, "enqueued_at")]
        spans = [v for v in spans if v]
        many = self.server.client(RQ_MANY_DB)
        many.flushdb()
        scratch = Queue("many", connection=many)
        datas = [Queue.prepare_data(RQ_JOB) for _ in range(n)]
        started = time.perf_counter()
        scratch.enqueue_many(datas)
        many_wall = time.perf_counter() - started
        many.flushdb()
        results["enqueue"] = {"wall_s": wall, "per_s": n / wall,
                              "adds_span_s": max(spans) - min(spans) if spans else math.nan,
                              "many_wall_s": many_wall, "many_per_s": n / many_wall}
        # 2. Drain: C workers connect, wait at the barrier, and are released together.
        go_key = self.start_workers()
        cpu_redis = self.server.cpu_seconds()
        cpu_workers = [cpu_seconds(w.pid) for w in self.workers]
        self.redis.rpush(go_key, *(["go"] * self.concurrency))
        done = wait_until(self.finished_count, n, args.timeout, self.check_alive)
        cpu_workers = sum(cpu_seconds(w.pid) - before for w, before in zip(self.workers, cpu_workers))
        cpu_redis = self.server.cpu_seconds() - cpu_redis
        drain = self.collect(ids)
        drain["timed_out"] = not done
        drain["worker_cpu_us_per_job"] = cpu_workers / max(1, drain["completed"]) * 1e6
        drain["redis_cpu_us_per_job"] = cpu_redis / max(1, drain["completed"]) * 1e6
        results["drain"] = drain
        # 3. Backlog: workers idle, N more jobs at once (same enqueue path).
        self.recover(done)
        time.sleep(0.5)
        target = self.finished_count() + n
        ids, wall = self.enqueue(n)
        done = wait_until(self.finished_count, target, args.timeout, self.check_alive)
        backlog = self.collect(ids)
        backlog["timed_out"] = not done
        backlog["enqueue_wall_s"] = wall
        results["backlog"] = backlog
        self.recover(done)
        # 4. Trickle.
        time.sleep(0.5)
        target = self.finished_count() + args.trickle_jobs
        ids = []
        start = time.monotonic()
        for index in range(args.trickle_jobs):
            delay = start + index / args.trickle_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ids.append(self.queue.enqueue(RQ_JOB).id)
        done = wait_until(self.finished_count, target, args.timeout, self.check_alive)
        trickle = self.collect(ids)
        trickle["timed_out"] = not done
        results["trickle"] = trickle
        return results

    def hget_all(self, ids: list[str], field: str) -> list:
        values = []
        for start in range(0, len(ids), 2000):
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids[start:start + 2000]:
                pipe.hget(f"rq:job:{job_id}", field)
            values += pipe.execute()
        return values

    def stop(self) -> str:
        if not self.workers:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            return ""
        self.processes.stop(self.workers, grace=15)
        statuses = sorted({w.returncode for w in self.workers})
        problems = []
        for index in range(len(self.workers)):
            tail = self.log_tail(index, lines=200)
            for line in tail.splitlines():
                if any(word in line for word in ("Error", "Traceback", "WARNING", "CRITICAL")) and line not in problems:
                    problems.append(line.strip())
        shutil.rmtree(self.log_dir, ignore_errors=True)
        summary = f"{len(self.workers)} worker(s), exit statuses {statuses}"
        if problems:
            summary += "; log: " + " | ".join(p[:120] for p in problems[:5])
        return summary


# ------------------------------------------------------------------------------------------ report


def lost_text(phase: dict) -> str:
    parts = []
    if phase.get("failed"):
        parts.append(f"{phase['failed']} failed")
    if phase.get("missing"):
        parts.append(f"{phase['missing']} not finished")
    if phase.get("timed_out"):
        parts.append("timed out")
    if phase.get("enqueue_failures"):
        parts.append(f"{phase['enqueue_failures']} enqueue processes failed")
    return ", ".join(parts) or "none"


def print_level(concurrency: int, results: dict, args):
    vf, rq = results.get("VoiceFlow"), results.get("RQ")

    def get(system, *path):
        value = system
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    def mark(system, phase):
        """'*' when only part of the phase's jobs finished (the figures are of those)."""
        figures = get(system, phase)
        return "*" if figures and figures.get("completed", 0) < figures.get("expected", 0) else ""

    def rate(system, phase, key):
        value = get(system, phase, key)
        return "-" if value is None else fmt_rate(value) + mark(system, phase)

    def lat(system, phase, key="latency_ms"):
        latency = get(system, phase, key)
        if not latency:
            return "-"
        decimals = 1 if system is rq else 0
        return f"{fmt_lat(latency['p50'], decimals)} / {fmt_lat(latency['p99'], decimals)}" + mark(system, phase)

    def delay(phase):
        figures = get(vf, phase, "take_delay_ms")
        if not figures:
            return "-"
        return f"{figures['p99']:.0f} / {figures['max']:.0f} ({figures['over_100ms']})"

    rows = [
        ("enqueue jobs/s, one call per job", "-", fmt_rate(get(rq, "enqueue", "per_s"))),
        ("enqueue jobs/s, CLI process wall (incl. start)", fmt_rate(get(vf, "enqueue", "cli_per_s")), "-"),
        ("enqueue jobs/s, adds only (Redis clock)", fmt_rate(get(vf, "enqueue", "adds_per_s")), "-"),
        ("enqueue jobs/s, enqueue_many (one pipeline)", "-", fmt_rate(get(rq, "enqueue", "many_per_s"))),
        (f"drain jobs/s (backlog of {args.jobs})", rate(vf, "drain", "drain_per_s"), rate(rq, "drain", "drain_per_s")),
        ("  worker CPU, us/job", rate(vf, "drain", "worker_cpu_us_per_job"), rate(rq, "drain", "worker_cpu_us_per_job")),
        ("  Redis CPU, us/job", rate(vf, "drain", "redis_cpu_us_per_job"), rate(rq, "drain", "redis_cpu_us_per_job")),
        (f"trickle ({args.trickle_rate:g}/s): pickup ms p50 / p99", "", ""),
        ("  Redis clock (VoiceFlow events)", lat(vf, "trickle", "redis_latency_ms"), "-"),
        ("  job stamps (processedAt/started_at - added)", lat(vf, "trickle"), lat(rq, "trickle")),
        ("  take ran after processedAt, ms p99 / max (>100)", delay("trickle"), "-"),
        (f"backlog ({args.jobs} added at once): pickup ms p50 / p99", "", ""),
        ("  Redis clock (VoiceFlow events)", lat(vf, "backlog", "redis_latency_ms"), "-"),
        ("  job stamps (processedAt/started_at - added)", lat(vf, "backlog"), lat(rq, "backlog")),
        ("  take ran after processedAt, ms p99 / max (>100)", delay("backlog"), "-"),
        ("  jobs added/s in this phase (first-last add)", fmt_rate(get(vf, "backlog", "add_per_s")),
         fmt_rate(get(rq, "backlog", "add_per_s"))),
        ("  max backlog (jobs added, not yet taken)", fmt_rate(get(vf, "backlog", "max_backlog")),
         fmt_rate(get(rq, "backlog", "max_backlog"))),
        ("  jobs/s done meanwhile (first pickup-last finish)", rate(vf, "backlog", "drain_per_s"),
         rate(rq, "backlog", "drain_per_s")),
    ]
    workers = f"1 process x {concurrency}" if concurrency > 1 else "1 process"
    print(f"\nconcurrency {concurrency}  (VoiceFlow: {workers}; RQ: {concurrency} SimpleWorker process"
          f"{'es' if concurrency > 1 else ''})")
    print(f"  {'':50} {'VoiceFlow':>16} {'RQ':>16}")
    for label, a, b in rows:
        print(f"  {label:50} {a:>16} {b:>16}")
    for phase in ("drain", "backlog", "trickle"):
        a = lost_text(vf[phase]) if vf and phase in vf else "-"
        b = lost_text(rq[phase]) if rq and phase in rq else "-"
        if a not in ("none", "-") or b not in ("none", "-"):
            print(f"  lost ({phase}): VoiceFlow {a}; RQ {b}")
    partial = [f"{name} {phase} {figures['completed']}/{figures['expected']}"
               for name, system in (("VoiceFlow", vf), ("RQ", rq)) if system
               for phase, figures in system.items()
               if isinstance(figures, dict) and figures.get("completed", 0) < figures.get("expected", 0)]
    if partial:
        print(f"  * partial: only these jobs finished within --timeout {args.timeout:g} s, and the figures "
              f"are of them: {', '.join(partial)}")


def print_summary(all_results: dict, args):
    print("\nsummary (jobs/s; pickup latency p50/p99 in ms)")
    print(f"  {'C':>3} {'system':10} {'enqueue':>9} {'drain':>8} {'trickle p50/p99':>16} "
          f"{'backlog p50/p99':>16} {'max backlog':>11}")
    for concurrency, results in all_results.items():
        for name in ("VoiceFlow", "RQ"):
            system = results.get(name)
            if not system or "drain" not in system:
                continue
            enqueue = system["enqueue"].get("adds_per_s", system["enqueue"].get("per_s"))
            key, decimals = ("redis_latency_ms", 0) if name == "VoiceFlow" else ("latency_ms", 1)

            def mark(phase):
                figures = system.get(phase, {})
                return "*" if figures.get("completed", 0) < figures.get("expected", 0) else ""

            def pair(phase):
                latency = system.get(phase, {}).get(key)
                return (f"{fmt_lat(latency['p50'], decimals)}/{fmt_lat(latency['p99'], decimals)}" + mark(phase)
                        if latency else "-")

            drain = fmt_rate(system["drain"].get("drain_per_s")) + mark("drain")
            print(f"  {concurrency:>3} {name:10} {fmt_rate(enqueue):>9} {drain:>8} "
                  f"{pair('trickle'):>16} {pair('backlog'):>16} {fmt_rate(system.get('backlog', {}).get('max_backlog')):>11}")
    print("  VoiceFlow: enqueue = adds only, first to last add on Redis's clock; latency on Redis's clock")
    print("             (waiting -> active events).")
    print("  RQ: enqueue = one Queue.enqueue call per job; latency = started_at - enqueued_at.")
    if any(isinstance(figures, dict) and figures.get("completed", 0) < figures.get("expected", 0)
           for results in all_results.values() for system in results.values() for figures in system.values()):
        print("  *: only part of the phase's jobs finished within --timeout (see above).")


# ------------------------------------------------------------------------------------------ main


def parse_args(argv=None):
    def env(name, default):
        return os.environ.get(name) or default

    parser = argparse.ArgumentParser(
        description="Benchmark VoiceFlow's job queue against RQ (noop jobs) on a private redis-server.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per enqueue/drain/backlog phase (both systems)")
    parser.add_argument("--concurrency", default="1,4,16",
                        help="comma-separated worker concurrencies (VoiceFlow: one process; RQ: that many processes)")
    parser.add_argument("--trickle-jobs", type=int, default=200, help="jobs of the trickle phase")
    parser.add_argument("--trickle-rate", type=float, default=20.0, help="jobs per second of the trickle phase")
    parser.add_argument("--systems", default="voiceflow,rq", help="which systems to run: voiceflow, rq or both")
    parser.add_argument("--binary", default=None,
                        help="voiceflow-jobs executable (default: .build/release/voiceflow-jobs if present, else .build/debug/...)")
    parser.add_argument("--database-url", default=env("DATABASE_URL", DEFAULT_DATABASE_URL),
                        help="Postgres of the worker's migrations [DATABASE_URL]")
    parser.add_argument("--redis-server", default="redis-server", help="redis-server executable")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds to wait for one phase's jobs; the jobs still waiting then are dropped "
                             "(counted as not finished) and the workers restarted for the next phase")
    parser.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for workers to be ready")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON to FILE")
    args = parser.parse_args(argv)
    if args.binary is None:
        args.binary = default_binary("voiceflow-jobs")
        args.binary_source = "default (release if present, else debug)"
    else:
        args.binary_source = "--binary"
    try:
        args.levels = [int(v) for v in args.concurrency.split(",") if v.strip()]
    except ValueError:
        parser.error("--concurrency: comma-separated integers")
    if not args.levels or min(args.levels) < 1 or max(args.levels) > 256:
        parser.error("--concurrency: values from 1 to 256")
    args.system_names = [s.strip().lower() for s in args.systems.split(",") if s.strip()]
    if not args.system_names or set(args.system_names) - {"voiceflow", "rq"}:
        parser.error("--systems: voiceflow, rq or voiceflow,rq")
    if args.jobs < 2 or args.trickle_jobs < 1 or args.trickle_rate <= 0:
        parser.error("--jobs must be >= 2, --trickle-jobs >= 1, --trickle-rate > 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started_at = dt.datetime.now().astimezone()
    binary_real = os.path.realpath(args.binary)
    print(f"VoiceFlow job queue vs RQ - {started_at:%Y-%m-%d %H:%M:%S %Z}")
    if "voiceflow" in args.system_names:
        try:
            built = dt.datetime.fromtimestamp(os.path.getmtime(binary_real)).strftime("%Y-%m-%d %H:%M")
        except OSError:
            built = "missing"
        print(f"  binary:      {args.binary} [{args.binary_source}]")
        print(f"               -> {binary_real} ({build_config(args.binary)} build, built {built})")
    rq_version = "-"
    if "rq" in args.system_names:
        try:
            import rq
            rq_version = rq.VERSION
        except ImportError as missing:
            print(f"SETUP FAILED: {missing} (pip install -r scripts/bench-requirements.txt)", file=sys.stderr)
            return 1
    print(f"  parameters:  jobs={args.jobs}  concurrency={','.join(map(str, args.levels))}  "
          f"trickle={args.trickle_jobs} jobs at {args.trickle_rate:g}/s  job=noop")
    print(f"  machine:     {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, redis-py {redis.__version__}, rq {rq_version}")
    print(f"  load:        {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15-min load average before the run)")

    processes = Processes()
    server = RedisServer(processes, args.redis_server)
    args.rq_job_dir = tempfile.mkdtemp(prefix="bench-jobs-rqjob-")
    with open(os.path.join(args.rq_job_dir, RQ_JOB_MODULE + ".py"), "w") as module:
        module.write(RQ_JOB_SOURCE)
    sys.path.insert(0, args.rq_job_dir)

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    all_results: dict = {}
    status = 0
    try:
        if "voiceflow" in args.system_names:
            if not os.access(args.binary, os.X_OK):
                raise SetupError(f"voiceflow-jobs not found or not executable: {args.binary} "
                                 f"(swift build -c release --product voiceflow-jobs; this script never builds)")
            check_postgres(args.database_url)
        server.start()
        print(f"  redis:       redis-server {server.version} on 127.0.0.1:{server.port} (private, no persistence); "
              f"VoiceFlow db {VF_DB}, RQ db {RQ_DB}", flush=True)
        for concurrency in args.levels:
            all_results[concurrency] = {}
            for system in args.system_names:
                run = (VoiceFlowRun if system == "voiceflow" else RQRun)(args, processes, server, concurrency)
                print(f"  running {run.name}, concurrency {concurrency} ...", flush=True)
                began = time.monotonic()
                try:
                    all_results[concurrency][run.name] = run.run()
                finally:
                    summary = run.stop()
                    all_results[concurrency].setdefault(run.name, run.results)
                    print(f"    done in {time.monotonic() - began:.1f} s; {summary}", flush=True)
            print_level(concurrency, all_results[concurrency], args)
        print_summary(all_results, args)
        print(f"  load average after the run: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    except SetupError as error:
        print(f"\nSETUP FAILED: {error}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping workers and Redis", file=sys.stderr)
        status = 130
    except Exception as error:  # noqa: BLE001 - report, then clean up like any other failure
        import traceback
        traceback.print_exc()
        print(f"\nFAILED: {type(error).__name__}: {error}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        processes.stop_all()
        server.stop()
        shutil.rmtree(args.rq_job_dir, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"started": started_at.isoformat(), "binary": binary_real, "config": build_config(args.binary),
                       "cpus": os.cpu_count(), "redis": server.version, "rq": rq_version,
                       "parameters": {"jobs": args.jobs, "concurrency": args.levels, "trickle_jobs": args.trickle_jobs,
                                      "trickle_rate": args.trickle_rate},
                       "exit_status": status, "results": {str(k): v for k, v in all_results.items()}},
                      out, indent=2, default=str)
    return status


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_rq-worker":
        sys.exit(rq_worker_main(sys.argv[2:]))
    sys.exit(main())

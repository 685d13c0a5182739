"""Helpers of the job-queue fault tests (Tests/jobs): a private redis-server, worker processes,
the operator CLI, and direct reads of a queue's Redis state. See conftest.py for the fixtures."""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis as redis_py
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY_NAME = "voiceflow-jobs"
DEFAULT_DATABASE_URL = "postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow"
WORKER_READY_TIMEOUT = 45.0
REDIS_START_TIMEOUT = 20.0

# Figures reported by the tests, printed by pytest_terminal_summary.
FIGURES: list[str] = []


def report_figure(line: str) -> None:
    """Prints a measured figure now (visible with -s) and in the run's summary (always)."""
    print(line)
    FIGURES.append(line)


# ---------------------------------------------------------------------------------------------
# Small utilities


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Polls `condition()` until it returns a truthy value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_for_all_finished(state: QueueState, total: int, timeout: float, on_tick=None) -> dict:
    """Polls until `total` jobs are completed or failed and none is waiting, active or delayed.

    `on_tick(counts)` runs on every poll (the fault schedule); counts are None while Redis is down.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        counts = state.counts_or_none()
        if counts is not None:
            last = counts
            finished = counts["completed"] + counts["failed"]
            if finished >= total and counts["waiting"] == counts["active"] == counts["delayed"] == 0:
                return counts
        if on_tick is not None:
            on_tick(counts)
        assert time.monotonic() < deadline, f"not finished after {timeout:.0f} s; last counts {last}"
        time.sleep(0.05)


_ports_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port free right now, never handed out twice in this session."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL when the pytest process dies (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


_PREEXEC = _die_with_parent if sys.platform.startswith("linux") else None


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
    except OSError:
        return "(no log)"


def bin_dir() -> Path:
    """$VOICEFLOW_BIN_DIR, else `swift build --show-bin-path` in the repository."""
    configured = os.environ.get("VOICEFLOW_BIN_DIR")
    if configured:
        return Path(configured)
    result = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return Path(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Redis


class RedisServer:
    """A private redis-server that tests may crash and restart on the same port and data dir.

    Persistence: AOF with `appendfsync always` and no RDB snapshots. With `always`, Redis writes and
    fsyncs the AOF before it answers a write, so a SIGKILL of the server (a crash) loses nothing a
    client was told succeeded, and a restart reloads exactly the acknowledged state. That is what
    makes a restart test meaningful: with `everysec`, up to a second of acknowledged state moves
    (completions, lock deletions, pops from `wait`) could vanish and the test would measure Redis'
    durability setting, not the queue. (A graceful stop, SHUTDOWN/SIGTERM, also flushes the AOF;
    the tests use both.) An fsync per event-loop turn costs little at these job rates.
    """

    def __init__(self, directory: Path, port: int):
        self.directory = directory
        self.port = port
        self.log_path = directory / "redis.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        assert self.process is None or self.process.poll() is not None, "redis-server is already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--protected-mode", "no",
                "--daemonize", "no",
                "--maxclients", "10000",
                "--logfile", "",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_PREEXEC,
        )
        log.close()
        self.starts += 1
        client = self.client(socket_timeout=1)

        def answers():
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.process.returncode}:\n{tail(self.log_path)}")
            try:
                return client.ping()
            except (redis_py.ConnectionError, redis_py.TimeoutError, redis_py.BusyLoadingError):
                return False

        wait_until(answers, REDIS_START_TIMEOUT, f"redis-server on port {self.port}")
        client.close()

    def crash(self):
        """SIGKILL: no chance to flush anything beyond what `appendfsync always` already did."""
        self._stop(signal.SIGKILL)

    def shutdown(self):
        """SIGTERM: Redis' graceful SHUTDOWN (flushes and fsyncs the AOF, then exits 0)."""
        self._stop(signal.SIGTERM)

    def _stop(self, sig):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def client(self, **kwargs) -> redis_py.Redis:
        kwargs.setdefault("socket_timeout", 10)
        return redis_py.Redis(host="127.0.0.1", port=self.port, decode_responses=True, **kwargs)


# ---------------------------------------------------------------------------------------------
# Worker processes


class WorkerProcess:
    """One `voiceflow-jobs worker` process."""

    def __init__(self, harness: "JobsHarness", number: int, queues: list[str], concurrency: int, env: dict):
        self.number = number
        self.queues = queues
        self.concurrency = concurrency
        self.port = free_port()
        self.log_path = harness.directory / f"worker-{number}.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(harness.binary), "worker", "--queues", ",".join(queues), "--concurrency", str(concurrency)],
            cwd=harness.directory,
            env=dict(env, PORT=str(self.port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_PREEXEC,
        )
        log.close()
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = WORKER_READY_TIMEOUT, may_exit: bool = False):
        """Polls /ready until it answers 200. A worker that exits first fails the test, unless
        `may_exit` (it may have taken the poison job already): then this returns None."""

        def ready():
            if not self.alive():
                if may_exit:
                    return "exited"
                raise AssertionError(
                    f"worker {self.number} (pid {self.pid}) exited with {self.process.returncode} before it was "
                    f"ready:\n{tail(self.log_path)}"
                )
            try:
                return requests.get(f"http://127.0.0.1:{self.port}/ready", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        outcome = wait_until(ready, timeout, f"/ready of worker {self.number} (port {self.port})", interval=0.1)
        return None if outcome == "exited" else self

    def signal(self, sig):
        if self.alive():
            self.process.send_signal(sig)

    def kill(self) -> int:
        """SIGKILL and reap; returns the exit status."""
        self.signal(signal.SIGKILL)
        return self.process.wait(timeout=15)

    def describe(self) -> str:
        status = "running" if self.alive() else f"exited {self.process.returncode}"
        return f"worker {self.number} pid {self.pid} port {self.port} ({status})"


class JobsHarness:
    """A private Redis plus the workers and CLI calls of one test."""

    def __init__(self, binary: Path, directory: Path):
        self.binary = binary
        self.directory = directory
        self.redis_server = RedisServer(directory / "redis", free_port())
        self.workers: list[WorkerProcess] = []
        self._redis: redis_py.Redis | None = None

    # -- Redis ----------------------------------------------------------------------------------

    @property
    def redis(self) -> redis_py.Redis:
        """A redis-py client on the private server (reconnects by itself after a restart)."""
        if self._redis is None:
            self._redis = self.redis_server.client()
        return self._redis

    def env(self, **overrides) -> dict:
        # The caller's environment minus whatever could redirect or reconfigure the worker.
        base = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PORT", "HOST", "APP_ENV", "NODE_ENV")
            and not key.startswith(("JOBS_", "REDIS_", "LOG_", "RATE_LIMITS_", "BACKUP_"))
        }
        base.update(
            HOST="127.0.0.1",
            REDIS_URL=self.redis_server.url,
            DATABASE_URL=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            APP_ENV="test",
            LOG_LEVEL="warning",
            RATE_LIMITS_ENABLED="false",
            JOBS_SCHEDULER="false",
            JOBS_TEST_JOBS="true",
            JOBS_KEEP_COMPLETED="100000",
            JOBS_KEEP_FAILED="100000",
        )
        base.update({key: str(value) for key, value in overrides.items()})
        return base

    # -- Workers --------------------------------------------------------------------------------

    def start_worker(
        self,
        queue: str,
        concurrency: int = 4,
        ready: bool = True,
        also: tuple[str, ...] = (),
        may_exit: bool = False,
        **env,
    ) -> WorkerProcess:
        """Starts a worker of `queue` (then of the queues in `also`) and, by default, waits until its
        /ready answers 200 (`may_exit`: or it exits). `env` overrides worker settings
        (JOBS_LOCK_SECONDS=2, ...).

        /ready runs its canary `noop` job on the worker's first queue, the queue under test: canary
        jobs have ids `canary-<uuid>` and are deleted once seen completed; QueueState tells them
        apart from the test's jobs (numeric ids). The queue under test is the only queue by
        default; `also` adds more (test_idle_queue.py: an idle one must not slow a busy one).
        """
        worker = WorkerProcess(self, len(self.workers) + 1, [queue, *also], concurrency, self.env(**env))
        self.workers.append(worker)
        if ready:
            worker.wait_ready(may_exit=may_exit)
        return worker

    def live_workers(self) -> list[WorkerProcess]:
        return [worker for worker in self.workers if worker.alive()]

    # -- CLI ------------------------------------------------------------------------------------

    def cli(self, *arguments: str, timeout: float = 60):
        """Runs an operator subcommand against the private Redis; returns its JSON output."""
        result = subprocess.run(
            [str(self.binary), *arguments],
            cwd=self.directory,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_PREEXEC,
        )
        assert result.returncode == 0, f"voiceflow-jobs {' '.join(arguments)} exited {result.returncode}:\n{result.stderr}"
        return json.loads(result.stdout)

    def enqueue(self, queue: str, name: str, data: dict, count: int = 1, **options) -> int:
        arguments = ["enqueue", queue, name, json.dumps(data), "--count", str(count)]
        for key, value in options.items():
            arguments += [f"--{key.replace('_', '-')}", str(value)]
        return self.cli(*arguments)["enqueued"]

    def stats(self, queue: str) -> dict:
        return self.cli("stats", "--queue", queue)[queue]

    # -- Teardown and diagnostics ---------------------------------------------------------------

    def diagnostics(self) -> str:
        parts = [f"temp dir: {self.directory}"]
        for worker in self.workers:
            parts.append(f"--- {worker.describe()}, log {worker.log_path} (tail) ---\n{tail(worker.log_path, 40)}")
        parts.append(
            f"--- redis-server port {self.redis_server.port}, started {self.redis_server.starts}x, "
            f"log {self.redis_server.log_path} (tail) ---\n{tail(self.redis_server.log_path, 30)}"
        )
        return "\n".join(parts)

    def close(self):
        for worker in self.workers:
            try:
                worker.kill()
            except Exception:  # noqa: BLE001 - teardown must reach every process
                pass
        if self._redis is not None:
            self._redis.close()
        self.redis_server.crash()


# ---------------------------------------------------------------------------------------------
# Reading a queue's state from Redis (key layout of libs/JobQueue/JobScripts.swift)


class QueueState:
    """Reads `jq:{<queue>}:...` directly. The counts include the readiness canaries that happen to
    be there (ids `canary-<uuid>`, see JobsHarness.start_worker); `members` tells them apart."""

    def __init__(self, client: redis_py.Redis, queue: str):
        self.client = client
        self.queue = queue
        self.prefix = f"jq:{{{queue}}}:"

    def key(self, suffix: str) -> str:
        return self.prefix + suffix

    def counts(self) -> dict:
        pipe = self.client.pipeline(transaction=False)
        pipe.llen(self.key("wait"))
        pipe.zcard(self.key("prioritized"))
        pipe.llen(self.key("active"))
        pipe.zcard(self.key("delayed"))
        pipe.zcard(self.key("completed"))
        pipe.zcard(self.key("failed"))
        wait, prioritized, active, delayed, completed, failed = pipe.execute()
        return {
            "waiting": wait + prioritized,
            "active": active,
            "delayed": delayed,
            "completed": completed,
            "failed": failed,
        }

    def members(self, zset: str) -> tuple[set[str], set[str]]:
        """(test job ids, canary ids) of the sorted set `completed`, `failed`, `delayed`, ..."""
        members = set(self.client.zrange(self.key(zset), 0, -1))
        canaries = {member for member in members if member.startswith("canary-")}
        return members - canaries, canaries

    def counts_or_none(self):
        """Counts, or None while Redis is unreachable (during a restart)."""
        try:
            return self.counts()
        except (redis_py.ConnectionError, redis_py.TimeoutError, redis_py.BusyLoadingError):
            return None

    def last_id(self) -> int:
        return int(self.client.get(self.key("id")) or 0)

    def active_ids(self) -> list[str]:
        return self.client.lrange(self.key("active"), 0, -1)

    def lock_keys(self) -> list[str]:
        return sorted(self.client.scan_iter(match=self.key("lock:*"), count=1000))

    def jobs(self, ids, fields=("state", "attemptsStarted", "attemptsMade", "stalled", "failedReason", "name")):
        """{id: {field: value}} for `ids` (missing hashes give all-None fields)."""
        pipe = self.client.pipeline(transaction=False)
        ids = [str(job_id) for job_id in ids]
        for job_id in ids:
            pipe.hmget(self.key(f"job:{job_id}"), list(fields))
        return {job_id: dict(zip(fields, values)) for job_id, values in zip(ids, pipe.execute())}

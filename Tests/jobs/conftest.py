"""Process-level harness for the job-queue fault tests (Tests/jobs).

Every test gets its own `redis-server` (a free loopback port, a fresh data dir under the test's
temp dir) and starts real `voiceflow-jobs` worker processes against it. Workers get a unique free
HTTP port each and count as started once `GET /ready` answers 200 (which runs a canary `noop` job
through the worker). Worker and Redis output goes to log files in the test's temp dir; when a test
fails, their tails are attached to the failure report. Every process the harness started is killed
at teardown, whatever the outcome (and, on Linux, also if pytest itself dies: PR_SET_PDEATHSIG).

The binary is `voiceflow-jobs` from $VOICEFLOW_BIN_DIR (default: `swift build --show-bin-path`). It
is copied once per session into a temp dir, so a rebuild in the working tree during the run cannot
swap the executable under the tests. Postgres comes from $DATABASE_URL (the worker runs migrations at
start and checks Postgres in /ready); Redis is always private to the test, because tests kill and
restart it.

Figures the tests measure (throughput, kills, double runs) are printed in a summary section at the
end of the run, also with `-q`.

Files: jobs_support.py (the harness: RedisServer, WorkerProcess, JobsHarness, QueueState),
test_worker_faults.py (kills, Redis restarts, the poison job, the SIGTERM drain) and
test_queue_bugs.py (known bugs, pinned by strict xfail tests).
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from jobs_support import BINARY_NAME, FIGURES, JobsHarness, bin_dir


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("job queue under fire: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def jobs_binary(tmp_path_factory) -> Path:
    source = bin_dir() / BINARY_NAME
    if not source.is_file():
        pytest.fail(f"{source} does not exist: build it first (swift build)", pytrace=False)
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not on PATH (Debian package redis-server)", pytrace=False)
    copy = tmp_path_factory.mktemp("bin") / BINARY_NAME
    shutil.copy2(source, copy)
    return copy


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Attaches the logs of the failing test's processes to its report (before teardown kills them)."""
    report = yield
    harness = getattr(item, "funcargs", {}).get("jobs")
    if report.failed and isinstance(harness, JobsHarness):
        report.sections.append(("worker and redis logs", harness.diagnostics()))
    return report


@pytest.fixture
def jobs(jobs_binary, tmp_path):
    """A JobsHarness with its redis-server running; everything it started is killed afterwards."""
    harness = JobsHarness(jobs_binary, tmp_path)
    try:
        harness.redis_server.start()
        yield harness
    finally:
        harness.close()


@pytest.fixture
def queue_name() -> str:
    return f"fire-{uuid.uuid4().hex[:8]}"



"""Regression tests of queue bugs found under load.

An idle queue's worker waits for work with a blocking BLPOP. It once sent it through the worker's
shared, pipelining connection pool, so state moves (take, finish, lock renewal) queued behind it
on the same connection waited up to a second: throughput collapsed, and with a short lock healthy
workers lost their locks, so jobs ran twice or reached the dead set. The wait now has a connection
of its own.
"""
from __future__ import annotations

import time


from jobs_support import QueueState, report_figure, wait_for_all_finished


def test_an_idle_queue_does_not_stall_a_busy_one(jobs, queue_name):
    """Two healthy workers (concurrency 4) of a busy queue plus an idle one, as the default
    `JOBS_QUEUES` has it, with a 1 s lock. No fault is injected: every job must run exactly once and
    none may reach the dead set. (The duration is printed, not asserted.)"""
    total = 300
    state = QueueState(jobs.redis, queue_name)
    settings = dict(JOBS_LOCK_SECONDS=1, JOBS_STALLED_CHECK_SECONDS=1, JOBS_MAX_STALLED=1)
    for _ in range(2):
        jobs.start_worker(queue_name, 4, also=(f"{queue_name}-idle",), **settings)

    started = time.monotonic()
    assert jobs.enqueue(queue_name, "noop", {"ms": 5}, count=total) == total
    counts = wait_for_all_finished(state, total, timeout=60)
    duration = time.monotonic() - started

    records = state.jobs(range(1, total + 1))
    double_runs = sum(int(fields["attemptsStarted"]) for fields in records.values()) - total
    stalled = sum(1 for fields in records.values() if fields["stalled"] != "0")
    dead, _ = state.members("failed")
    report_figure(
        f"idle queue beside a busy one: {total} jobs in {duration:.1f} s ({total / duration:.0f} jobs/s) with no fault; "
        f"{stalled} jobs stalled on healthy workers, {double_runs} double runs, {len(dead)} in the dead set"
    )
    assert counts["failed"] == 0 and not dead, f"healthy jobs in the dead set: {sorted(dead, key=int)}"
    assert double_runs == 0, f"{double_runs} jobs ran twice without any fault"

"""The job queue under fire: real redis-server, real `voiceflow-jobs worker` processes.

- SIGKILLed workers (replaced as they die) lose no job, leave no lock and re-run only what they held.
- Redis crashed and restarted (same port, same AOF) mid-run: the same workers, never restarted,
  reconnect and finish everything.
- A poison job (`crash` exits the worker process) ends in the dead set after JOBS_MAX_STALLED
  stalls; every normal job still completes.
- SIGTERM drains: running jobs finish and are recorded once, waiting ones are not taken.

Synchronisation is always by polling a condition with a deadline. The only sleeps that are not
polls are the fault schedule itself (kill every 1-2 s, Redis down for a moment).
"""
from __future__ import annotations

import os
import random
import signal
import time

from jobs_support import QueueState, report_figure, wait_for_all_finished, wait_until

# Short lock and sweep so dead workers' jobs come back within ~3 s.
FAST_RECOVERY = dict(JOBS_LOCK_SECONDS=2, JOBS_STALLED_CHECK_SECONDS=1, JOBS_MAX_STALLED=5)


def assert_every_job_completed(jobs, state: QueueState, total: int) -> int:
    """The queue's end state after a run of `total` jobs (ids 1...total); returns the double runs
    (tries started beyond one per job)."""
    completed, completed_canaries = state.members("completed")
    counts = state.counts()
    assert counts == {
        "waiting": 0,
        "active": 0,
        "delayed": 0,
        "completed": total + len(completed_canaries),
        "failed": 0,
    }, "jobs are not all completed (the dead set must be empty)"
    stats = jobs.stats(state.queue)
    assert {key: stats[key] for key in counts} == counts, "the stats command disagrees with Redis"
    # Every job completed once; the canaries (deleted once seen) count in the lifetime totals too.
    assert stats["totalCompleted"] >= total and stats["totalFailed"] == 0, stats
    assert state.last_id() == total, "job ids were handed out beyond the enqueued jobs"
    expected = {str(job_id) for job_id in range(1, total + 1)}
    assert completed == expected, f"not in the completed set: {sorted(expected - completed, key=int)[:20]}"
    records = state.jobs(sorted(expected, key=int))
    wrong = {job_id: fields for job_id, fields in records.items() if fields["state"] != "completed"}
    assert not wrong, f"{len(wrong)} job hashes are not `completed`, e.g. {list(wrong.items())[:5]}"
    # Each job's completion was recorded exactly once (attemptsMade counts recorded finishes).
    assert {fields["attemptsMade"] for fields in records.values()} == {"1"}
    assert state.active_ids() == [], "jobs left in active"
    assert state.lock_keys() == [], "locks left behind"
    return sum(int(fields["attemptsStarted"]) for fields in records.values()) - total


# ---------------------------------------------------------------------------------------------


TOTAL = 10_000
WORKERS = 4
CONCURRENCY = 4
# A few ms per job: the run lasts long enough for several kills (~800 jobs/s on 16 slots).
JOB = {"ms": 10}


def test_sigkilled_workers_lose_no_job(jobs, queue_name):
    """A random worker is SIGKILLed every 1-2 s and replaced, while 10,000 jobs run."""
    state = QueueState(jobs.redis, queue_name)
    seed = int(os.environ.get("JOBS_FIRE_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    for _ in range(WORKERS):
        jobs.start_worker(queue_name, CONCURRENCY, **FAST_RECOVERY)

    started = time.monotonic()
    assert jobs.enqueue(queue_name, "noop", JOB, count=TOTAL) == TOTAL
    killed = []
    next_kill = time.monotonic() + rng.uniform(1, 2)

    def chaos(counts):
        nonlocal next_kill
        if time.monotonic() < next_kill or counts is None:
            return
        if counts["completed"] + counts["failed"] >= TOTAL:
            return  # no job remains: stop killing
        victim = rng.choice(jobs.live_workers())
        assert victim.kill() == -signal.SIGKILL
        killed.append(victim)
        jobs.start_worker(queue_name, CONCURRENCY, **FAST_RECOVERY)
        next_kill = time.monotonic() + rng.uniform(1, 2)

    wait_for_all_finished(state, TOTAL, timeout=170, on_tick=chaos)
    duration = time.monotonic() - started

    double_runs = assert_every_job_completed(jobs, state, TOTAL)
    survivors = [worker for worker in jobs.workers if worker not in killed]
    assert len(survivors) == WORKERS and all(worker.alive() for worker in survivors), [
        worker.describe() for worker in survivors
    ]
    report_figure(
        f"kill test: {TOTAL} jobs in {duration:.1f} s ({TOTAL / duration:.0f} jobs/s), {len(killed)} workers "
        f"SIGKILLed, {double_runs} double runs (bound {len(killed) * CONCURRENCY}), seed {seed}"
    )
    assert len(killed) >= 1, "the run ended before the first kill: the test proved nothing"
    assert double_runs <= len(killed) * CONCURRENCY


def test_workers_recover_from_redis_restarts(jobs, queue_name):
    """Redis is crashed (SIGKILL) and later stopped gracefully (SIGTERM), each time restarted on the
    same port and AOF, while jobs remain; the same worker processes finish everything."""
    state = QueueState(jobs.redis, queue_name)
    workers = [jobs.start_worker(queue_name, CONCURRENCY, **FAST_RECOVERY) for _ in range(WORKERS)]
    pids = [worker.pid for worker in workers]

    started = time.monotonic()
    assert jobs.enqueue(queue_name, "noop", JOB, count=TOTAL) == TOTAL
    restarts = []
    plan = [(0.2, "crash"), (0.55, "shutdown")]  # (fraction finished, how Redis goes down)

    def chaos(counts):
        if not plan or counts is None:
            return
        threshold, how = plan[0]
        finished = counts["completed"] + counts["failed"]
        if finished < threshold * TOTAL:
            return
        assert finished < TOTAL, "the jobs ran out before Redis went down: the test proved nothing"
        plan.pop(0)
        before = state.counts()
        completed_before, _ = state.members("completed")
        getattr(jobs.redis_server, how)()
        went_down = time.monotonic()
        # Redis stays down for a moment: workers see refused connections and back off.
        time.sleep(1.0)
        jobs.redis_server.start()
        after = state.counts()
        # Nothing acknowledged is lost (AOF, appendfsync always): every job read as completed
        # before Redis went down is still completed.
        completed_after, _ = state.members("completed")
        lost = completed_before - completed_after
        assert not lost, f"completed jobs lost by the Redis {how}: {sorted(lost, key=int)[:20]}"
        assert after["completed"] + after["failed"] < TOTAL, (how, after)
        # Recovered: jobs get done again (by the same processes), within a deadline.
        wait_until(
            lambda: state.counts()["completed"] > after["completed"], 30, f"progress after the Redis {how}"
        )
        restarts.append((how, before, after, time.monotonic() - went_down))

    wait_for_all_finished(state, TOTAL, timeout=170, on_tick=chaos)
    duration = time.monotonic() - started

    assert not plan, f"Redis restarts not done: {plan}"
    double_runs = assert_every_job_completed(jobs, state, TOTAL)
    assert [worker.pid for worker in jobs.workers] == pids, "workers were restarted"
    assert all(worker.alive() for worker in workers), [worker.describe() for worker in workers]
    # Every process recovered by itself, not just enough of them to finish the run: each one alone
    # (the others SIGSTOPped) runs a few more jobs, then answers /ready.
    for worker in workers:
        assert_runs_jobs_alone(jobs, state, worker, workers)
    for worker in workers:
        worker.wait_ready(timeout=30)
    recoveries = ", ".join(f"{how}: jobs again after {seconds:.1f} s" for how, _, _, seconds in restarts)
    report_figure(
        f"Redis restart test: {TOTAL} jobs in {duration:.1f} s, {len(restarts)} Redis restarts ({recoveries}), "
        f"{double_runs} double runs (bound {len(restarts) * WORKERS * CONCURRENCY}), the same {WORKERS} "
        f"worker processes throughout"
    )
    # A restart can cost at most the jobs in flight at that moment: those of every worker.
    assert double_runs <= len(restarts) * WORKERS * CONCURRENCY


def assert_runs_jobs_alone(jobs, state: QueueState, worker, workers, count: int = 5):
    """`worker` alone (every other one SIGSTOPped meanwhile) completes `count` new jobs.

    A stopped worker may still have a `take` in its socket that Redis runs after the stop (its
    commands queue behind its BLPOP): such a job stalls and comes back after its lock expires, so
    the check is that the jobs get completed, which only `worker` can do."""
    others = [other for other in workers if other is not worker]
    first = state.last_id() + 1
    for other in others:
        other.signal(signal.SIGSTOP)
    try:
        assert jobs.enqueue(state.queue, "noop", {"ms": 1}, count=count) == count
        ids = range(first, first + count)
        wait_until(
            lambda: {fields["state"] for fields in state.jobs(ids).values()} == {"completed"},
            30,
            f"{count} jobs done by {worker.describe()} alone",
        )
    finally:
        for other in others:
            other.signal(signal.SIGCONT)


def test_poison_job_ends_in_dead_set(jobs, queue_name):
    """`crash` exits the worker that takes it. Dead workers are replaced; after JOBS_MAX_STALLED
    stalls the job goes to the dead set, and every normal job completes, once."""
    max_stalled = 2
    # Concurrency 1: a crash takes down only the poison job. (With more, the jobs running beside it
    # stall with it, are re-queued at the front with it, and can share its fate: the dead set.)
    # A 3 s lock: longer than the ~1 s a command can wait behind the worker's BLPOP (see
    # test_queue_bugs.py), so no healthy job stalls.
    settings = dict(JOBS_LOCK_SECONDS=3, JOBS_STALLED_CHECK_SECONDS=1, JOBS_MAX_STALLED=max_stalled)
    for _ in range(4):
        jobs.start_worker(queue_name, 1, **settings)
    half = 20
    assert jobs.enqueue(queue_name, "noop", {"ms": 5}, count=half) == half
    assert jobs.enqueue(queue_name, "crash", {}) == 1
    poison_id = str(half + 1)
    assert jobs.enqueue(queue_name, "noop", {"ms": 5}, count=half) == half
    state = QueueState(jobs.redis, queue_name)
    assert state.jobs([poison_id])[poison_id]["name"] == "crash"

    deaths = []

    def replace_dead_workers(_):
        for worker in list(jobs.workers):
            if not worker.alive() and worker not in deaths:
                deaths.append(worker)
                # The newcomer may take the poison job before its /ready answers: it then dies too,
                # and is replaced on the next tick.
                jobs.start_worker(queue_name, 1, may_exit=True, **settings)

    started = time.monotonic()
    wait_for_all_finished(state, 2 * half + 1, timeout=90, on_tick=replace_dead_workers)
    duration = time.monotonic() - started
    replace_dead_workers(None)

    poison = state.jobs([poison_id])[poison_id]
    assert poison["state"] == "failed", poison
    assert poison["failedReason"] == "job stalled too many times", poison
    assert int(poison["stalled"]) == max_stalled + 1, poison
    assert int(poison["attemptsStarted"]) == max_stalled + 1, poison
    assert [worker.process.returncode for worker in deaths] == [70] * (max_stalled + 1)
    failed, _ = state.members("failed")
    assert failed == {poison_id}
    listed = jobs.cli("failed", "--queue", queue_name)
    assert [(job["id"], job["name"], job["reason"]) for job in listed] == [
        (poison_id, "crash", "job stalled too many times")
    ]

    normal_ids = [str(job_id) for job_id in range(1, 2 * half + 2) if str(job_id) != poison_id]
    completed, canaries = state.members("completed")
    assert completed == set(normal_ids)
    records = state.jobs(normal_ids)
    assert {fields["state"] for fields in records.values()} == {"completed"}
    assert {fields["attemptsStarted"] for fields in records.values()} == {"1"}, "a normal job ran twice"
    assert state.counts() == {
        "waiting": 0, "active": 0, "delayed": 0, "completed": 2 * half + len(canaries), "failed": 1
    }
    assert state.active_ids() == []
    assert state.lock_keys() == []
    report_figure(
        f"poison job: in the dead set after {len(deaths)} worker crashes (exit 70) in {duration:.1f} s; "
        f"{2 * half} normal jobs completed, each run once"
    )


def test_sigterm_drains_running_jobs(jobs, queue_name):
    """SIGTERM while 4 long jobs run: they finish and are recorded once; the rest stay waiting."""
    state = QueueState(jobs.redis, queue_name)
    # The jobs (4 s) outlive their lock (3 s, renewed every 1.5 s): the drain must keep renewing.
    # (3 s rather than 1 s: a renewal can wait ~1 s behind the worker's BLPOP, see test_queue_bugs.py.)
    worker = jobs.start_worker(queue_name, 4, JOBS_LOCK_SECONDS=3, JOBS_STALLED_CHECK_SECONDS=1)
    assert jobs.enqueue(queue_name, "noop", {"ms": 4000}, count=10) == 10

    wait_until(lambda: state.counts()["active"] == 4, 15, "4 active jobs")
    running = sorted(state.active_ids(), key=int)
    signalled = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0, "the worker did not exit 0 after SIGTERM"
    drain = time.monotonic() - signalled

    assert len(running) == 4
    records = state.jobs(range(1, 11))
    for job_id in running:
        fields = records[job_id]
        assert fields["state"] == "completed", (job_id, fields)
        assert (fields["attemptsStarted"], fields["attemptsMade"], fields["stalled"]) == ("1", "1", "0"), (
            job_id, fields
        )
    waiting = [job_id for job_id in records if job_id not in running]
    for job_id in waiting:
        assert records[job_id]["state"] == "waiting", (job_id, records[job_id])
        assert records[job_id]["attemptsStarted"] == "0", (job_id, records[job_id])
    _, canaries = state.members("completed")
    assert state.counts() == {"waiting": 6, "active": 0, "delayed": 0, "completed": 4 + len(canaries), "failed": 0}
    assert state.lock_keys() == []

    # The jobs left behind are intact: a new worker runs each of them exactly once.
    jobs.start_worker(queue_name, 6)
    wait_for_all_finished(state, 10, timeout=30)
    records = state.jobs(range(1, 11))
    assert {fields["state"] for fields in records.values()} == {"completed"}
    assert {fields["attemptsStarted"] for fields in records.values()} == {"1"}
    report_figure(f"SIGTERM drain: the worker exited 0 {drain:.2f} s after the signal, 4 jobs of 4 s finished")

"""The operator's subcommands of voiceflow-jobs, against a running worker: pause/resume, the global
rate limit, the dead set (failed, retry, clean) and the events stream.

"Nothing was taken" is shown without sleeping: the same worker also serves a probe queue, and a
probe job that completes after the fact proves the worker was alive and taking jobs meanwhile.
"""
from __future__ import annotations

import json
import subprocess

from jobs_support import QueueState, wait_until


def probe(jobs, probe_queue: str, state: QueueState):
    """Runs one noop job on the probe queue and waits for it: the worker took jobs since now."""
    before = state.counts()["completed"]
    jobs.enqueue(probe_queue, "noop", {})
    wait_until(lambda: state.counts()["completed"] > before, 30, "the probe job")


def test_pause_holds_jobs_and_resume_releases_them(jobs, queue_name):
    probe_queue = queue_name + "-probe"
    jobs.start_worker(queue_name, 2, also=(probe_queue,))
    state, probes = QueueState(jobs.redis, queue_name), QueueState(jobs.redis, probe_queue)

    assert jobs.cli("pause", "--queue", queue_name) == {"paused": queue_name}
    jobs.enqueue(queue_name, "noop", {}, count=5)
    probe(jobs, probe_queue, probes)
    assert jobs.stats(queue_name)["waiting"] == 5

    assert jobs.cli("resume", "--queue", queue_name) == {"resumed": queue_name}
    wait_until(lambda: len(state.members("completed")[0]) == 5, 30, "the held jobs to run after resume")


def test_the_rate_limit_holds_jobs_over_it_until_lifted(jobs, queue_name):
    probe_queue = queue_name + "-probe"
    jobs.start_worker(queue_name, 4, also=(probe_queue,))
    state, probes = QueueState(jobs.redis, queue_name), QueueState(jobs.redis, probe_queue)

    shown = jobs.cli("rate-limit", "--queue", queue_name, "--max", "2", "--per-ms", "600000")
    assert shown == {"queue": queue_name, "max": 2, "perMs": 600000}
    jobs.enqueue(queue_name, "noop", {}, count=5)
    wait_until(lambda: len(state.members("completed")[0]) == 2, 30, "the two jobs the limit allows")
    probe(jobs, probe_queue, probes)
    counts = jobs.stats(queue_name)
    assert counts["waiting"] == 3 and counts["failed"] == 0, counts

    assert jobs.cli("rate-limit", "--queue", queue_name, "--off") == {"queue": queue_name}
    wait_until(lambda: len(state.members("completed")[0]) == 5, 30, "the rest once the limit is off")


def test_dead_jobs_are_listed_retried_and_cleaned(jobs, queue_name):
    jobs.start_worker(queue_name, 2)
    state = QueueState(jobs.redis, queue_name)
    jobs.enqueue(queue_name, "no-such-job", {"x": 1})
    wait_until(lambda: len(state.members("failed")[0]) == 1, 30, "the job without a handler to be dead")

    [dead] = jobs.cli("failed", "--queue", queue_name)
    assert dead["name"] == "no-such-job" and "no handler" in dead["reason"], dead
    assert jobs.cli("retry", "--queue", queue_name, "--id", dead["id"]) == {"retried": 1}
    # Still no handler: it is tried again (a fresh attempt) and dies again.
    wait_until(lambda: state.jobs([dead["id"]])[dead["id"]]["attemptsStarted"] == "2", 30, "the retried job to run")
    wait_until(lambda: len(state.members("failed")[0]) == 1, 30, "the retried job to be dead again")

    assert jobs.cli("clean", "--queue", queue_name, "--state", "failed") == {"deleted": 1}
    assert jobs.cli("failed", "--queue", queue_name) == []
    assert state.jobs([dead["id"]])[dead["id"]]["state"] is None


def test_events_show_every_state_move_in_order(jobs, queue_name):
    jobs.start_worker(queue_name, 1)
    state = QueueState(jobs.redis, queue_name)
    jobs.enqueue(queue_name, "noop", {}, count=3)
    wait_until(lambda: len(state.members("completed")[0]) == 3, 30, "the jobs to complete")

    result = subprocess.run(
        [str(jobs.binary), "events", "--queue", queue_name, "--limit", "1000"],
        env=jobs.env(), capture_output=True, text=True, timeout=60, check=True)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [event for event in events if not event["jobId"].startswith("canary-")]
    for job_id in ("1", "2", "3"):
        assert [e["event"] for e in mine if e["jobId"] == job_id] == ["waiting", "active", "completed"], mine
    ids = [event["id"] for event in events]
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split("-")))

"""What `voiceflow-jobs stats` and the worker's /metrics report.

`completed` and `failed` in stats are the finished jobs the queue keeps (JOBS_KEEP_COMPLETED /
JOBS_KEEP_FAILED); the lifetime totals (`processed`, `totalCompleted`, `totalFailed`,
`totalRetried`) count every finish. /metrics exports queue depth per state, the lifetime totals, the
tries this process ended and how long they ran.
"""
from __future__ import annotations

import re

import requests

from jobs_support import QueueState, wait_until


def metric(text: str, metric_name: str, **labels) -> float | None:
    for line in text.splitlines():
        if not line.startswith(metric_name + "{") and not line.startswith(metric_name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_stats_report_lifetime_totals_beside_what_is_kept(jobs, queue_name):
    worker = jobs.start_worker(queue_name, 4, JOBS_KEEP_COMPLETED=5, JOBS_KEEP_FAILED=2, JOBS_METRICS_SECONDS=1)
    state = QueueState(jobs.redis, queue_name)
    jobs.enqueue(queue_name, "noop", {}, count=30)
    jobs.enqueue(queue_name, "no-such-handler", {}, count=3)
    # The canary of /ready also completes on this queue; count the test's own jobs by the totals.
    wait_until(lambda: jobs.stats(queue_name)["totalFailed"] == 3 and jobs.stats(queue_name)["totalCompleted"] >= 30,
               60, "every job to finish")
    stats = jobs.stats(queue_name)
    assert stats["completed"] <= 5, stats  # what the queue keeps
    assert stats["failed"] == 2, stats
    assert stats["totalFailed"] == 3, stats
    assert stats["processed"] == stats["totalCompleted"] + stats["totalFailed"], stats
    assert stats["totalCompleted"] >= 30, stats
    assert state.counts()["waiting"] == 0

    url = f"http://127.0.0.1:{worker.port}/metrics"

    def exported():
        text = requests.get(url, timeout=5).text
        finished = metric(text, "jobs_queue_finished", queue=queue_name, outcome="failed")
        return text if finished == 3 else None

    text = wait_until(exported, 30, "the queue gauges on /metrics")
    assert metric(text, "jobs_queue_jobs", queue=queue_name, state="waiting") == 0
    assert metric(text, "jobs_queue_jobs", queue=queue_name, state="failed") == 2
    assert metric(text, "jobs_queue_finished", queue=queue_name, outcome="completed") >= 30
    assert metric(text, "jobs_processed_total", queue=queue_name, outcome="completed") >= 30
    assert metric(text, "jobs_processed_total", queue=queue_name, outcome="failed") == 3
    assert metric(text, "jobs_duration_seconds_count", queue=queue_name, name="noop") >= 30
    assert metric(text, "jobs_duration_seconds_count", queue=queue_name, name="unregistered") == 3

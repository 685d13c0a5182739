"""A worker that cannot start must not take jobs first.

A second `voiceflow-jobs worker` on a host whose jobs port is taken (another worker's) used to take
jobs while it started, then die on `bind(): Address already in use`, leaving its jobs `active` until
the stalled sweep. Now the workers wait for the HTTP port: the process exits having taken nothing,
and says which port and which variable to change.
"""
from __future__ import annotations

import socket
import subprocess

from jobs_support import _PREEXEC, QueueState, tail


def test_a_worker_whose_port_is_taken_exits_before_taking_any_job(jobs, queue_name):
    state = QueueState(jobs.redis, queue_name)
    assert jobs.enqueue(queue_name, "noop", {"ms": 50}, count=200) == 200

    # The port another worker on this host already listens on.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(16)
    port = holder.getsockname()[1]
    log_path = jobs.directory / "second-worker.log"
    try:
        with open(log_path, "wb") as log:
            worker = subprocess.Popen(
                [str(jobs.binary), "worker", "--queues", queue_name, "--concurrency", "8"],
                cwd=jobs.directory,
                env=jobs.env(PORT=port),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_PREEXEC,
            )
        status = worker.wait(timeout=120)
    finally:
        holder.close()
    output = tail(log_path, 200)

    assert status != 0, output
    assert f"127.0.0.1:{port}" in output and "already in use" in output, output
    assert "PORT" in output, output
    assert state.counts() == {"waiting": 200, "active": 0, "delayed": 0, "completed": 0, "failed": 0}
    events = jobs.redis.xrange(state.key("events"), "-", "+")
    assert [fields for _, fields in events if fields.get("event") != "waiting"] == []
    assert state.lock_keys() == []

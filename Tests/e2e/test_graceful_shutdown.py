"""A service process drains on SIGTERM: requests in flight finish, then it exits cleanly."""
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

BIN_DIR = os.environ.get("VOICEFLOW_BIN_DIR")
STATE_DIR = os.environ.get("VOICEFLOW_STATE_DIR")


def stack_env():
    values = {}
    with open(os.path.join(STATE_DIR, "run", "stack.env")) as env_file:
        for line in env_file:
            key, _, value = line.strip().partition("=")
            values[key] = value.strip("'")
    return values


def established_connections(port):
    """Established TCP connections whose local port is `port`, from /proc/net/tcp."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    if local_port == port and fields[3] == "01":
                        count += 1
        except FileNotFoundError:
            pass
    return count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(not BIN_DIR or not STATE_DIR, reason="needs the stack started by `make test`")
def test_sigterm_lets_in_flight_requests_finish(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        **{key: stack_env()[key] for key in ("DATABASE_URL", "REDIS_URL")},
        "PORT": str(port),
        "APP_ENV": "test",
        "BCRYPT_COST": "13",  # slow on purpose: the login below is still running when SIGTERM arrives
        "JWT_KEY_FILE": str(tmp_path / "key.pem"),
        "RATE_LIMITS_ENABLED": "false",
    }
    process = subprocess.Popen([os.path.join(BIN_DIR, "voiceflow-auth")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if requests.get(base + "/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.1)
        else:
            pytest.fail("auth did not become ready")

        email = f"drain.{uuid.uuid4().hex[:10]}@example.com"
        result = {}

        def login():
            result["response"] = requests.post(base + "/api/v1/auth/login", json={"email": email, "password": "whatever123"}, timeout=60)

        worker = threading.Thread(target=login)
        worker.start()
        # Wait until the request is being served (the server has accepted it), then ask to stop.
        for _ in range(500):
            if established_connections(port):
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        worker.join(timeout=60)
        assert result["response"].status_code == 401, result["response"].text
        assert process.wait(timeout=60) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(base + "/health", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

"""Starts the Socket.IO conformance server once per test session and hands its base URL to the tests.

The binary is `socketio-conformance-server` from $VOICEFLOW_BIN_DIR (default: the output of
`swift build --show-bin-path` in the repository root). It is started with PORT=<free loopback port>
and is ready once `GET /engine.io/?EIO=4&transport=polling` answers. With CONFORMANCE_URL set, that
server is used instead and nothing is started.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
BINARY_NAME = "socketio-conformance-server"
STARTUP_TIMEOUT = 60.0


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bin_dir() -> Path:
    configured = os.environ.get("VOICEFLOW_BIN_DIR")
    if configured:
        return Path(configured)
    result = subprocess.run(
        ["swift", "build", "--show-bin-path"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """Base URL (http://host:port, no trailing slash) of the server under test."""
    external = os.environ.get("CONFORMANCE_URL")
    if external:
        yield external.rstrip("/")
        return
    yield from run_server(tmp_path_factory)


def run_server(tmp_path_factory, **settings):
    """Starts one conformance server (with `settings` as extra environment variables), yields its
    base URL, and stops it."""
    binary = _bin_dir() / BINARY_NAME
    if not binary.is_file():
        pytest.fail(f"{binary} does not exist: build it first (swift build) or set CONFORMANCE_URL", pytrace=False)

    port = _free_loopback_port()
    log_path = tmp_path_factory.mktemp("conformance-server") / "server.log"
    log_file = open(log_path, "wb")
    env = dict(os.environ, PORT=str(port), **{key: str(value) for key, value in settings.items()})
    process = subprocess.Popen(
        [str(binary)],
        cwd=REPO_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"{BINARY_NAME} exited with {process.returncode} before it was ready; log:\n{_tail(log_path)}",
                    pytrace=False,
                )
            try:
                requests.get(f"{url}/engine.io/?EIO=4&transport=polling", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{BINARY_NAME} did not answer on {url} within {STARTUP_TIMEOUT:.0f} s; log:\n{_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.2)  # readiness polling of a process we started: there is no event to await
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log_file.close()


@pytest.fixture(scope="session")
def ws_url(server_url):
    """The same server with a ws:// scheme."""
    return "ws" + server_url[len("http"):]

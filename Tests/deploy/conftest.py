"""What the compose deployment's tests share: the deployment (docker-compose and podman, which
scripts/test-deploy.sh started), the REST API and Socket.IO clients through the compose edge over
HTTPS (trusting the run's own certificate, and only it).

Every wait is for a state to hold, polled until a deadline: containers starting, a health check
turning, a backup file appearing."""
import json
import os
import queue
import subprocess
import time
import uuid
from collections import defaultdict

import pytest
import requests
import socketio

PROJECT = os.environ.get("DEPLOY_PROJECT", "voiceflow-deploy-test")
ENV_FILE = os.environ.get("DEPLOY_ENV_FILE", "")
BASE_URL = os.environ.get("DEPLOY_BASE_URL", "https://127.0.0.1:28443")
HTTP_URL = os.environ.get("DEPLOY_HTTP_URL", "http://127.0.0.1:28080")
CA_FILE = os.environ.get("DEPLOY_CA_FILE", "")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How long a container may take to start and turn healthy (its health check runs every few seconds).
START_TIMEOUT = 240
EVENT_TIMEOUT = 20
SERVICES = ("auth", "rooms", "messages", "gateway", "signaling", "jobs", "web")


def wait_until(condition, timeout, what, interval=0.5):
    """Polls `condition` until it returns something truthy (returned), or fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = condition()
        except Exception as error:  # noqa: BLE001 - reported if the deadline passes
            value, last = None, error
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout}s" + (f" (last error: {last})" if last else ""))
        time.sleep(interval)


class Compose:
    """docker-compose on the deployment, and podman for what compose does not tell."""

    def run(self, *arguments, timeout=300, check=True):
        result = subprocess.run(
            ["docker-compose", "-p", PROJECT, "-f", os.path.join(ROOT, "deploy", "docker-compose.yml"), "--env-file", ENV_FILE, *arguments],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"docker-compose {' '.join(arguments)}: {result.stdout}\n{result.stderr}"
        return result

    def podman(self, *arguments, timeout=120):
        result = subprocess.run(["podman", *arguments], capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"podman {' '.join(arguments)}: {result.stderr}"
        return result.stdout

    def containers(self, service=None, running=True):
        """Names of the project's containers (of one service), sorted."""
        filters = ["--filter", f"label=com.docker.compose.project={PROJECT}"]
        if service:
            filters += ["--filter", f"label=com.docker.compose.service={service}"]
        out = self.podman("ps", *([] if running else ["-a"]), *filters, "--format", "{{.Names}}")
        return sorted(line for line in out.split() if line)

    def inspect(self, name):
        return json.loads(self.podman("inspect", name))[0]

    def health(self, name):
        state = self.inspect(name)["State"]
        health = state.get("Health") or state.get("Healthcheck") or {}
        return health.get("Status") or ("running" if state.get("Running") else state.get("Status"))

    def address(self, name):
        networks = self.inspect(name)["NetworkSettings"]["Networks"]
        return next(iter(networks.values()))["IPAddress"]

    def wait_healthy(self, services=SERVICES, counts=None, timeout=START_TIMEOUT):
        """Waits until every container of `services` is healthy (`counts`: how many of each)."""
        counts = counts or {}

        def healthy():
            unhealthy = []
            for service in services:
                names = self.containers(service)
                if len(names) < counts.get(service, 1):
                    unhealthy.append(f"{service}: {len(names)} running")
                unhealthy += [f"{name}: {self.health(name)}" for name in names if self.health(name) != "healthy"]
            healthy.last = unhealthy
            return not unhealthy

        healthy.last = []
        deadline = time.monotonic() + timeout
        while not healthy():
            if time.monotonic() > deadline:
                pytest.fail(f"not healthy within {timeout}s: {healthy.last}")
            time.sleep(1)


@pytest.fixture(scope="session")
def compose():
    deployment = Compose()
    deployment.wait_healthy(counts={"gateway": 3, "jobs": 2})
    return deployment


def http_session():
    """Trusts the deployment's certificate (CA_FILE), and not the environment's CA settings
    (REQUESTS_CA_BUNDLE would win over the session's own)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = CA_FILE or True
    return session


class Api:
    """The REST API through the compose edge."""

    def __init__(self):
        self.session = http_session()

    def request(self, method, path, json=None, token=None, timeout=30, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(method, BASE_URL + path, json=json, headers=headers, timeout=timeout, **kwargs)

    def register(self, prefix="deploy"):
        suffix = uuid.uuid4().hex[:10]
        user = {"username": f"{prefix}_{suffix}"[:20], "email": f"{prefix}.{suffix}@example.com", "password": f"compose pass {suffix}"}
        response = self.request("POST", "/api/v1/auth/register", json={**user, "confirmPassword": user["password"]})
        assert response.status_code == 201, response.text
        body = response.json()
        return {**user, "token": body["token"], "id": body["user"]["id"]}

    def login(self, user):
        response = self.request("POST", "/api/v1/auth/login", json={"email": user["email"], "password": user["password"]})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def room(self, owner, members=()):
        response = self.request("POST", "/api/v1/rooms", json={"name": f"Compose {uuid.uuid4().hex[:6]}"}, token=owner["token"])
        assert response.status_code == 201, response.text
        room = response.json()
        for member in members:
            joined = self.request("POST", f"/api/v1/rooms/{room['code']}/join", token=member["token"])
            assert joined.status_code == 200, joined.text
        return room

    def history(self, user, room):
        response = self.request("GET", f"/api/v1/rooms/{room['id']}/messages?limit=100", token=user["token"])
        assert response.status_code == 200, response.text
        return response.json()["data"]


@pytest.fixture(scope="session")
def api(compose):
    return Api()


class Peer:
    """One Socket.IO connection (python-socketio), through the edge or to one gateway container,
    with a queue per server event."""

    def __init__(self, name, token, url=BASE_URL):
        self.name, self.token, self.url = name, token, url
        self.sio = socketio.Client(reconnection=False, http_session=http_session())
        self.events = defaultdict(queue.Queue)
        self.sio.on("*", lambda event, *args: self.events[event].put(args[0] if len(args) == 1 else list(args)))

    def connect(self):
        self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=EVENT_TIMEOUT)
        return self

    def call(self, event, data=None, timeout=EVENT_TIMEOUT):
        return self.sio.call(event, data, timeout=timeout)

    def next(self, event, where=None, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = self.events[event].get(timeout=max(remaining, 0.001))
            except queue.Empty:
                pytest.fail(f"{self.name}: no {event!r} within {timeout}s")
            if where is None or where(item):
                return item

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass


@pytest.fixture
def peers():
    opened = []

    def open_peer(name, token, url=BASE_URL):
        peer = Peer(name, token, url).connect()
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the warnings and errors the containers logged so far (later
    tests restart containers, and their logs with them)."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    lines = []
    for name in Compose().containers(running=False):
        result = subprocess.run(["podman", "logs", name], capture_output=True, text=True, timeout=60)
        lines += [f"{name} | {line}" for line in (result.stdout + result.stderr).splitlines()
                  if '"level":"warning"' in line or '"level":"error"' in line or '"level":"critical"' in line]
    report.sections.append(("containers' warnings and errors", "\n".join(lines[-200:]) or "(none)"))
    report.sections.append(("gateways", "\n".join(gateway_states(Compose())) or "(none)"))


def gateway_states(compose):
    """Per gateway container: its state, restarts, start time, and what its /ready and /metrics say
    (which gateways a failed test's sockets reached, and whether the edge could route there)."""
    states = []
    for name in compose.containers("gateway", running=False):
        info = compose.inspect(name)
        line = f"{name}: {info['State']['Status']}, restarts {info.get('RestartCount')}, started {info['State']['StartedAt']}"
        try:
            address = compose.address(name)
            ready = requests.get(f"http://{address}:9101/ready", timeout=5)
            metrics = requests.get(f"http://{address}:8101/metrics", timeout=5).text
            sockets = [row for row in metrics.splitlines() if row.startswith("gateway_sockets")]
            line += f"; /ready {ready.status_code} {ready.text.strip()}; {' '.join(sockets)}"
        except Exception as error:  # noqa: BLE001 - a stopped container has nothing to say
            line += f"; unreachable ({type(error).__name__})"
        states.append(line)
    return states

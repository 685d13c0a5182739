"""The compose deployment, run for real (scripts/test-deploy.sh: `docker-compose up --scale
gateway=3 --scale jobs=2` on podman) and used through its edge: the tests run in this order, and the
later ones kill, scale and restart containers."""
import hashlib
import re
import subprocess
import uuid

import requests

from conftest import BASE_URL, CA_FILE, EVENT_TIMEOUT, HTTP_URL, PROJECT, START_TIMEOUT, wait_until

# What the tests leave for the last one (down, then up: still there).
kept = {}


def send(peer, room, content):
    ack = peer.call("message:send", {"roomId": room["id"], "content": content})
    assert "message" in ack, ack
    return ack["message"]


def join(peer, room, **extra):
    """Opens `room` on `peer`'s socket; the ack must be the room's, not an error."""
    ack = peer.call("room:join", {"roomId": room["id"], **extra})
    assert ack.get("roomId") == room["id"], f"{peer.name}: {ack}"
    return ack


def received(peer, content, timeout=EVENT_TIMEOUT):
    return peer.next("message:received", lambda message: message.get("content") == content, timeout=timeout)


def gateway_sockets(compose, name):
    """How many sockets the gateway container `name` holds (its /metrics, on its own address)."""
    text = requests.get(f"http://{compose.address(name)}:8101/metrics", timeout=10).text
    return sum(int(float(value)) for value in re.findall(r'^\S*gateway_sockets\{[^}]*\} (\S+)$', text, re.MULTILINE))


def test_every_container_is_healthy_non_root_and_limited(compose):
    for service in ("auth", "rooms", "messages", "gateway", "signaling", "jobs", "web"):
        for name in compose.containers(service):
            info = compose.inspect(name)
            assert info["Config"]["User"] == "voiceflow", f"{name} runs as {info['Config']['User']!r}"
            assert info["HostConfig"]["ReadonlyRootfs"] is True, f"{name}: the root filesystem is writable"
            assert info["HostConfig"]["Memory"] > 0, f"{name} has no memory limit"
            assert compose.health(name) == "healthy"
    assert len(compose.containers("gateway")) == 3 and len(compose.containers("jobs")) == 2
    for service, user in (("postgres", "postgres"), ("redis", "redis"), ("edge", "haproxy"), ("coturn", "turnserver")):
        (name,) = compose.containers(service)
        info = compose.inspect(name)
        assert info["Config"]["User"] == user, f"{service} does not run as {user}"
        assert info["HostConfig"]["Memory"] > 0, f"{name} has no memory limit"

    # The edge: HTTPS with HSTS; plain HTTP only redirects; the web client at /.
    page = requests.get(BASE_URL + "/", verify=CA_FILE, timeout=10)
    assert page.status_code == 200 and "<div id=\"root\"" in page.text, page.text[:200]
    assert "max-age=" in page.headers.get("Strict-Transport-Security", "")
    # Every API service (auth, rooms, messages, signaling) answers through the edge: its own 401
    # for a call without a token.
    room = uuid.uuid4()
    for path in ("/api/v1/users/me", "/api/v1/rooms", f"/api/v1/rooms/{room}/messages", f"/api/v1/rooms/{room}/voice"):
        answer = requests.get(BASE_URL + path, verify=CA_FILE, timeout=10)
        assert answer.status_code == 401 and answer.json().get("code"), f"{path}: {answer.status_code} {answer.text[:200]}"
    redirect = requests.get(HTTP_URL + "/api/v1/rooms", allow_redirects=False, timeout=10)
    assert redirect.status_code in (301, 302, 308) and redirect.headers["Location"].startswith("https://"), redirect.headers


def test_production_refuses_a_placeholder_secret(compose):
    # The rooms container as compose made it (its image, network and environment), started once
    # more with the example file's Redis password: it refuses to start, and says why.
    (name,) = compose.containers("rooms")
    info = compose.inspect(name)
    environment = [entry for entry in info["Config"]["Env"] if not entry.startswith("REDIS_URL=")]
    environment.append("REDIS_URL=redis://:change-me-too@redis:6379/0")
    network = next(iter(info["NetworkSettings"]["Networks"]))
    # Named, so that a run that does not end is removed (it would hold the network, and `down`, up).
    refused = f"{PROJECT}-refused-{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            ["podman", "run", "--rm", "--name", refused, "--network", network, *[item for entry in environment for item in ("-e", entry)],
             info["ImageName"]],
            capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["podman", "rm", "-f", "--ignore", refused], capture_output=True, timeout=60)
    # 78: a refused setting (EX_CONFIG), said on one line.
    assert result.returncode == 78, (result.returncode, result.stdout, result.stderr)
    assert "REDIS_URL still holds a placeholder" in result.stderr, result.stdout + result.stderr


def test_people_chat_across_gateways(compose, api, peers):
    ann, ben, cat = api.register("ann"), api.register("ben"), api.register("cat")
    room = api.room(ann, members=[ben, cat])
    gateways = compose.containers("gateway")
    # Ann and Ben on two different gateway containers; Cat through the edge.
    a = peers("ann", ann["token"], f"http://{compose.address(gateways[0])}:8101")
    b = peers("ben", ben["token"], f"http://{compose.address(gateways[1])}:8101")
    c = peers("cat", cat["token"])
    for peer in (a, b, c):
        join(peer, room)
    a.next("room:user_joined", lambda event: event.get("userId") == cat["id"] or event.get("user", {}).get("id") == cat["id"])

    send(a, room, "hello from the first gateway")
    assert received(b, "hello from the first gateway")["author"]["id"] == ann["id"]
    received(c, "hello from the first gateway")
    send(b, room, "and back from the second")
    received(a, "and back from the second")
    a.call("typing:start", {"roomId": room["id"]})
    assert b.next("user:typing")["userId"] == ann["id"]
    b.call("presence:update", {"status": "away"})
    a.next("user:presence_changed", lambda event: event.get("userId") == ben["id"] and event.get("status") == "away")
    kept.update(user=ann, room=room, message="hello from the first gateway")


def test_an_upload_survives_a_restart_of_messages(compose, api):
    owner = api.register("files")
    room = api.room(owner)
    content = b"\x89PNG\r\n\x1a\n" + hashlib.sha256(uuid.uuid4().bytes).digest() * 64
    upload = api.request("POST", "/api/v1/files", token=owner["token"], files={"file": ("plan.png", content, "image/png")})
    assert upload.status_code == 201, upload.text
    file = upload.json()
    shared = api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "plan", "fileId": file["id"], "type": "file"}, token=owner["token"])
    assert shared.status_code == 201, shared.text

    compose.run("restart", "messages")
    compose.wait_healthy(["messages"])
    download = wait_until(lambda: (lambda r: r if r.status_code == 200 else None)(api.request("GET", file["url"], token=owner["token"])),
                          60, "the file is not served after the restart")
    assert download.content == content
    kept.update(file_owner=owner, file_url=file["url"], file_content=content)


def test_a_job_is_run_by_either_worker(compose):
    workers = compose.containers("jobs")
    assert len(workers) == 2

    def backups():
        return set(compose.podman("exec", workers[1], "ls", "/data/backups").split())

    before = backups()
    compose.podman("exec", workers[0], "/app/service", "enqueue", "system", "backup-database", "{}")
    made = wait_until(lambda: backups() - before, 120, "no backup was made by a worker")
    assert all(name.endswith((".dump", ".sql", ".pgdump", ".backup")) or "voiceflow" in name for name in made), made


def test_a_killed_gateways_clients_reconnect_through_the_edge_and_miss_nothing(compose, api, peers):
    ann, ben = api.register("kill_a"), api.register("kill_b")
    room = api.room(ann, members=[ben])
    gateways = compose.containers("gateway")
    before = {name: gateway_sockets(compose, name) for name in gateways}
    reader = peers("ben", ben["token"])
    join(reader, room)
    # The gateway container that took Ben's socket through the edge; Ann writes on another one.
    victim = wait_until(lambda: next((name for name in gateways if gateway_sockets(compose, name) > before[name]), None),
                        30, "no gateway shows the reader's socket")
    writer = peers("ann", ann["token"], f"http://{compose.address(next(name for name in gateways if name != victim))}:8101")
    join(writer, room)
    last = received(reader, send(writer, room, "before")["content"])["seq"]

    compose.podman("kill", victim)
    wait_until(lambda: not reader.sio.connected, 30, "the reader's socket did not drop")
    written = [send(writer, room, f"while away {index}")["content"] for index in range(5)]

    # Ben comes back through the edge (to a gateway alive: the edge's checks take the dead one
    # out) and catches up from his last seq: every message, once, in order.
    again = wait_until(lambda: peers("ben-again", api.login(ben)), 60, "the reader cannot reconnect through the edge")
    join(again, room, lastSeq=last)
    got = [again.next("message:received")["content"] for _ in written]
    assert got == written, got
    compose.run("up", "-d", "--no-build", "--no-recreate", "--scale", "gateway=3", "--scale", "jobs=2")
    compose.wait_healthy(["gateway"], counts={"gateway": 3})


def test_scaling_to_five_gateways_needs_no_edit_of_the_edge(compose, api, peers):
    user = api.register("scale")
    holder = peers("before", user["token"])
    compose.run("up", "-d", "--no-build", "--no-recreate", "--scale", "gateway=5", "--scale", "jobs=2")
    compose.wait_healthy(["gateway"], counts={"gateway": 5})
    assert holder.sio.connected, "a connected client was dropped by scaling up"

    # New connections through the edge reach the new gateways (the edge resolves the service's
    # replicas through DNS).
    def every_gateway_used():
        for index in range(10):
            peers(f"new-{index}", user["token"])
        return all(gateway_sockets(compose, name) > 0 for name in compose.containers("gateway"))

    wait_until(every_gateway_used, 90, "the edge did not send connections to every one of the five gateways", interval=2)


def test_a_redis_restart_is_recovered_without_restarting_a_service(compose, api, peers):
    started = {name: compose.inspect(name)["State"]["StartedAt"] for service in ("auth", "rooms", "messages", "gateway", "signaling") for name in compose.containers(service)}
    compose.run("restart", "redis")
    compose.wait_healthy(counts={"gateway": 5, "jobs": 2})

    ann, ben = api.register("redis_a"), api.register("redis_b")
    room = api.room(ann, members=[ben])
    a, b = peers("ann", ann["token"]), peers("ben", ben["token"])
    for peer in (a, b):
        join(peer, room)

    def delivered():
        content = f"after the restart {uuid.uuid4().hex[:6]}"
        send(a, room, content)
        received(b, content, timeout=5)
        return True

    wait_until(delivered, 60, "messages are not delivered after Redis restarted", interval=1)
    restarted = {name: at for name, at in started.items() if compose.inspect(name)["State"]["StartedAt"] != at}
    assert not restarted, f"containers restarted: {restarted}"


def test_down_and_up_keep_the_data(compose, api):
    assert kept, "the earlier tests left nothing to look for"
    compose.run("down")
    assert compose.containers() == []
    compose.run("up", "-d", "--no-build", "--scale", "gateway=3", "--scale", "jobs=2")
    compose.wait_healthy(counts={"gateway": 3, "jobs": 2}, timeout=START_TIMEOUT)

    user = kept["user"]
    token = wait_until(lambda: api.login(user), 60, "the user cannot sign in after down and up")
    history = api.history({**user, "token": token}, kept["room"])
    assert kept["message"] in [message["content"] for message in history]
    owner = kept["file_owner"]
    download = api.request("GET", kept["file_url"], token=api.login(owner))
    assert download.status_code == 200 and download.content == kept["file_content"]

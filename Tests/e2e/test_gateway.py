"""The Socket.IO gateway end to end: real clients on both gateways and through the edge.

Every test uses fresh users and rooms. Events are awaited from per-event queues with a timeout;
the only fixed pauses check that something does NOT arrive (or let a rate limit refill), and say so.
Every event and acknowledgement a client receives is checked against the socket protocol's AsyncAPI
document (`/api/v1/asyncapi.json`, conftest's `SocketContract`): one that is not in it, or not of
its schema, fails the test that received it.
"""
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict

import engineio
import pytest
import requests
import socketio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from stack_restart import restart_environment  # noqa: E402

BASE_URL = os.environ.get("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
GATEWAY_URLS = [
    url.strip().rstrip("/")
    for url in os.environ.get("VOICEFLOW_GATEWAY_URLS", "http://127.0.0.1:8101,http://127.0.0.1:8102").split(",")
    if url.strip()
]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DIR = os.environ.get("VOICEFLOW_RUN_DIR", os.path.join(ROOT, ".data", "run"))
STACK = os.path.join(ROOT, "scripts", "stack.sh")
# How long an event that should come may take.
EVENT_TIMEOUT = 10


# ---------------------------------------------------------------- a client that keeps the wire order


class _InOrderEngineIOClient(engineio.Client):
    """python-engineio hands every incoming packet to a new thread, so two events could reach the
    handlers out of order. Delivery order is part of the contract under test: handle the packets one
    by one, in the order they arrived (the handlers only put into queues, so nothing blocks)."""

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    """Also shows every acknowledgement to `on_ack(event, args)` before the emitter's callback gets it
    (`call` emits with a callback too)."""

    def __init__(self, *args, on_ack=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_ack = on_ack

    def _engineio_client_class(self):
        return _InOrderEngineIOClient

    def emit(self, event, data=None, namespace=None, callback=None):
        if callback is not None and self._on_ack is not None:
            answer, on_ack = callback, self._on_ack

            def callback(*args):
                on_ack(event, args)
                return answer(*args)

        return super().emit(event, data=data, namespace=namespace, callback=callback)


class Peer:
    """One Socket.IO connection of one user, with a queue per server event.

    Every event, acknowledgement and connect_error is checked against the socket protocol's
    document as it arrives (on python-socketio's threads); what does not conform is kept in
    `violations`, which `call`, `next` and the `peers` fixture's teardown turn into failures of
    the test."""

    def __init__(self, name, token, contract):
        self.name = name
        self.token = token
        self.contract = contract
        self.violations = []
        self._reported = 0  # violations already turned into a failure
        self._violations_lock = threading.Lock()
        self.sio = _InOrderClient(reconnection=False, on_ack=self._check_ack)
        self._queues = defaultdict(queue.Queue)
        self._queues_lock = threading.Lock()
        self._held = defaultdict(list)  # taken from a queue while looking for something else
        self.connect_error = None
        self.sio.on("*", self._record)
        self.sio.on("connect_error", self._on_connect_error)

    def _violate(self, problems):
        if problems:
            with self._violations_lock:
                self.violations.extend(problems)

    def assert_conforming(self):
        """Fails the test if anything received since the last report broke the socket protocol's document."""
        with self._violations_lock:
            violations = self.violations[self._reported:]
            self._reported = len(self.violations)
        assert not violations, f"{self.name} received what the socket protocol's document does not allow:\n" + "\n".join(violations)

    def _check_ack(self, event, args):
        self._violate(self.contract.ack_problems(event, args))

    def _queue(self, event):
        with self._queues_lock:
            return self._queues[event]

    def _record(self, event, *args):
        self._violate(self.contract.event_problems(event, args))
        self._queue(event).put(args[0] if len(args) == 1 else list(args))

    def _on_connect_error(self, data=None):
        # A CONNECT_ERROR packet from the gateway is an object; a transport failure is reported by
        # the client library itself, as text, and is no part of the protocol.
        if isinstance(data, dict):
            self._violate(self.contract.connect_error_problems(data))
        self.connect_error = data

    def connect(self, url, transport="websocket"):
        self.sio.connect(
            url,
            auth=None if self.token is None else {"token": self.token},
            transports=[transport],
            wait_timeout=EVENT_TIMEOUT,
        )

    def call(self, event, data=None, timeout=EVENT_TIMEOUT):
        answer = self.sio.call(event, data, timeout=timeout)
        self.assert_conforming()
        return answer

    def _take(self, event, where, timeout):
        held = self._held[event]
        for index, item in enumerate(held):
            if where is None or where(item):
                return True, held.pop(index)
        deadline = time.monotonic() + timeout
        events = self._queue(event)
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = events.get(timeout=max(remaining, 0)) if remaining > 0 else events.get_nowait()
            except queue.Empty:
                return False, None
            if where is None or where(item):
                return True, item
            held.append(item)

    def next(self, event, where=None, timeout=EVENT_TIMEOUT):
        """The next `event` (matching `where`); fails after `timeout` seconds."""
        found, item = self._take(event, where, timeout)
        self.assert_conforming()
        if not found:
            pytest.fail(f"{self.name}: no {event!r}{' (matching)' if where else ''} within {timeout}s; "
                        f"unmatched: {self._held[event]}")
        return item

    def first_of(self, wanted, timeout=EVENT_TIMEOUT):
        """The first of several (event, where) to show up: returns (event, payload)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event, where in wanted:
                found, item = self._take(event, where, 0.1)
                if found:
                    return event, item
        pytest.fail(f"{self.name}: none of {[event for event, _ in wanted]} within {timeout}s")

    def none(self, event, within, where=None):
        """Asserts that no `event` (matching `where`) arrives within `within` seconds.
        This is a bounded wait for an absence, not a synchronisation."""
        found, item = self._take(event, where, within)
        assert not found, f"{self.name}: unexpected {event!r}: {item}"

    def drain(self, event):
        """Every `event` received so far and not yet taken, in arrival order."""
        items, self._held[event] = self._held[event], []
        events = self._queue(event)
        while True:
            try:
                items.append(events.get_nowait())
            except queue.Empty:
                return items

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass
        try:
            self.sio.shutdown()
        except Exception:
            pass


@pytest.fixture
def peers(socket_contract):
    """Makes Peers; every one is disconnected at the end of the test, which fails if one of them
    received an event or acknowledgement the socket protocol's document does not allow."""
    made = []

    def make(name, token):
        peer = Peer(name, token, socket_contract)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
    failures = []
    for peer in made:
        try:
            peer.assert_conforming()
        except AssertionError as failure:
            failures.append(str(failure))
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- REST helpers


def gateway(index):
    return GATEWAY_URLS[index % len(GATEWAY_URLS)]


def user_id(session):
    return session["user"]["id"]


def make_room(api, owner, *members, name="Gateway room"):
    response = api.request("POST", "/api/v1/rooms", json={"name": name}, token=owner["token"])
    assert response.status_code == 201, response.text
    room = response.json()
    for member in members:
        joined = api.request("POST", f"/api/v1/rooms/{room['code']}/join", token=member["token"])
        assert joined.status_code == 200, joined.text
    return room


def post_message(api, author, room_id, content):
    response = api.request("POST", "/api/v1/messages", json={"roomId": room_id, "content": content}, token=author["token"])
    assert response.status_code == 201, response.text
    return response.json()


def join(peer, room_id, last_seq=None):
    payload = {"roomId": room_id}
    if last_seq is not None:
        payload["lastSeq"] = last_seq
    ack = peer.call("room:join", payload)
    assert isinstance(ack, dict) and "error" not in ack, f"{peer.name}: room:join failed: {ack}"
    assert ack["roomId"] == room_id
    return ack


def error_code(ack):
    assert isinstance(ack, dict) and isinstance(ack.get("error"), dict), f"expected an error ack, got {ack}"
    assert isinstance(ack["error"].get("message"), str) and ack["error"]["message"], ack
    return ack["error"]["code"]


def statuses(join_ack):
    return {p["userId"]: p["status"] for p in join_ack["participants"]}


def tampered(token):
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    return ".".join([header, payload, signature[:middle] + changed + signature[middle + 1:]])


# ---------------------------------------------------------------- 1. authentication at connect


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_connect_needs_a_valid_token_on_both_transports(api, peers, transport):
    _, user = api.register("gw_auth")
    for token in (None, "", "not-a-token", tampered(user["token"])):
        refused = peers(f"token {token!r:.20}", token)
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(BASE_URL, transport)
        assert not refused.sio.connected
        assert isinstance(refused.connect_error, dict), refused.connect_error
        assert refused.connect_error.get("data", {}).get("code") == "UNAUTHORIZED", refused.connect_error
        assert isinstance(refused.connect_error.get("message"), str) and refused.connect_error["message"]

    peer = peers("good", user["token"])
    peer.connect(BASE_URL, transport)
    assert peer.sio.connected and peer.sio.transport() == transport
    # Several round trips: with polling, every request must reach the same gateway (stickiness).
    room = make_room(api, user)
    ack = join(peer, room["id"])
    assert statuses(ack) == {user_id(user): "online"}
    assert peer.next("room:joined")["roomId"] == room["id"]
    for status in ("away", "in_call", "online"):
        assert peer.call("presence:update", {"status": status}) == {"status": status}

    # auth:refresh takes a newer token of the same user; garbage is refused.
    login = api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": user["refreshToken"]})
    assert login.status_code == 200, login.text
    assert peer.call("auth:refresh", {"token": login.json()["token"]}) == {"ok": True}
    error_code(peer.call("auth:refresh", {"token": "not-a-token"}))
    sent = peer.call("message:send", {"roomId": room["id"], "content": "after refresh"})
    assert "error" not in sent, sent
    assert sent["message"]["content"] == "after refresh"
    assert peer.sio.connected


# ---------------------------------------------------------------- 2. two users on two gateways


def test_two_users_on_two_gateways_chat_type_and_share_presence(api, peers):
    _, alice = api.register("gw2_a")
    _, bob = api.register("gw2_b")
    room = make_room(api, alice, bob)
    room_id = room["id"]

    a = peers("alice@gw1/websocket", alice["token"])
    a.connect(gateway(0), "websocket")
    joined = join(a, room_id)
    assert statuses(joined) == {user_id(alice): "online", user_id(bob): "offline"}
    roles = {p["userId"]: p for p in joined["participants"]}
    assert roles[user_id(alice)]["role"] == "admin"
    assert roles[user_id(bob)]["username"] == bob["user"]["username"]
    assert a.next("room:joined")["roomId"] == room_id

    b = peers("bob@gw2/polling", bob["token"])
    b.connect(gateway(1), "polling")
    joined_b = join(b, room_id)
    assert statuses(joined_b) == {user_id(alice): "online", user_id(bob): "online"}
    arrived = a.next("room:user_joined")
    assert arrived["roomId"] == room_id and arrived["userId"] == user_id(bob)
    assert arrived["username"] == bob["user"]["username"] and arrived["status"] == "online"
    assert arrived["timestamp"]

    # A message: acked with the stored message, delivered to both gateways' sockets.
    ack = a.call("message:send", {"roomId": room_id, "content": "hello from gateway 1"})
    assert "error" not in ack, ack
    message = ack["message"]
    assert message["content"] == "hello from gateway 1" and message["roomId"] == room_id
    assert message["seq"] == 1 and message["id"] and message["createdAt"] and message["type"]
    assert (message["author"]["id"], message["author"]["username"]) == (user_id(alice), alice["user"]["username"])
    for peer in (a, b):
        received = peer.next("message:received")
        assert (received["id"], received["seq"], received["roomId"]) == (message["id"], 1, room_id)
        assert received["content"] == "hello from gateway 1"
    reply = b.call("message:send", {"roomId": room_id, "content": "hello from gateway 2"})
    assert reply["message"]["seq"] == 2
    assert a.next("message:received")["id"] == reply["message"]["id"]
    assert b.next("message:received")["id"] == reply["message"]["id"]

    # Typing, start and stop.
    assert "error" not in a.call("typing:start", {"roomId": room_id})
    assert b.next("user:typing") == {"roomId": room_id, "userId": user_id(alice), "username": alice["user"]["username"]}
    assert "error" not in a.call("typing:stop", {"roomId": room_id})
    assert b.next("user:stopped_typing") == {"roomId": room_id, "userId": user_id(alice)}

    # Presence, both ways.
    assert a.call("presence:update", {"status": "away"}) == {"status": "away"}
    assert b.next("user:presence_changed", where=lambda e: e["userId"] == user_id(alice)) == {
        "userId": user_id(alice), "status": "away"}
    assert b.call("presence:update", {"status": "in_call"}) == {"status": "in_call"}
    assert a.next("user:presence_changed", where=lambda e: e["userId"] == user_id(bob))["status"] == "in_call"

    # Typing ends on its own (5 s) without typing:stop.
    assert "error" not in b.call("typing:start", {"roomId": room_id})
    started = time.monotonic()
    assert a.next("user:typing")["userId"] == user_id(bob)
    stopped = a.next("user:stopped_typing", timeout=8)
    assert stopped == {"roomId": room_id, "userId": user_id(bob)}
    assert time.monotonic() - started >= 3.5, "typing stopped long before it could have expired"

    # A typer's own sockets never hear of their own typing.
    assert [e for e in a.drain("user:typing") if e["userId"] == user_id(alice)] == []
    assert [e for e in b.drain("user:typing") if e["userId"] == user_id(bob)] == []
    assert a.sio.connected and b.sio.connected


# ---------------------------------------------------------------- 3. validation and authorisation


def test_invalid_and_forbidden_events_are_refused_and_the_socket_stays(api, peers):
    _, owner = api.register("gw3_o")
    _, outsider = api.register("gw3_x")
    room = make_room(api, owner)
    room_id = room["id"]

    x = peers("outsider", outsider["token"])
    x.connect(BASE_URL)
    assert error_code(x.call("room:join", {"roomId": room_id})) in {"FORBIDDEN", "NOT_FOUND"}
    assert error_code(x.call("room:join", {"roomId": str(uuid.uuid4())})) in {"FORBIDDEN", "NOT_FOUND"}
    assert error_code(x.call("message:send", {"roomId": room_id, "content": "let me in"})) == "FORBIDDEN"

    o = peers("owner", owner["token"])
    o.connect(BASE_URL)
    # A member, but this socket has not joined the room.
    assert error_code(o.call("message:send", {"roomId": room_id, "content": "too early"})) == "FORBIDDEN"
    join(o, room_id)

    for content in ("", "x" * 4001):
        assert error_code(o.call("message:send", {"roomId": room_id, "content": content})) == "VALIDATION_FAILED", len(content)
    assert error_code(o.call("message:send", {"roomId": room_id})) == "VALIDATION_FAILED"
    for bad in ("not-a-room", "", 42, None):
        assert error_code(o.call("message:send", {"roomId": bad, "content": "hi"})) == "VALIDATION_FAILED", bad
        assert error_code(o.call("room:join", {"roomId": bad})) == "VALIDATION_FAILED", bad
    assert error_code(o.call("message:send", {"content": "no room"})) == "VALIDATION_FAILED"

    # Non-object payloads.
    assert error_code(o.call("message:send", "hello")) == "VALIDATION_FAILED"
    assert error_code(o.call("room:join", [room_id])) == "VALIDATION_FAILED"
    assert error_code(o.call("typing:start", 7)) == "VALIDATION_FAILED"
    assert error_code(o.call("presence:update", {"status": "invisible"})) == "VALIDATION_FAILED"
    assert error_code(o.call("presence:update", {"status": "offline"})) == "VALIDATION_FAILED"

    # Unknown events.
    assert error_code(o.call("room:explode", {"roomId": room_id})) == "NOT_FOUND"

    # Without an ack, failures come as an `error` event.
    o.sio.emit("message:send", {"roomId": room_id, "content": ""})
    assert o.next("error")["code"] == "VALIDATION_FAILED"
    o.sio.emit("no:such:event", {})
    failure = o.next("error")
    assert failure["code"] == "NOT_FOUND" and failure["message"]

    # The longest allowed message goes through; none of the refused ones was stored.
    longest = o.call("message:send", {"roomId": room_id, "content": "y" * 4000})
    assert "error" not in longest, longest
    assert o.next("message:received")["id"] == longest["message"]["id"]
    history = api.request("GET", f"/api/v1/rooms/{room_id}/messages", token=owner["token"])
    assert history.status_code == 200
    assert [m["id"] for m in history.json()["data"]] == [longest["message"]["id"]]
    assert o.sio.connected and x.sio.connected


# Events sent at once in the flood test. The budget (20/s, bursts of 40) goes by when each event
# arrived, not when it is handled, so 200 outrun it unless the client takes over 8 s to send them;
# they stay under the 256 events a connection may have waiting before it is closed as too fast.
FLOOD = 200


def test_an_event_flood_is_rate_limited_and_the_socket_survives(api, peers):
    _, owner = api.register("gw3_rl")
    room = make_room(api, owner)
    peer = peers("flooder", owner["token"])
    peer.connect(BASE_URL)
    join(peer, room["id"])

    acks = queue.Queue()
    for _ in range(FLOOD):
        peer.sio.emit("typing:stop", {"roomId": room["id"]}, callback=lambda *args: acks.put(args[0] if args else None))
    answers = []
    for _ in range(FLOOD):
        try:
            answers.append(acks.get(timeout=EVENT_TIMEOUT))
        except queue.Empty:
            pytest.fail(f"only {len(answers)} of {FLOOD} events were answered")
    limited = [a for a in answers if isinstance(a, dict) and isinstance(a.get("error"), dict) and a["error"].get("code") == "RATE_LIMITED"]
    admitted = [a for a in answers if isinstance(a, dict) and "error" not in a]
    assert len(limited) + len(admitted) == FLOOD, answers
    assert limited, f"{FLOOD} events at once were all admitted"
    assert len(admitted) >= 30, f"the burst (40) should admit most of the first events; admitted {len(admitted)}"

    # The budget refills at 20 events/s: give it time (a refill pause, not a synchronisation).
    time.sleep(1.5)
    assert peer.sio.connected
    ack = peer.call("message:send", {"roomId": room["id"], "content": "still here"})
    assert "error" not in ack, ack
    assert peer.next("message:received")["id"] == ack["message"]["id"]


# ---------------------------------------------------------------- 4. REST changes reach the sockets


def test_rest_changes_reach_the_sockets(api, peers):
    _, admin = api.register("gw4_adm")
    _, bob = api.register("gw4_bob")
    _, carol = api.register("gw4_car")
    _, dave = api.register("gw4_dav")
    room = make_room(api, admin, bob, carol)
    room_id = room["id"]
    a, b, c = (peers(name, user["token"]) for name, user in (("admin", admin), ("bob", bob), ("carol", carol)))
    for peer in (a, b, c):
        peer.connect(BASE_URL)
        join(peer, room_id)

    message = post_message(api, admin, room_id, "over REST")
    for peer in (a, b, c):
        received = peer.next("message:received")
        assert (received["id"], received["seq"], received["content"]) == (message["id"], message["seq"], "over REST")

    edited = api.request("PATCH", f"/api/v1/messages/{message['id']}", json={"content": "edited over REST"}, token=admin["token"])
    assert edited.status_code == 200, edited.text
    for peer in (a, b, c):
        change = peer.next("message:edited")
        assert change["message"]["id"] == message["id"] and change["message"]["content"] == "edited over REST"

    deleted = api.request("DELETE", f"/api/v1/messages/{message['id']}", token=admin["token"])
    assert deleted.status_code in (200, 204), deleted.text
    for peer in (a, b, c):
        gone = peer.next("message:deleted")
        assert gone["roomId"] == room_id and gone["message"]["id"] == message["id"]

    joined = api.request("POST", f"/api/v1/rooms/{room['code']}/join", token=dave["token"])
    assert joined.status_code == 200, joined.text
    for peer in (a, b, c):
        member = peer.next("room:member_joined")
        assert member["roomId"] == room_id and member["member"]["userId"] == user_id(dave)

    kicked = api.request("DELETE", f"/api/v1/rooms/{room_id}/members/{user_id(carol)}", token=admin["token"])
    assert kicked.status_code in (200, 204), kicked.text
    assert c.next("room:kicked") == {"roomId": room_id}
    for peer in (a, b):
        notice = peer.next("room:member_kicked")
        assert notice == {"roomId": room_id, "userId": user_id(carol)}

    after = post_message(api, admin, room_id, "carol is gone")
    assert b.next("message:received")["id"] == after["id"]
    assert a.next("message:received")["id"] == after["id"]
    # Bob has it already: give Carol's socket a little longer to (wrongly) get it too.
    c.none("message:received", within=2)
    assert error_code(c.call("message:send", {"roomId": room_id, "content": "am I still in?"})) == "FORBIDDEN"

    renamed = api.request("PATCH", f"/api/v1/rooms/{room_id}", json={"name": "Renamed room"}, token=admin["token"])
    assert renamed.status_code == 200, renamed.text
    for peer in (a, b):
        update = peer.next("room:updated")
        assert update["roomId"] == room_id and update["room"]["name"] == "Renamed room"

    removed = api.request("DELETE", f"/api/v1/rooms/{room_id}", token=admin["token"])
    assert removed.status_code in (200, 204), removed.text
    for peer in (a, b):
        assert peer.next("room:deleted") == {"roomId": room_id}
    # The kicked socket heard none of the room's later events (bounded check for absence).
    c.none("room:updated", within=1)
    assert c.drain("room:deleted") == [] and c.drain("room:member_kicked") == []
    assert all(peer.sio.connected for peer in (a, b, c))


def test_a_role_change_and_a_rest_leave_reach_the_sockets(api, peers):
    _, admin = api.register("gw4_role_a")
    _, bob = api.register("gw4_role_b")
    room_id = make_room(api, admin, bob)["id"]
    a, b = peers("admin", admin["token"]), peers("bob", bob["token"])
    for peer in (a, b):
        peer.connect(BASE_URL)
        join(peer, room_id)

    promoted = api.request("PATCH", f"/api/v1/rooms/{room_id}/members/{user_id(bob)}", json={"role": "admin"}, token=admin["token"])
    assert promoted.status_code == 200, promoted.text
    for peer in (a, b):
        change = peer.next("room:member_role_changed")
        assert change["roomId"] == room_id
        assert (change["member"]["userId"], change["member"]["role"]) == (user_id(bob), "admin")

    left = api.request("POST", f"/api/v1/rooms/{room_id}/leave", token=bob["token"])
    assert left.status_code == 200, left.text
    assert b.next("room:left") == {"roomId": room_id}
    assert a.next("room:member_left") == {"roomId": room_id, "userId": user_id(bob)}
    assert a.next("room:user_left", where=lambda e: e["userId"] == user_id(bob))["roomId"] == room_id
    assert error_code(b.call("message:send", {"roomId": room_id, "content": "still in?"})) == "FORBIDDEN"
    assert a.sio.connected and b.sio.connected


# ---------------------------------------------------------------- 5. reconnect without loss


def test_reconnecting_on_the_other_gateway_catches_up_without_loss(api, peers):
    _, alice = api.register("gw5_a")
    _, bob = api.register("gw5_b")
    room_id = make_room(api, alice, bob)["id"]

    first = peers("bob@gw1", bob["token"])
    first.connect(gateway(0))
    join(first, room_id)
    early = [post_message(api, alice, room_id, f"early {i}") for i in range(3)]
    seen = [first.next("message:received") for _ in early]
    assert [m["id"] for m in seen] == [m["id"] for m in early]
    assert [m["seq"] for m in seen] == [1, 2, 3]
    last_seq = seen[-1]["seq"]
    first.close()
    assert not first.sio.connected

    missed = [post_message(api, alice, room_id, f"missed {i}") for i in range(5)]
    assert [m["seq"] for m in missed] == list(range(last_seq + 1, last_seq + 6))

    second = peers("bob@gw2", bob["token"])
    second.connect(gateway(1))
    join(second, room_id, last_seq=last_seq)
    # The missed messages come before the ack, so they are all queued by now.
    caught_up = second.drain("message:received")
    assert [m["seq"] for m in caught_up] == [m["seq"] for m in missed]
    assert [m["id"] for m in caught_up] == [m["id"] for m in missed]
    assert [m["content"] for m in caught_up] == [f"missed {i}" for i in range(5)]

    live = post_message(api, alice, room_id, "live again")
    assert live["seq"] == last_seq + 6
    received = second.next("message:received")
    assert (received["id"], received["seq"]) == (live["id"], last_seq + 6)
    # No duplicates trail behind (bounded check for absence).
    second.none("message:received", within=1.5)


# ---------------------------------------------------------------- 6. several tabs


def test_a_user_stays_online_until_the_last_tab_closes(api, peers):
    _, alice = api.register("gw6_a")
    _, bob = api.register("gw6_b")
    _, carol = api.register("gw6_c")
    room_id = make_room(api, alice, bob, carol)["id"]
    is_alice = lambda event: event["userId"] == user_id(alice)  # noqa: E731

    watcher = peers("bob", bob["token"])
    watcher.connect(BASE_URL)
    join(watcher, room_id)

    tab1 = peers("alice tab 1@gw1", alice["token"])
    tab1.connect(gateway(0))
    join(tab1, room_id)
    tab2 = peers("alice tab 2@gw2", alice["token"])
    tab2.connect(gateway(1), "polling")
    join(tab2, room_id)
    assert watcher.next("room:user_joined", where=is_alice)["status"] == "online"

    # A tab with no room open still changes what the room sees: a call there shows here...
    caller = peers("alice call tab@gw2", alice["token"])
    caller.connect(gateway(1))
    assert caller.call("presence:update", {"status": "in_call"}) == {"status": "in_call"}
    assert watcher.next("user:presence_changed", where=is_alice)["status"] == "in_call"
    # ...and when that tab closes she is back online, not stuck in the call.
    caller.close()
    assert watcher.next("user:presence_changed", where=is_alice)["status"] == "online"

    tab1.close()
    # Alice still has a tab open: no offline and no room:user_left for her (bounded check for absence).
    watcher.none("user:presence_changed", within=2, where=lambda e: is_alice(e) and e["status"] == "offline")
    assert [e for e in watcher.drain("room:user_left") if is_alice(e)] == []
    # Her second tab's join did not announce her twice.
    assert [e for e in watcher.drain("room:user_joined") if is_alice(e)] == []

    third = peers("carol", carol["token"])
    third.connect(BASE_URL)
    assert statuses(join(third, room_id))[user_id(alice)] == "online"

    tab2.close()
    offline = watcher.next("user:presence_changed", where=lambda e: is_alice(e) and e["status"] == "offline")
    assert offline == {"userId": user_id(alice), "status": "offline"}
    assert watcher.next("room:user_left", where=is_alice)["roomId"] == room_id
    assert third.next("user:presence_changed", where=is_alice)["status"] == "offline"


# ---------------------------------------------------------------- 7. a gateway dies (runs last)


def _stack_environment(pid):
    """The environment to restart the stack with (see `restart_environment`), with the gateway count
    of this run."""
    env = restart_environment(pid, RUN_DIR)
    env.setdefault("GATEWAYS", str(len(GATEWAY_URLS)))
    return env


def _connect_with_retries(peer, url, seconds):
    """The edge may still send a new connection to the dead gateway until its health check notices."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            peer.connect(url)
            return
        except socketio.exceptions.ConnectionError:
            if time.monotonic() >= deadline:
                raise
            peer.close()
            time.sleep(0.5)  # between connection attempts; nothing to await


def test_zz_gateway_kill_turns_users_offline_and_reconnecting_loses_nothing(api, peers):
    with open(os.path.join(RUN_DIR, "gateway-1.pid")) as pid_file:
        pid = int(pid_file.read().strip())
    os.kill(pid, 0)  # it runs
    restart_env = _stack_environment(pid)

    _, alice = api.register("gw7_a")
    _, bob = api.register("gw7_b")
    room_id = make_room(api, alice, bob)["id"]
    is_alice = lambda event: event["userId"] == user_id(alice)  # noqa: E731

    a = peers("alice@gw1", alice["token"])
    a.connect(gateway(0))
    join(a, room_id)
    b = peers("bob@gw2", bob["token"])
    b.connect(gateway(1))
    assert statuses(join(b, room_id))[user_id(alice)] == "online"
    before = post_message(api, bob, room_id, "before the crash")
    last_seq = a.next("message:received")["seq"]
    assert last_seq == before["seq"]

    restored = None
    try:
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        event, payload = b.first_of(
            [
                ("user:presence_changed", lambda e: is_alice(e) and e["status"] == "offline"),
                ("room:user_left", is_alice),
            ],
            timeout=15,
        )
        assert payload["userId"] == user_id(alice), (event, payload)
        print(f"bob saw alice gone ({event}) {time.monotonic() - killed_at:.1f}s after the kill")

        missed = [post_message(api, bob, room_id, f"while down {i}") for i in range(4)]
        again = peers("alice@edge", alice["token"])
        _connect_with_retries(again, BASE_URL, seconds=15)
        join(again, room_id, last_seq=last_seq)
        caught_up = again.drain("message:received")
        assert [m["id"] for m in caught_up] == [m["id"] for m in missed]
        assert [m["seq"] for m in caught_up] == list(range(last_seq + 1, last_seq + 5))

        live = post_message(api, bob, room_id, "welcome back")
        received = again.next("message:received")
        assert (received["id"], received["seq"]) == (live["id"], last_seq + 5)
        again.none("message:received", within=1)  # no duplicates (bounded check for absence)
        assert b.next("room:user_joined", where=is_alice)["status"] == "online"
    finally:
        a.close()
        restored = subprocess.run(
            [STACK, "up"], env=restart_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300
        )
    assert restored.returncode == 0, restored.stdout[-3000:]
    health = requests.get(gateway(0) + "/health", timeout=5)
    assert health.status_code == 200, health.text

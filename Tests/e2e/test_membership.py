"""Sockets leave a room as soon as their user stops being a member, whatever happened to the event
that says so.

- A kick racing many `room:join`s of the kicked user: no socket hears the room after the kick.
- A membership that ends without any event (the row removed in PostgreSQL directly, as a lost
  Redis publish would leave it): the gateway's periodic re-check (MEMBERSHIP_RECHECK_SECONDS,
  short in `make test`) takes the sockets out of the room with `room:left`.
"""
import os
import subprocess
import threading

import pytest
import requests

from test_gateway import RUN_DIR, error_code, gateway, join, make_room, peers, post_message, user_id  # noqa: F401 (peers is a fixture)


def psql(sql, *values):
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.skip("DATABASE_URL is not set: the stack's database is not reachable from the tests")
    command = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt"]
    for index, value in enumerate(values, start=1):
        command += ["-v", f"p{index}={value}"]
    result = subprocess.run(command, input=sql, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("trial", range(3))
def test_a_kick_racing_joins_leaves_no_socket_in_the_room(api, peers, trial):
    _, admin = api.register("kicker")
    _, member = api.register("kicked")
    room = make_room(api, admin, member)
    watcher = peers("admin", admin["token"])
    watcher.connect(gateway(0))
    join(watcher, room["id"])
    sockets = []
    for index in range(15):
        peer = peers(f"member-{index}", member["token"])
        peer.connect(gateway(index))
        sockets.append(peer)

    acks = [None] * len(sockets)

    def join_one(index):
        acks[index] = sockets[index].sio.call("room:join", {"roomId": room["id"]}, timeout=20)

    threads = [threading.Thread(target=join_one, args=(index,)) for index in range(len(sockets))]
    for thread in threads:
        thread.start()
    kicked = api.request("DELETE", f"/api/v1/rooms/{room['id']}/members/{user_id(member)}", token=admin["token"])
    assert kicked.status_code in (200, 204), kicked.text
    for thread in threads:
        thread.join(30)
    assert all(ack is not None for ack in acks), acks

    after = post_message(api, admin, room["id"], f"after the kick {trial}")
    assert watcher.next("message:received", where=lambda m: m["id"] == after["id"])
    for peer, ack in zip(sockets, acks):
        # Whether its join won or lost the race, the kicked user's socket is out of the room now.
        assert error_code(peer.call("message:send", {"roomId": room["id"], "content": "still in?"})) == "FORBIDDEN"
        peer.none("message:received", within=0.5, where=lambda m: m["id"] == after["id"])


def test_a_membership_that_ends_without_an_event_is_noticed(api, peers):
    _, admin = api.register("owner")
    _, member = api.register("silent")
    room = make_room(api, admin, member)
    tabs = [peers(f"silent-{index}", member["token"]) for index in range(2)]
    for index, tab in enumerate(tabs):
        tab.connect(gateway(index))
        join(tab, room["id"])

    # No REST call, so no event: the row is gone as if its member.left publish had been lost.
    psql("DELETE FROM room_users WHERE room_id = :'p1' AND user_id = :'p2'", room["id"], user_id(member))

    for tab in tabs:
        assert tab.next("room:left", timeout=30) == {"roomId": room["id"]}
        assert error_code(tab.call("message:send", {"roomId": room["id"], "content": "hello?"})) == "FORBIDDEN"


def _room_reads(rooms_url):
    """GETs of one room the rooms service has answered so far (its /metrics counter)."""
    text = requests.get(rooms_url + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("http_requests_total{") and 'method="GET"' in line and 'route="/api/v1/rooms/{id}"' in line.replace(":id", "{id}"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_repeated_join_of_an_open_room_is_answered_without_asking_the_rooms_service(api, peers):
    rooms_port = open(os.path.join(RUN_DIR, "rooms.port")).read().strip()
    rooms_url = f"http://127.0.0.1:{rooms_port}"
    _, alice = api.register("rejoin")
    room = make_room(api, alice)
    peer = peers("rejoiner", alice["token"])
    peer.connect(gateway(0))
    first = join(peer, room["id"])
    before = _room_reads(rooms_url)
    for _ in range(10):
        again = join(peer, room["id"])
        assert again["participants"] == first["participants"]
    # The room as read for the first join answers the next ones (at most one read if its snapshot
    # aged out meanwhile), where each used to cost a call.
    assert _room_reads(rooms_url) - before <= 1
    # A change of the room ends the snapshot: the next join reads it again and sees the change.
    _, bob = api.register("rejoin2")
    joined = api.request("POST", f"/api/v1/rooms/{room['code']}/join", token=bob["token"])
    assert joined.status_code == 200, joined.text
    peer.next("room:member_joined")
    after_change = join(peer, room["id"])
    assert user_id(bob) in {p["userId"] for p in after_change["participants"]}

"""Voice end to end: WebRTC peers (aiortc, `voice_peer.py`) signalled over both gateways.

Members on different gateways join a room's voice and form a full mesh from the join acks and the
relayed signals; each hears the others' tones, also when ICE may use nothing but the stack's coturn
with the credentials the signaling service minted. Then the refusals (non-members, sockets that
did not open the room, signals outside one's voice room or too large, the participant cap) and the
voice state every room member sees (mute, deafen, speaking, a late joiner's view, a session moved
to another socket, a kick, a deleted room, the REST listing through the edge).

Every event is awaited with a timeout; the only fixed waits check that something does NOT arrive,
and say so. Every event and acknowledgement the peers receive is checked against the socket
protocol's AsyncAPI document (conftest's `SocketContract`). A dead gateway's sessions are in
test_voice_gateway_death.py, which kills one.
"""
import asyncio
import time
import uuid

import pytest

from test_gateway import BASE_URL, error_code, gateway, make_room, user_id
from voice_peer import VoicePeer, assert_full_mesh, turn_credential, turn_settings

TURN_URLS, TURN_SECRET = turn_settings()
# One scenario's bound: a hang fails the test instead of stalling the run.
SCENARIO_TIMEOUT = 120


# ---------------------------------------------------------------- helpers


class VoicePeers:
    """Makes the VoicePeers of one scenario, each with a tone of its own (300, 400, ... Hz); closes
    them all at the end, then fails the test if any of them received an event or acknowledgement the
    socket protocol's document does not allow."""

    def __init__(self, contract):
        self.contract = contract
        self.made = []

    def __call__(self, name, session, **options):
        peer = VoicePeer(name, session["token"], tone_hz=300 + 100 * len(self.made), contract=self.contract, **options)
        peer.user_id = user_id(session)
        peer.username = session["user"]["username"]
        self.made.append(peer)
        return peer

    async def close(self):
        for peer in self.made:
            await peer.close()

    def assert_conforming(self):
        failures = []
        for peer in self.made:
            try:
                peer.assert_conforming()
            except AssertionError as failure:
                failures.append(str(failure))
        assert not failures, "\n".join(failures)


def run(contract, scenario):
    """Runs `await scenario(peers)` on a fresh event loop, bounded by SCENARIO_TIMEOUT."""
    async def main():
        peers = VoicePeers(contract)
        try:
            await asyncio.wait_for(scenario(peers), SCENARIO_TIMEOUT)
        finally:
            await peers.close()
        peers.assert_conforming()

    asyncio.run(main())


async def in_voice(peer, url, room_id):
    """Connects `peer` to `url`, opens the room and joins its voice; returns the voice:join ack."""
    await peer.connect(url)
    await peer.join_room(room_id)
    ack = await peer.join_voice(room_id)
    assert isinstance(ack, dict) and "error" not in ack, f"{peer.name}: voice:join failed: {ack}"
    assert ack["roomId"] == room_id and ack["mode"] == "mesh", ack
    return ack


def participant(peer, muted=False, deafened=False, speaking=False):
    """`peer` as the participant lists show it."""
    return {"userId": peer.user_id, "username": peer.username, "sessionId": peer.session_id,
            "muted": muted, "deafened": deafened, "speaking": speaking}


def joined_event(peer, room_id, muted=False, deafened=False):
    return {"roomId": room_id, "userId": peer.user_id, "username": peer.username, "sessionId": peer.session_id,
            "muted": muted, "deafened": deafened}


def left_event(peer, room_id, reason, session_id=None):
    return {"roomId": room_id, "userId": peer.user_id, "sessionId": session_id or peer.session_id, "reason": reason}


def by_session(participants):
    return sorted(participants, key=lambda entry: entry["sessionId"])


def of_session(session_id):
    return lambda event: event.get("sessionId") == session_id


async def until_quiet(peer, event, quiet=0.5):
    """The next `event` and every one that follows it until none has come for `quiet` seconds (a
    bounded wait for an absence), in arrival order."""
    events = [await peer.next(event)]
    while True:
        try:
            events.append(await peer.next(event, timeout=quiet))
        except AssertionError:
            return events


def assert_ice_servers(ack, user):
    """A STUN entry, and the stack's TURN servers with a fresh credential of this user, signed with
    the stack's TURN secret (coturn's REST scheme)."""
    servers = ack["iceServers"]
    assert any(server["urls"] and all(url.startswith("stun:") for url in server["urls"]) for server in servers), servers
    turn = [server for server in servers if any(url.startswith(("turn:", "turns:")) for url in server["urls"])]
    assert turn, f"no TURN server in {servers}"
    if TURN_URLS:
        assert [url for server in turn for url in server["urls"]] == TURN_URLS, servers
    for server in turn:
        expiry, _, owner = server["username"].partition(":")
        assert owner == user_id(user), server
        # Valid for a while yet (VOICE_TURN_TTL), at most a day.
        assert time.time() + 60 < int(expiry) <= time.time() + 86_400, server
        if TURN_SECRET:
            assert server["credential"] == turn_credential(TURN_SECRET, owner, int(expiry))[1], server


def private_room(api, owner, name="Private voice"):
    response = api.request("POST", "/api/v1/rooms", json={"name": name, "settings": {"isPublic": False}}, token=owner["token"])
    assert response.status_code == 201, response.text
    return response.json()


# ---------------------------------------------------------------- 1. a full mesh across two gateways


@pytest.mark.parametrize(
    "policy, transport", [("all", None), ("relay", "udp"), ("relay", "tcp")], ids=["direct", "relay-udp", "relay-tcp"])
def test_three_members_on_two_gateways_form_a_full_mesh_and_hear_each_other(api, socket_contract, policy, transport):
    _, alice = api.register("vc1_a")
    _, bob = api.register("vc1_b")
    _, carol = api.register("vc1_c")
    room_id = make_room(api, alice, bob, carol, name="Voice mesh")["id"]

    async def scenario(peers):
        options = {"ice_transport_policy": policy, "turn_transport": transport}
        a = peers("alice@gw1", alice, **options)
        b = peers("bob@gw2", bob, **options)
        c = peers("carol@gw1", carol, **options)

        ack = await in_voice(a, gateway(0), room_id)
        assert ack["participants"] == []
        assert_ice_servers(ack, alice)

        ack = await in_voice(b, gateway(1), room_id)
        assert ack["participants"] == [participant(a)]
        assert_ice_servers(ack, bob)
        assert await a.next("voice:user_joined", where=of_session(b.session_id)) == joined_event(b, room_id)

        ack = await in_voice(c, gateway(0), room_id)
        assert by_session(ack["participants"]) == by_session([participant(a), participant(b)])
        for peer in (a, b):
            assert await peer.next("voice:user_joined", where=of_session(c.session_id)) == joined_event(c, room_id)
        # Each session id is new, and every peer was told about every other one.
        assert len({a.session_id, b.session_id, c.session_id}) == 3

        # The newcomers offered, the others answered, through both gateways: every pair is connected
        # and every peer hears both others' tones (relayed by coturn at both ends with "relay").
        await assert_full_mesh([a, b, c], relay_only=policy == "relay")

    run(socket_contract, scenario)


# ---------------------------------------------------------------- 2. refusals


def test_a_non_members_voice_join_is_refused_as_its_room_join_is(api, socket_contract):
    _, owner = api.register("vc2_o")
    _, outsider = api.register("vc2_x")
    public = make_room(api, owner, name="Public voice")
    hidden = private_room(api, owner)

    async def scenario(peers):
        x = peers("outsider@edge", outsider)
        await x.connect(BASE_URL)
        # Members only: a public room's voice is FORBIDDEN, a private room's NOT_FOUND (its existence
        # is not revealed), like their room:join.
        for room, code in ((public, "FORBIDDEN"), (hidden, "NOT_FOUND")):
            assert error_code(await x.call("room:join", {"roomId": room["id"]})) == code
            assert error_code(await x.call("voice:join", {"roomId": room["id"]})) == code, room["settings"]
        assert x.sio.connected

    run(socket_contract, scenario)


def test_voice_events_need_the_room_opened_and_voice_joined(api, socket_contract):
    _, owner = api.register("vc3_o")
    _, member = api.register("vc3_m")
    room_id = make_room(api, owner, member, name="Voice rules")["id"]

    async def scenario(peers):
        m = peers("member@gw2", member, negotiate=False)
        await m.connect(gateway(1))
        # A member, but this socket has not opened the room.
        refused = await m.call("voice:join", {"roomId": room_id})
        assert error_code(refused) == "FORBIDDEN" and refused["error"]["message"] == "Join the room first"
        await m.join_room(room_id)
        # Not in voice yet: nothing to signal, leave or change.
        somebody = str(uuid.uuid4())
        assert error_code(await m.call("voice:signal", {"to": somebody, "data": {"type": "offer", "sdp": "v=0"}})) == "VOICE_NOT_JOINED"
        assert error_code(await m.call("voice:leave", {"roomId": room_id})) == "VOICE_NOT_JOINED"
        assert error_code(await m.call("voice:state", {"roomId": room_id, "muted": True})) == "VOICE_NOT_JOINED"
        assert error_code(await m.call("voice:speaking", {"roomId": room_id, "speaking": True})) == "VOICE_NOT_JOINED"
        # Then it works.
        ack = await m.join_voice(room_id)
        assert "error" not in ack, ack
        assert await m.call("voice:leave", {"roomId": room_id}) == {"roomId": room_id}
        assert m.sio.connected

    run(socket_contract, scenario)


def test_signals_reach_exactly_their_session_and_no_further(api, socket_contract):
    _, alice = api.register("vc4_a")
    _, bob = api.register("vc4_b")
    _, carol = api.register("vc4_c")
    _, xavier = api.register("vc4_x")
    room_id = make_room(api, alice, bob, carol, name="Signals")["id"]
    elsewhere = make_room(api, xavier, alice, name="Elsewhere")["id"]

    async def scenario(peers):
        # Signalling only: these peers carry no media, and what they are sent is only recorded.
        a = peers("alice@gw1", alice, negotiate=False)
        b = peers("bob@gw2", bob, negotiate=False)
        c = peers("carol@gw2", carol, negotiate=False)
        x = peers("xavier@gw1", xavier, negotiate=False)
        for peer, index, room in ((a, 0, room_id), (b, 1, room_id), (c, 1, room_id), (x, 0, elsewhere)):
            await in_voice(peer, gateway(index), room)

        # To one session, on the other gateway: delivered there only, as {from, userId, data}.
        data = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
        assert await a.signal(b.session_id, data) == {"ok": True}
        assert await b.next("voice:signal") == {"from": a.session_id, "userId": a.user_id, "data": data}
        # As large as allowed (64 KiB of JSON, a 60,000-character SDP): relayed as the same value.
        large = {"type": "offer", "sdp": "v=0\r\n" + "a" * 60_000}
        assert await c.signal(a.session_id, large) == {"ok": True}
        assert (await a.next("voice:signal"))["data"] == large
        # Too large: refused, and the socket stays usable.
        assert error_code(await a.signal(b.session_id, {"type": "offer", "sdp": "x" * 70_000})) == "PAYLOAD_TOO_LARGE"
        assert a.sio.connected
        # Outside the sender's voice room: a session in another room (of a room the sender is a
        # member of, too), or one that does not exist.
        assert error_code(await a.signal(x.session_id, data)) == "VOICE_PEER_UNKNOWN"
        assert error_code(await a.signal(str(uuid.uuid4()), data)) == "VOICE_PEER_UNKNOWN"
        # The socket is still fine for a real peer.
        assert await a.signal(c.session_id, {"hello": "carol"}) == {"ok": True}
        assert (await c.next("voice:signal"))["data"] == {"hello": "carol"}
        # Nobody got what was not addressed to them (bounded checks for absence).
        await x.none("voice:signal", within=1)
        await b.none("voice:signal", within=0.2)
        assert a.drain("voice:signal") == [] and c.drain("voice:signal") == []

    run(socket_contract, scenario)


def test_the_seventh_participant_is_refused_voice_full(api, socket_contract):
    sessions = [api.register(f"vc5_{index}")[1] for index in range(7)]
    room_id = make_room(api, *sessions, name="Full voice")["id"]

    async def scenario(peers):
        made = [peers(f"member{index}@gw{index % 2 + 1}", session, negotiate=False) for index, session in enumerate(sessions)]
        for index, peer in enumerate(made[:6]):
            await in_voice(peer, gateway(index), room_id)
        last = made[6]
        await last.connect(gateway(0))
        await last.join_room(room_id)
        assert error_code(await last.join_voice(room_id)) == "VOICE_FULL"
        # One leaves: everyone in the room hears it, and there is room again.
        assert await made[0].call("voice:leave", {"roomId": room_id}) == {"roomId": room_id}
        for peer in made[1:]:
            assert await peer.next("voice:user_left", where=of_session(made[0].session_id)) == left_event(made[0], room_id, "left")
        ack = await last.join_voice(room_id)
        assert "error" not in ack, ack
        assert len(ack["participants"]) == 5

    run(socket_contract, scenario)


# ---------------------------------------------------------------- 3. what the room sees


def test_mute_deafen_and_speaking_reach_the_room_and_a_late_joiner(api, socket_contract):
    _, alice = api.register("vc6_a")
    _, bob = api.register("vc6_b")
    _, watcher = api.register("vc6_w")
    _, late = api.register("vc6_l")
    room_id = make_room(api, alice, bob, watcher, late, name="Voice state")["id"]

    async def scenario(peers):
        a = peers("alice@gw1", alice)
        b = peers("bob@gw2", bob)
        w = peers("watcher@gw2 (not in voice)", watcher)
        await in_voice(a, gateway(0), room_id)
        await in_voice(b, gateway(1), room_id)
        await w.connect(gateway(1))
        room = await w.join_room(room_id)
        assert by_session(room["voiceParticipants"]) == by_session([participant(a), participant(b)])
        await a.wait_connected([b.session_id])

        # Mute, then deafen: the ack and the room (in voice or not) get the flags as they are now.
        muted = {"roomId": room_id, "userId": a.user_id, "sessionId": a.session_id, "muted": True, "deafened": False}
        assert await a.call("voice:state", {"roomId": room_id, "muted": True}) == muted
        for peer in (b, w):
            assert await peer.next("voice:state_changed") == muted
        deafened = {**muted, "deafened": True}
        assert await a.call("voice:state", {"roomId": room_id, "deafened": True}) == deafened
        for peer in (b, w):
            assert await peer.next("voice:state_changed") == deafened
        assert error_code(await a.call("voice:state", {"roomId": room_id})) == "VALIDATION_FAILED"

        # Speaking: the room hears it. A burst of changes inside the 200 ms window ends on the last one.
        speaking = {"roomId": room_id, "userId": b.user_id, "sessionId": b.session_id, "speaking": True}
        assert await b.call("voice:speaking", {"roomId": room_id, "speaking": True}) == speaking
        for peer in (a, w):
            assert await peer.next("voice:speaking") == speaking
        for value in (False, True, False):
            assert (await b.call("voice:speaking", {"roomId": room_id, "speaking": value}))["speaking"] is value
        for peer in (a, w):
            # However the burst fell into windows: at most one event per change, the last one false.
            heard = await until_quiet(peer, "voice:speaking")
            assert 1 <= len(heard) <= 3 and heard[-1] == {**speaking, "speaking": False}, heard

        # A late joiner sees all of it: in room:join's voiceParticipants and in voice:join's participants.
        late_peer = peers("late@gw1", late)
        await late_peer.connect(gateway(0))
        expected = by_session([participant(a, muted=True, deafened=True), participant(b)])
        assert by_session((await late_peer.join_room(room_id))["voiceParticipants"]) == expected
        ack = await late_peer.join_voice(room_id)
        assert by_session(ack["participants"]) == expected
        for peer in (a, b, w):
            assert await peer.next("voice:user_joined", where=of_session(late_peer.session_id)) == joined_event(late_peer, room_id)
        # Muted and deafened are flags for the others' interfaces; the media still flows.
        await assert_full_mesh([a, b, late_peer])

    run(socket_contract, scenario)


def test_joining_voice_elsewhere_moves_the_session(api, socket_contract):
    _, alice = api.register("vc7_a")
    _, bob = api.register("vc7_b")
    room_id = make_room(api, alice, bob, name="Moving")["id"]
    other_room = make_room(api, alice, bob, name="Moving on")["id"]

    async def scenario(peers):
        first = peers("alice tab 1@gw1", alice)
        b = peers("bob@gw2", bob)
        await in_voice(first, gateway(0), room_id)
        await in_voice(b, gateway(1), room_id)
        await first.wait_connected([b.session_id])
        old = first.session_id

        # Alice joins from a second tab on the other gateway: one voice session per user.
        second = peers("alice tab 2@gw2", alice)
        ack = await in_voice(second, gateway(1), room_id)
        assert ack["participants"] == [participant(b)]
        assert second.session_id != old
        assert await first.next("voice:user_left", where=of_session(old)) == left_event(first, room_id, "moved", old)
        assert await b.next("voice:user_left", where=of_session(old)) == left_event(first, room_id, "moved", old)
        assert await b.next("voice:user_joined", where=of_session(second.session_id)) == joined_event(second, room_id)
        # The moved session is gone: signals to or from it are refused, and Bob's peer closed it.
        assert error_code(await first.signal(b.session_id, {"hello": "bob"})) == "VOICE_NOT_JOINED"
        assert error_code(await b.signal(old, {"hello": "old tab"})) == "VOICE_PEER_UNKNOWN"
        await second.wait_connected([b.session_id])
        await b.wait_closed(old)

        # Into another room: the session leaves this one ("moved" again).
        await second.join_room(other_room)
        moved = second.session_id
        ack = await second.join_voice(other_room)
        assert "error" not in ack and ack["participants"] == [], ack
        assert await b.next("voice:user_left", where=of_session(moved)) == left_event(second, room_id, "moved", moved)
        listing = api.request("GET", f"/api/v1/rooms/{room_id}/voice", token=bob["token"])
        assert listing.status_code == 200, listing.text
        assert listing.json()["participants"] == [participant(b)]

    run(socket_contract, scenario)


def test_leaving_disconnecting_and_a_kick_end_sessions(api, socket_contract):
    _, admin = api.register("vc8_adm")
    _, bob = api.register("vc8_b")
    _, carol = api.register("vc8_c")
    _, dave = api.register("vc8_d")
    room_id = make_room(api, admin, bob, carol, dave, name="Endings")["id"]

    async def scenario(peers):
        a = peers("admin@gw1", admin, negotiate=False)
        b = peers("bob@gw2", bob, negotiate=False)
        c = peers("carol@gw1", carol, negotiate=False)
        d = peers("dave@gw2", dave, negotiate=False)
        for peer, index in ((a, 0), (b, 1), (c, 0), (d, 1)):
            await in_voice(peer, gateway(index), room_id)

        # voice:leave: "left".
        assert await d.call("voice:leave", {"roomId": room_id}) == {"roomId": room_id}
        for peer in (a, b, c):
            assert await peer.next("voice:user_left", where=of_session(d.session_id)) == left_event(d, room_id, "left")

        # The socket goes away: "disconnected", at once.
        await c.sio.disconnect()
        for peer in (a, b):
            assert await peer.next("voice:user_left", where=of_session(c.session_id)) == left_event(c, room_id, "disconnected")

        # A kicked member's session ends: "kicked".
        kicked = await asyncio.to_thread(api.request, "DELETE", f"/api/v1/rooms/{room_id}/members/{user_id(bob)}", token=admin["token"])
        assert kicked.status_code in (200, 204), kicked.text
        assert await a.next("voice:user_left", where=of_session(b.session_id)) == left_event(b, room_id, "kicked")
        assert await b.next("room:kicked") == {"roomId": room_id}
        listing = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{room_id}/voice", token=admin["token"])
        assert listing.status_code == 200 and listing.json()["participants"] == [participant(a)], listing.text

    run(socket_contract, scenario)


def test_deleting_the_room_ends_its_voice_sessions(api, socket_contract):
    _, admin = api.register("vc9_adm")
    _, bob = api.register("vc9_b")
    room_id = make_room(api, admin, bob, name="Deleted")["id"]

    async def scenario(peers):
        a = peers("admin@gw1", admin, negotiate=False)
        b = peers("bob@gw2", bob, negotiate=False)
        for peer, index in ((a, 0), (b, 1)):
            await in_voice(peer, gateway(index), room_id)
        removed = await asyncio.to_thread(api.request, "DELETE", f"/api/v1/rooms/{room_id}", token=admin["token"])
        assert removed.status_code in (200, 204), removed.text
        # Each hears that the other's session ended with the room, so that it closes that connection.
        assert await a.next("voice:user_left", where=of_session(b.session_id)) == left_event(b, room_id, "room_deleted")
        assert await b.next("voice:user_left", where=of_session(a.session_id)) == left_event(a, room_id, "room_deleted")
        for peer in (a, b):
            assert await peer.next("room:deleted") == {"roomId": room_id}

    run(socket_contract, scenario)


# ---------------------------------------------------------------- 4. REST through the edge


def test_a_rooms_voice_is_listed_to_members_through_the_edge(api, socket_contract):
    _, alice = api.register("vc10_a")
    _, bob = api.register("vc10_b")
    _, outsider = api.register("vc10_x")
    room_id = make_room(api, alice, bob, name="Listed")["id"]
    hidden_id = private_room(api, alice)["id"]

    async def scenario(peers):
        a = peers("alice@gw1", alice, negotiate=False)
        await in_voice(a, gateway(0), room_id)
        await a.call("voice:state", {"roomId": room_id, "muted": True})

        listing = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{room_id}/voice", token=bob["token"])
        assert listing.status_code == 200, listing.text
        assert listing.headers["Content-Type"].startswith("application/json")
        assert listing.json() == {"roomId": room_id, "mode": "mesh", "participants": [participant(a, muted=True)]}

        # Members only: 403 for a public room, 404 for a private one (as for the room itself), 401 without a token.
        for path_room, status in ((room_id, 403), (hidden_id, 404)):
            refused = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{path_room}/voice", token=outsider["token"])
            assert refused.status_code == status, refused.text
            assert refused.json()["code"] in ("FORBIDDEN", "NOT_FOUND") and refused.json()["message"]
        unauthenticated = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{room_id}/voice")
        assert unauthenticated.status_code == 401, unauthenticated.text

        assert await a.call("voice:leave", {"roomId": room_id}) == {"roomId": room_id}
        empty = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{room_id}/voice", token=alice["token"])
        assert empty.status_code == 200 and empty.json()["participants"] == [], empty.text

    run(socket_contract, scenario)


def test_the_edge_does_not_route_internal_paths(api):
    _, alice = api.register("vc11_a")
    # A service's 404 through the edge carries the services' security headers...
    served = api.request("GET", f"/api/v1/rooms/{uuid.uuid4()}/voice/nothing", token=alice["token"])
    assert served.status_code == 404 and "X-Content-Type-Options" in served.headers, served.headers
    # ...the edge's own (its not_found backend) does not: the gateways' and services' internal
    # calls (/internal/...) are never forwarded.
    for method, path in (("POST", "/internal/v1/voice/sessions"), ("GET", "/internal/v1/voice/sessions"),
                         ("PATCH", f"/internal/v1/voice/sessions/{uuid.uuid4()}"), ("GET", "/internal/")):
        response = api.request(method, path, json={} if method != "GET" else None, token=alice["token"])
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"code": "NOT_FOUND", "message": "No such route"}, (method, path)
        assert "X-Content-Type-Options" not in response.headers, (method, path, response.headers)

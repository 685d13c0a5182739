"""A gateway that dies (SIGKILL: no goodbye) takes its sockets' voice sessions with it: everyone
else in the room hears them leave ("disconnected") within 10 s of the kill, their connections to
them close, and the room's voice listing drops them. The gateway is restarted afterwards
(`stack.sh up`, as test_gateway's kill test does), so the tests that run after this file find both
gateways again."""
import asyncio
import os
import signal
import subprocess
import time

import requests

from test_gateway import ROOT, RUN_DIR, STACK, _stack_environment, gateway, make_room
from test_voice import in_voice, left_event, of_session, participant, run
from voice_peer import assert_full_mesh

# The bound: a dead gateway's voice sessions are gone for the others within this.
DEAD_GATEWAY_BOUND = 10


def test_a_killed_gateways_voice_sessions_leave_within_ten_seconds(api, socket_contract):
    with open(os.path.join(RUN_DIR, "gateway-1.pid")) as pid_file:
        pid = int(pid_file.read().strip())
    os.kill(pid, 0)  # it runs
    restart_env = _stack_environment(pid)

    _, alice = api.register("vcd_a")
    _, bob = api.register("vcd_b")
    _, carol = api.register("vcd_c")
    room_id = make_room(api, alice, bob, carol, name="Gateway death")["id"]

    async def scenario(peers):
        a = peers("alice@gw1", alice)
        c = peers("carol@gw1", carol)
        b = peers("bob@gw2", bob)
        for peer, index in ((a, 0), (c, 0), (b, 1)):
            await in_voice(peer, gateway(index), room_id)
        await assert_full_mesh([a, b, c])

        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        for gone in (a, c):
            remaining = killed_at + DEAD_GATEWAY_BOUND - time.monotonic()
            left = await b.next("voice:user_left", where=of_session(gone.session_id), timeout=max(remaining, 0.001))
            assert left == left_event(gone, room_id, "disconnected")
            await b.wait_closed(gone.session_id)
        print(f"bob saw both sessions of the killed gateway leave {time.monotonic() - killed_at:.1f}s after the kill")
        listing = await asyncio.to_thread(api.request, "GET", f"/api/v1/rooms/{room_id}/voice", token=bob["token"])
        assert listing.status_code == 200, listing.text
        assert listing.json()["participants"] == [participant(b)]

    restored = None
    try:
        run(socket_contract, scenario)
    finally:
        restored = subprocess.run(
            [STACK, "up"], env=restart_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert restored.returncode == 0, restored.stdout[-3000:]
    health = requests.get(gateway(0) + "/health", timeout=5)
    assert health.status_code == 200, health.text

"""The gateway of one browser dies (SIGKILL): its "Reconnecting…" banner shows; what the other
browser sends meanwhile, and what this one writes while offline, all show on both once
reconnected (to the other gateway), each once, in order. The killed gateway is restarted
afterwards (`stack.sh up`, as the end-to-end tests do), so the tests after this one find both."""
import os
import signal
import uuid

import requests

from harness import GATEWAY_URLS, gateway_pid, open_room, restart_environment, restart_stack, sign_in


def stored(page):
    return [(m["author"], m["text"]) for m in page.messages() if m["seq"] is not None and m["author"] != "VoiceFlow"]


def offline(page, off):
    page.cdp("Network.emulateNetworkConditions", {"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def gateway_websockets(index):
    """The gateway's open WebSocket connections, from its /metrics."""
    for line in requests.get(f"{GATEWAY_URLS[index - 1]}/metrics", timeout=5).text.splitlines():
        if line.startswith('gateway_sockets{transport="websocket"}'):
            return float(line.split()[-1])
    raise AssertionError(f"gateway-{index} reports no gateway_sockets")


def test_a_killed_gateway_shows_reconnecting_then_catches_up_once_in_order(browsers, api):
    gus = api.register("gus")
    hal = api.register("hal")
    room = api.create_room(gus, f"Crash {uuid.uuid4().hex[:6]}")
    api.join(hal, room)
    pid = gateway_pid(1)
    os.kill(pid, 0)  # it runs
    restart_env = restart_environment(pid)

    before = gateway_websockets(1)
    victim = browsers("gus", gateway=1)
    sign_in(victim, gus)
    open_room(victim, room)
    victim.wait(lambda: victim.banner() == ["", "connected"], "gus never connected")
    assert gateway_websockets(1) >= before + 1, "gus's socket is not on gateway-1"
    other = browsers("hal", gateway=2)
    sign_in(other, hal)
    open_room(other, room)
    other.send("before the crash")
    victim.wait_message("before the crash")

    try:
        os.kill(pid, signal.SIGKILL)
        victim.wait(lambda: victim.banner() == ["Reconnecting…", "reconnecting"], "no \"Reconnecting…\" banner after the gateway died")
        # The outage lasts, for gus, until hal has written everything: his browser is taken off the
        # network meanwhile (else the edge may send him to gateway-2 before hal is done, and some of
        # hal's messages would reach him live instead of by the catch-up).
        victim.cdp("Network.enable")
        offline(victim, True)
        victim.send("written while offline")
        victim.wait(
            lambda: [m["status"] for m in victim.messages() if m["text"] == "written while offline"] == ["queued"],
            "gus's message does not wait for the connection",
        )
        missed = [f"while gus was away {index}" for index in range(5)]
        for text in missed:
            other.send(text)
        other.wait(lambda: [t for _, t in stored(other)][-5:] == missed, "hal's messages are not all stored")
        assert victim.banner()[1] == "reconnecting", "gus reconnected while offline"
        assert other.banner() == ["", "connected"], "hal lost his connection too"
        offline(victim, False)

        victim.wait(lambda: victim.banner() == ["", "connected"], "gus does not reconnect")
        expected = [(hal.username, "before the crash")] + [(hal.username, text) for text in missed] + [(gus.username, "written while offline")]
        for page in (victim, other):
            page.wait(lambda page=page: stored(page) == expected, f"{page.label} does not show every message once, in order")
        seqs = [m["seq"] for m in victim.messages() if m["seq"] is not None]
        assert seqs == sorted(set(seqs)), f"seqs out of order or repeated: {seqs}"
        # Live again: a new message reaches gus, once.
        other.send("welcome back")
        victim.wait(lambda: stored(victim) == expected + [(hal.username, "welcome back")], "gus misses what comes after the reconnect")
    finally:
        restart_stack(restart_env)
    assert gateway_pid(1) != pid
    health = requests.get(f"{GATEWAY_URLS[0]}/health", timeout=5)
    assert health.status_code == 200, health.text

"""A flood of Socket.IO handshakes that are never used is refused, and costs the others nothing.

(Named to run last: every test client shares 127.0.0.1, and the edge's per-address count of
handshakes stays high for ten seconds after the flood.)

Abandoned polling handshakes (the cheapest attack: one GET each, never polled) come from one
address through the edge. The edge counts handshakes per address (EDGE_HANDSHAKES_PER_IP per 10 s,
then 429), and each gateway caps the silent sessions one address holds (SOCKET_MAX_PENDING_PER_ADDRESS,
then 429) until they are dropped at the connect timeout. Meanwhile the gateways stay ready, a socket
already connected keeps working, and once the flood's sessions are gone the address connects again.
"""
import time

import requests
import socketio

from test_gateway import BASE_URL, GATEWAY_URLS, join, make_room, peers, post_message  # noqa: F401 (peers is a fixture)

FLOOD = 500


def test_a_handshake_flood_is_refused_and_the_rest_goes_on(api, peers):
    _, alice = api.register("flood")
    room = make_room(api, alice)
    bystander = peers("bystander", alice["token"])
    bystander.connect(BASE_URL)
    join(bystander, room["id"])

    statuses = {}
    refusals = []
    with requests.Session() as http:
        for _ in range(FLOOD):
            response = http.get(f"{BASE_URL}/socket.io/?EIO=4&transport=polling", timeout=10)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 429:
                refusals.append(response)
    assert statuses.get(200, 0) > 0, statuses
    assert statuses.get(429, 0) > 0, f"{FLOOD} abandoned handshakes were all accepted: {statuses}"
    assert set(statuses) <= {200, 429, 503}, statuses
    for refused in refusals[:5] + refusals[-5:]:
        assert refused.headers.get("Retry-After"), refused.headers
        assert isinstance(refused.json().get("message"), str), refused.text

    # Everyone else goes on: the gateways are ready, the connected socket is served.
    for url in GATEWAY_URLS:
        assert requests.get(url + "/ready", timeout=5).status_code == 200
    post_message(api, alice, room["id"], "during the flood")
    assert bystander.next("message:received")["content"] == "during the flood"

    # The flood's sessions are dropped at the connect timeout; then this address connects again.
    deadline = time.monotonic() + 60
    while True:
        again = peers("after-flood", alice["token"])
        try:
            again.connect(BASE_URL)
            break
        except (socketio.exceptions.ConnectionError, ValueError):
            # ValueError: python-engineio reads the WebSocket closed with 1008 before any open
            # packet (the gateway's "too many pending sessions from this address") as an empty packet.
            again.close()
            assert time.monotonic() < deadline, "the address could not connect again after the flood"
            time.sleep(1)  # between connection attempts, as a client backs off; nothing to await
    join(again, room["id"])

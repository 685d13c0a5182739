"""The stack's TURN server (coturn) on its own: it grants an allocation for a credential signed with
TURN_SECRET, refuses forged and expired ones, and relays the media of voice peers that may use
nothing but it (iceTransportPolicy "relay"). Here the peers' signals go from one to the other
in-process, without a gateway: test_voice.py does the same through the gateways, with the
credentials the signaling service mints."""
import asyncio
import time
import uuid

import pytest

from voice_peer import VoicePeer, assert_full_mesh, turn_allocate, turn_credential, turn_settings

TURN_URLS, TURN_SECRET = turn_settings()
needs_turn = pytest.mark.skipif(not TURN_URLS or not TURN_SECRET, reason="needs the stack's TURN server (`make test` or `make up`)")


@needs_turn
def test_coturn_grants_signed_credentials_and_refuses_forged_and_expired_ones():
    async def scenario():
        user = str(uuid.uuid4())
        now = time.time()
        for url in TURN_URLS:
            username, password = turn_credential(TURN_SECRET, user, now + 600)
            relayed, refused = await turn_allocate(url, username, password)
            assert refused is None and relayed, f"{url}: a credential signed with TURN_SECRET was refused: {refused}"

            # Signed with another secret; the right signature for another username; expired.
            _, forged_password = turn_credential("not the stack's secret", user, now + 600)
            other_name, _ = turn_credential(TURN_SECRET, str(uuid.uuid4()), now + 600)
            expired = turn_credential(TURN_SECRET, user, now - 60)
            for what, credential in (("forged", (username, forged_password)), ("borrowed", (other_name, password)),
                                     ("expired", expired)):
                relayed, refused = await turn_allocate(url, *credential)
                assert relayed is None and refused and refused[0] == 401, f"{url}: the {what} credential got {relayed or refused}"

    asyncio.run(asyncio.wait_for(scenario(), 60))


@needs_turn
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_relay_only_peers_hear_each_other_through_coturn(transport):
    async def scenario():
        peers = {}

        def make(name, tone_hz):
            peer = VoicePeer(name, None, tone_hz=tone_hz, ice_transport_policy="relay", turn_transport=transport)
            user = str(uuid.uuid4())
            username, password = turn_credential(TURN_SECRET, user, time.time() + 600)
            servers = [{"urls": TURN_URLS, "username": username, "credential": password}]

            async def deliver(to, data):
                peers[to].receive_signal({"from": peer.session_id, "userId": peer.user_id, "data": data})

            peer.start_without_gateway(str(uuid.uuid4()), user, servers, deliver)
            peers[peer.session_id] = peer
            return peer

        made = [make("a", 300), make("b", 400), make("c", 500)]
        try:
            # As in voice: each newcomer offers to those already there.
            for index, newcomer in enumerate(made):
                for earlier in made[:index]:
                    newcomer.offer_to(earlier.session_id, earlier.user_id)
            await assert_full_mesh(made, relay_only=True)
        finally:
            for peer in made:
                await peer.close()

    asyncio.run(asyncio.wait_for(scenario(), 90))

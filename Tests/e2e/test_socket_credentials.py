"""Sockets do not outlive their credentials: an access token that expires without `auth:refresh`
ends its socket with `error TOKEN_EXPIRED`, and a login session that is signed out or revoked
ends its sockets with `error SESSION_ENDED`; both are server disconnects.

Short-lived tokens are signed here with the local stack's development key (the stack's state
directory), exactly as auth signs them but with an expiry a few seconds away.
"""
import os
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from test_gateway import RUN_DIR, gateway, join, make_room, peers, post_message  # noqa: F401 (peers is a fixture)

STATE_DIR = os.environ.get("VOICEFLOW_STATE_DIR") or os.path.dirname(os.path.abspath(RUN_DIR))
KEY_FILE = os.path.join(STATE_DIR, "keys", "jwt-ed25519.pem")


def short_lived(token, seconds):
    """`token` re-signed with an expiry `seconds` from now (same user, same login session)."""
    with open(KEY_FILE, "rb") as pem:
        key = load_pem_private_key(pem.read(), password=None)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now, exp=now + seconds, jti=str(uuid.uuid4()))
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": header["kid"]})


def await_disconnect(peer, timeout=10):
    deadline = time.monotonic() + timeout
    while peer.sio.connected:
        assert time.monotonic() < deadline, f"{peer.name} is still connected"
        peer.sio.sleep(0.05)  # polling the client's state; the server's disconnect is what is awaited


@pytest.fixture(scope="module", autouse=True)
def needs_the_stack_key():
    if not os.path.isfile(KEY_FILE):
        pytest.skip(f"no development key at {KEY_FILE} (the stack runs with a configured key)")


def test_a_socket_whose_token_expires_is_told_and_disconnected_unless_it_refreshed(api, peers):
    _, alice = api.register("expiry")
    expiring = short_lived(alice["token"], 3)
    refreshed = peers("refreshed", expiring)
    refreshed.connect(gateway(0))
    forgotten = peers("forgotten", expiring)
    forgotten.connect(gateway(1))
    # One of them refreshes with a token that lives on; the other does not.
    assert refreshed.call("auth:refresh", {"token": alice["token"]}) == {"ok": True}

    error = forgotten.next("error", where=lambda body: body.get("code") == "TOKEN_EXPIRED")
    assert error["message"]
    await_disconnect(forgotten)
    # Both tokens had the same expiry: the refreshed socket is past it and still served.
    room = make_room(api, alice)
    join(refreshed, room["id"])
    post_message(api, alice, room["id"], "still here")
    assert refreshed.next("message:received")["content"] == "still here"
    assert refreshed.drain("error") == []


def test_signing_out_ends_the_sockets_of_that_login_only(api, peers):
    credentials, first_login = api.register("signout")
    second = api.request("POST", "/api/v1/auth/login", json={"email": credentials["email"], "password": credentials["password"]})
    assert second.status_code == 200, second.text
    second_login = second.json()
    ending = peers("ending", first_login["token"])
    ending.connect(gateway(0))
    ending_elsewhere = peers("ending-elsewhere", first_login["token"])
    ending_elsewhere.connect(gateway(1))
    staying = peers("staying", second_login["token"])
    staying.connect(gateway(1))

    logout = api.request("POST", "/api/v1/auth/logout", json={"refreshToken": first_login["refreshToken"]})
    assert logout.status_code == 200, logout.text

    for peer in (ending, ending_elsewhere):
        error = peer.next("error", where=lambda body: body.get("code") == "SESSION_ENDED")
        assert error["message"]
        await_disconnect(peer)
    room = make_room(api, second_login)
    join(staying, room["id"])
    post_message(api, second_login, room["id"], "the other login goes on")
    assert staying.next("message:received")["content"] == "the other login goes on"
    assert staying.drain("error") == []


def test_a_reused_refresh_token_ends_the_sockets_of_its_login(api, peers):
    _, login = api.register("reuse")
    peer = peers("victim", login["token"])
    peer.connect(gateway(0))
    first = api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": login["refreshToken"]})
    assert first.status_code == 200, first.text
    # The same refresh token again: theft is assumed, the whole login is revoked.
    again = api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": login["refreshToken"]})
    assert again.status_code == 401, again.text
    assert again.json()["code"] == "REFRESH_TOKEN_REUSED"
    error = peer.next("error", where=lambda body: body.get("code") == "SESSION_ENDED")
    assert error["message"]
    await_disconnect(peer)

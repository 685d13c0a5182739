"""Email through the edge, over SMTP, to the test stack's SMTP sink (aiosmtpd; `make test` starts it
and sets VOICEFLOW_MAILDIR): the welcome email on registration, and the confirmation of a change of
e-mail address (a token to the new address, a notice without one to an address that is taken)."""
import email
import email.policy
import glob
import json
import os
import re
import time
import uuid

import pytest

MAIL_DIR = os.environ.get("VOICEFLOW_MAILDIR")

pytestmark = pytest.mark.skipif(not MAIL_DIR, reason="needs the SMTP sink started by `make test`")


def messages_to(address):
    """Messages the sink holds for `address` (parsed), oldest first."""
    found = []
    for sidecar in sorted(glob.glob(os.path.join(MAIL_DIR, "*.json")), key=lambda p: int(os.path.basename(p)[:-5])):
        eml = sidecar[:-5] + ".eml"
        if not os.path.exists(eml):
            continue  # the message file is renamed into place after its envelope
        with open(sidecar) as handle:
            envelope = json.load(handle)
        if address in envelope["rcpt_tos"]:
            with open(eml, "rb") as handle:
                found.append((envelope, email.message_from_bytes(handle.read(), policy=email.policy.default)))
    return found


def wait_for_messages(address, count=1, deadline_seconds=60):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        found = messages_to(address)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no email for {address} within {deadline_seconds}s (sink: {MAIL_DIR})")


def test_registering_sends_exactly_one_welcome_email(api):
    credentials, session = api.register("mail")
    [(envelope, message)] = wait_for_messages(credentials["email"])
    assert envelope["rcpt_tos"] == [credentials["email"]]
    assert message["To"] == credentials["email"]
    assert str(message["Subject"]) == f"Welcome to VoiceFlow, {credentials['username']}"
    assert message["Message-ID"] and message["Date"]
    body = message.get_content()
    assert f"Hi {credentials['username']}," in body
    assert "Your account is ready" in body
    # The password never travels by email.
    assert credentials["password"] not in message.as_string()

    # Logging in (or anything else) does not send another one.
    response = api.request("POST", "/api/v1/auth/login", json={"email": credentials["email"], "password": credentials["password"]})
    assert response.status_code == 200
    other, _ = api.register("mail")
    wait_for_messages(other["email"])  # a later email went out, so ours had its chance to repeat
    assert len(messages_to(credentials["email"])) == 1


def test_a_new_address_is_confirmed_by_the_token_mailed_to_it(api):
    credentials, session = api.register("move")
    holder, _ = api.register("hold")
    wait_for_messages(holder["email"])  # the holder's welcome, so the notice below is the second
    path = f"/api/v1/users/{session['user']['id']}"
    new_email = f"moved.{uuid.uuid4().hex[:12]}@example.com"

    # The same answer for a free and a taken address.
    answers = []
    for address in (new_email, holder["email"]):
        response = api.request("PATCH", path, json={"email": address}, token=session["token"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["email"] == credentials["email"] and body["pendingEmail"] == address
        answers.append(sorted(body))
    assert answers[0] == answers[1]

    # The holder learns of the attempt, without any token.
    notices = wait_for_messages(holder["email"], count=2)
    notice = notices[-1][1].get_content()
    assert "confirm-email" not in notice

    # The latest request replaced the first, so ask again for the free address and use its token.
    response = api.request("PATCH", path, json={"email": new_email}, token=session["token"])
    assert response.status_code == 200
    [_, (envelope, message)] = wait_for_messages(new_email, count=2)
    assert envelope["rcpt_tos"] == [new_email]
    token = re.search(r"#confirm-email=([A-Za-z0-9_-]{43})", message.get_content()).group(1)
    confirmed = api.request("POST", "/api/v1/auth/confirm-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == new_email
    assert api.request("GET", "/api/v1/users/me", token=session["token"]).json()["email"] == new_email
    again = api.request("POST", "/api/v1/auth/confirm-email", json={"token": token})
    assert again.status_code == 422 and again.json()["code"] == "VALIDATION_FAILED"

"""Welcome email: registering through the edge makes the jobs service send one, over SMTP, to the
test stack's SMTP sink (aiosmtpd; `make test` starts it and sets VOICEFLOW_MAILDIR)."""
import email
import email.policy
import glob
import json
import os
import time

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
    raise AssertionError(f"no welcome email for {address} within {deadline_seconds}s (sink: {MAIL_DIR})")


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


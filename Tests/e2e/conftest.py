"""Shared fixtures for the end-to-end tests: they talk to a running stack through its edge."""
import os
import uuid
from datetime import datetime

import jsonschema
import pytest
import requests
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

BASE_URL = os.environ.get("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080")


class Api:
    """A thin JSON client for the edge."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def request(self, method, path, json=None, token=None, headers=None, data=None, timeout=30):
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.base_url + path, json=json, data=data, headers=all_headers, timeout=timeout
        )

    def register(self, prefix="e2e"):
        suffix = uuid.uuid4().hex[:10]
        credentials = {
            "username": f"{prefix}_{suffix}"[:20],
            "email": f"{prefix}.{suffix}@example.com",
            "password": f"correct horse {suffix}",
        }
        response = self.request(
            "POST",
            "/api/v1/auth/register",
            json={**credentials, "confirmPassword": credentials["password"]},
        )
        assert response.status_code == 201, response.text
        return credentials, response.json()


@pytest.fixture
def api():
    return Api(BASE_URL)


def assert_error(response, status, code=None):
    """Every error is the status plus {"code", "message"}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body


# ---------------------------------------------------------------- the socket protocol's contract


class SocketContract:
    """The socket protocol's AsyncAPI document (`GET /api/v1/asyncapi.json`), to check every event
    and acknowledgement the gateway sends against it. Payload schemas are AsyncAPI schemas, a
    superset of JSON Schema draft 7; `$ref`s resolve within the document."""

    URI = "urn:voiceflow:asyncapi"

    def __init__(self, document):
        self.document = document
        registry = Registry().with_resource(self.URI, Resource.from_contents(document, default_specification=DRAFT7))
        formats = jsonschema.FormatChecker()
        # jsonschema checks date-time only with an extra package: RFC 3339 by hand.
        formats.checks("date-time", raises=ValueError)(_is_date_time)

        def validator(*pointers):
            refs = [{"$ref": f"{self.URI}#{pointer}"} for pointer in pointers]
            schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
            return jsonschema.Draft7Validator(schema, registry=registry, format_checker=formats)

        self.server_events = {}  # event name -> validator of its payload
        self.acks = {}  # client event name -> validator of its acknowledgement
        for operation in document["operations"].values():
            (message,) = operation["messages"]
            name, payload = self._message(message["$ref"])
            if operation["action"] == "send":
                self.server_events[name] = validator(payload)
            else:
                replies = [self._message(reply["$ref"])[1] for reply in operation["reply"]["messages"]]
                self.acks[name] = validator(*replies)
        # An event the protocol does not have fails like any other: with an AckFailure.
        self.unknown_event_ack = validator(self._message("#/channels/socket/messages/ackFailure")[1])
        channel = document["channels"]["socket"]
        self.connect_error = validator(channel["x-socketio-connect"]["error"]["$ref"].removeprefix("#"))

    def _message(self, ref):
        """(name, JSON pointer of the payload) of the message at `ref`, following references."""
        pointer = ref.removeprefix("#")
        message = self._resolve(pointer)
        while "$ref" in message:
            pointer = message["$ref"].removeprefix("#")
            message = self._resolve(pointer)
        return message["name"], pointer + "/payload"

    def _resolve(self, pointer):
        node = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def event_problems(self, event, args):
        """What is wrong with a server event `event` that came with `args` (empty: nothing)."""
        validator = self.server_events.get(event)
        if validator is None:
            return [f"{event!r} is not a server event of the socket protocol"]
        return _problems(validator, args, f"event {event!r}")

    def ack_problems(self, event, args):
        """What is wrong with the acknowledgement `args` of the client event `event`."""
        return _problems(self.acks.get(event, self.unknown_event_ack), args, f"ack of {event!r}")

    def connect_error_problems(self, data):
        """What is wrong with the payload of a CONNECT_ERROR packet."""
        return _problems(self.connect_error, [data], "connect_error")


def _is_date_time(value):
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError("no time")
    return datetime.fromisoformat(value.replace("z", "Z")).tzinfo is not None


def _problems(validator, args, what):
    if len(args) != 1:
        return [f"{what}: {len(args)} arguments instead of one: {args!r:.300}"]
    return [
        f"{what}: {'/'.join(str(part) for part in error.absolute_path) or '(payload)'}: {error.message} in {args[0]!r:.500}"
        for error in validator.iter_errors(args[0])
    ]


def fetch_socket_contract(api):
    response = api.request("GET", "/api/v1/asyncapi.json")
    assert response.status_code == 200, response.text
    return SocketContract(response.json())


@pytest.fixture(scope="session")
def socket_contract():
    """The socket protocol's document, fetched through the edge once per test session."""
    return fetch_socket_contract(Api(BASE_URL))

r"""Text that must not be blank (an email, a room's name, a message) is refused when it holds only
white space, whichever white space: every Unicode White_Space scalar and U+200B, which the services
trim. The API description says the same: its pattern for those fields refuses each of them too, so
a client (or a fuzzer) that trusts the description is never refused what it allows, nor allowed
what it is refused: the pattern names the white space the services trim, rather than `\s`, which
means other things to ECMA-262 (JSON Schema) and to Python."""
import uuid

import jsonschema
import pytest

from conftest import BASE_URL, Api, assert_error

# Unicode's White_Space property (PropList.txt), and U+200B ZERO WIDTH SPACE, which Foundation's
# `whitespacesAndNewlines` also holds.
BLANKS = [chr(c) for c in (*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
                           0x202F, 0x205F, 0x3000, 0x200B)]


@pytest.fixture(scope="module")
def client():
    return Api(BASE_URL)


@pytest.fixture(scope="module")
def description(client):
    response = client.request("GET", "/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def body_property(description, path, method, name):
    """The schema of property `name` of the JSON body of `method path`, as the description gives it."""
    schema = description["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = description["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema["properties"][name]


def description_allows(schema, value):
    """Whether `value` is valid for the property's schema, formats checked (jsonschema)."""
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).is_valid(value)


@pytest.fixture(scope="module")
def owner(client):
    return client.register("blank")[1]


@pytest.fixture(scope="module")
def room(client, owner):
    response = client.request("POST", "/api/v1/rooms", json={"name": "Blank text"}, token=owner["token"])
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def message(client, owner, room):
    response = client.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "first"}, token=owner["token"])
    assert response.status_code == 201, response.text
    return response.json()


def attempts(api, owner, room, message):
    """Per field: where the description has its schema, and the request that sends `text` in it."""
    def register(text):
        suffix = uuid.uuid4().hex[:10]
        return api.request("POST", "/api/v1/auth/register", json={
            "username": f"blank_{suffix}", "email": text, "password": "correct horse battery", "confirmPassword": "correct horse battery"})

    return [
        (("/api/v1/auth/register", "post", "email"), register),
        (("/api/v1/rooms", "post", "name"), lambda text: api.request("POST", "/api/v1/rooms", json={"name": text}, token=owner["token"])),
        (("/api/v1/rooms/{id}", "patch", "name"),
         lambda text: api.request("PATCH", f"/api/v1/rooms/{room['id']}", json={"name": text}, token=owner["token"])),
        (("/api/v1/messages", "post", "content"),
         lambda text: api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": text}, token=owner["token"])),
        (("/api/v1/messages/{id}", "patch", "content"),
         lambda text: api.request("PATCH", f"/api/v1/messages/{message['id']}", json={"content": text}, token=owner["token"])),
    ]


@pytest.mark.parametrize("field", range(5), ids=["register email", "room name", "room rename", "message", "message edit"])
def test_white_space_alone_is_refused_by_the_service_and_the_description(api, description, owner, room, message, field):
    (path, method, name), send = attempts(api, owner, room, message)[field]
    schema = body_property(description, path, method, name)
    stored = history_total(api, owner, room)
    for blank in BLANKS:
        for text in (blank, blank * 3):
            assert not description_allows(schema, text), f"the description allows {text!r} for {name} of {method} {path}"
            assert_error(send(text), 400, "VALIDATION_FAILED")
    # The refused ones stored nothing.
    assert history_total(api, owner, room) == stored
    # Neighbours of white space that the services do not trim (separators U+001C-U+001F, which
    # Python's `\s` matches, and U+FEFF, which ECMA-262's `\s` matches) are text to both.
    if name != "email":
        for text in ("\x1c", "\x1f", "\ufeff"):
            assert description_allows(schema, text), f"the description refuses {text!r} for {name} of {method} {path}"
            assert send(text).status_code in (200, 201)
    # Text around the white space is fine to both (for the email, a valid address).
    text = f" blank.{uuid.uuid4().hex[:8]}@example.com\u00a0" if name == "email" else "\u3000a\u2003b\u200b"
    assert description_allows(schema, text)
    accepted = send(text)
    assert accepted.status_code in (200, 201), accepted.text


def history_total(api, owner, room):
    response = api.request("GET", f"/api/v1/rooms/{room['id']}/messages?limit=1", token=owner["token"])
    assert response.status_code == 200, response.text
    return response.json()["total"]

"""The socket protocol's AsyncAPI document, served by the edge, and the checker the gateway tests use."""

ROOM = "0b7e6f3a-2c1d-4e5f-8a9b-0c1d2e3f4a5b"
USER = "1c8f7a4b-3d2e-4f60-9bac-1d2e3f4a5b6c"


def test_the_edge_serves_the_socket_protocol_as_asyncapi_3(api):
    response = api.request("GET", "/api/v1/asyncapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"]["edge"]["pathname"] == "/socket.io/"
    actions = {operation["action"] for operation in document["operations"].values()}
    assert actions == {"send", "receive"}
    # Every client event has an acknowledgement: the success type or the failure.
    for operation in document["operations"].values():
        if operation["action"] == "receive":
            assert len(operation["reply"]["messages"]) == 2, operation


def test_the_checker_tells_conforming_events_from_others(socket_contract):
    contract = socket_contract
    typing = {"roomId": ROOM, "userId": USER, "username": "alice"}
    assert contract.event_problems("user:typing", (typing,)) == []
    # A missing field, an extra one, a wrong format, a wrong enum value, a second argument.
    assert contract.event_problems("user:typing", ({"roomId": ROOM, "userId": USER},))
    assert contract.event_problems("user:typing", ({**typing, "extra": 1},))
    assert contract.event_problems("user:typing", ({**typing, "roomId": "not-a-uuid"},))
    assert contract.event_problems("user:typing", ({**typing, "roomId": ROOM.upper()},))
    assert contract.event_problems("user:presence_changed", ({"userId": USER, "status": "invisible"},))
    assert contract.event_problems("user:typing", (typing, typing))
    assert contract.event_problems("room:user_left", ({"roomId": ROOM, "userId": USER, "timestamp": "yesterday"},))
    assert contract.event_problems("room:user_left", ({"roomId": ROOM, "userId": USER, "timestamp": "2026-01-31T12:00:00Z"},)) == []
    # An event the document does not have.
    assert contract.event_problems("room:exploded", ({"roomId": ROOM},))

    # Acknowledgements: the success type or {error: {code, message}}, nothing else.
    assert contract.ack_problems("typing:start", ({"roomId": ROOM},)) == []
    assert contract.ack_problems("typing:start", ({"error": {"code": "FORBIDDEN", "message": "Join the room first"}},)) == []
    assert contract.ack_problems("typing:start", ({"error": {"code": "NO_SUCH_CODE", "message": "?"}},))
    assert contract.ack_problems("typing:start", ({"status": "online"},))
    assert contract.ack_problems("auth:refresh", ({"ok": False},))
    assert contract.ack_problems("room:explode", ({"error": {"code": "NOT_FOUND", "message": "Unknown event"}},)) == []
    assert contract.ack_problems("room:explode", ({"roomId": ROOM},))

    assert contract.connect_error_problems({"message": "Authentication required", "data": {"code": "UNAUTHORIZED"}}) == []
    assert contract.connect_error_problems({"message": "Authentication required"})

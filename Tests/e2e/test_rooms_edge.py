"""Rooms through the edge: two users, one creates, the other joins by code."""
import uuid

from conftest import assert_error


def test_two_users_share_a_room(api):
    _, alice = api.register("alice")
    _, bob = api.register("bob")
    created = api.request(
        "POST", "/api/v1/rooms", json={"name": "Team sync", "maxUsers": 5, "settings": {"isPublic": False}}, token=alice["token"]
    )
    assert created.status_code == 201, created.text
    room = created.json()
    assert room["participants"][0]["role"] == "admin"
    assert "email" not in room["participants"][0]

    assert_error(api.request("GET", f"/api/v1/rooms/{room['id']}", token=bob["token"]), 404)
    joined = api.request("POST", f"/api/v1/rooms/{room['code'].lower()}/join", token=bob["token"])
    assert joined.status_code == 200, joined.text
    assert {p["userId"] for p in joined.json()["participants"]} == {alice["user"]["id"], bob["user"]["id"]}

    mine = api.request("GET", "/api/v1/rooms?limit=10", token=bob["token"]).json()
    assert [r["id"] for r in mine["data"]] == [room["id"]]
    assert mine["total"] == 1 and mine["hasMore"] is False

    assert_error(api.request("PATCH", f"/api/v1/rooms/{room['id']}", json={"name": "Bob's"}, token=bob["token"]), 403, "FORBIDDEN")
    assert_error(api.request("DELETE", f"/api/v1/rooms/{room['id']}", token=bob["token"]), 403)
    assert_error(api.request("PATCH", f"/api/v1/rooms/{room['id']}", json={"maxUsers": 1}, token=alice["token"]), 400)

    left = api.request("POST", f"/api/v1/rooms/{room['id']}/leave", token=alice["token"])
    assert left.status_code == 200
    members = api.request("GET", f"/api/v1/rooms/{room['id']}/members", token=bob["token"]).json()["members"]
    assert [(m["userId"], m["role"]) for m in members] == [(bob["user"]["id"], "admin")]


def test_room_routes_need_a_token_and_valid_input(api):
    assert_error(api.request("GET", "/api/v1/rooms"), 401, "UNAUTHORIZED")
    _, user = api.register("rin")
    assert_error(api.request("POST", "/api/v1/rooms", json={"name": ""}, token=user["token"]), 400, "VALIDATION_FAILED")
    assert_error(api.request("GET", "/api/v1/rooms?limit=1000", token=user["token"]), 400)
    assert_error(api.request("GET", f"/api/v1/rooms/{uuid.uuid4()}", token=user["token"]), 404)
    assert_error(api.request("POST", "/api/v1/rooms/ZZZZ9999/join", token=user["token"]), 404)

"""Messages through the edge: the rooms-and-messages "done means" as two users would try it."""
import uuid

from conftest import assert_error


def test_two_users_chat_and_page_through_history(api):
    _, alice = api.register("chat_a")
    _, bob = api.register("chat_b")
    room = api.request("POST", "/api/v1/rooms", json={"name": "Chat", "settings": {"isPublic": False}}, token=alice["token"]).json()
    assert api.request("POST", f"/api/v1/rooms/{room['code']}/join", token=bob["token"]).status_code == 200

    sent = []
    for index in range(105):
        author = alice if index % 2 == 0 else bob
        response = api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": f"message {index}"}, token=author["token"])
        assert response.status_code == 201, response.text
        sent.append(response.json())
    assert [m["seq"] for m in sent] == list(range(1, 106))
    assert sent[1]["author"]["id"] == bob["user"]["id"]

    # Backwards with `before`: every message once, newest first.
    seen, before = [], None
    while True:
        query = f"limit=20&before={before}" if before else "limit=20"
        page = api.request("GET", f"/api/v1/rooms/{room['id']}/messages?{query}", token=bob["token"]).json()
        seen += [m["seq"] for m in page["data"]]
        if not page["hasMore"]:
            break
        before = page["data"][-1]["seq"]
    assert seen == list(range(105, 0, -1))
    assert page["total"] == 105

    # Forwards with `after`: catching up from seq 90.
    caught = api.request("GET", f"/api/v1/rooms/{room['id']}/messages?after=90&limit=100", token=alice["token"]).json()
    assert [m["seq"] for m in caught["data"]] == list(range(91, 106))

    # Edits: author only. Deletes: author or room admin.
    bobs = sent[1]["id"]
    assert_error(api.request("PATCH", f"/api/v1/messages/{bobs}", json={"content": "edited by alice"}, token=alice["token"]), 403)
    edited = api.request("PATCH", f"/api/v1/messages/{bobs}", json={"content": "edited"}, token=bob["token"])
    assert edited.status_code == 200 and edited.json()["editedAt"]
    assert_error(api.request("DELETE", f"/api/v1/messages/{sent[0]['id']}", token=bob["token"]), 403)
    assert api.request("DELETE", f"/api/v1/messages/{bobs}", token=alice["token"]).status_code == 200


def test_outsiders_read_nothing_of_a_private_room(api):
    _, owner = api.register("priv_o")
    _, outsider = api.register("priv_x")
    room = api.request("POST", "/api/v1/rooms", json={"name": "Secret", "settings": {"isPublic": False}}, token=owner["token"]).json()
    api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "classified"}, token=owner["token"])
    assert_error(api.request("GET", f"/api/v1/rooms/{room['id']}/messages", token=outsider["token"]), 404)
    assert_error(api.request("GET", f"/api/v1/rooms/{room['id']}", token=outsider["token"]), 404)
    assert_error(api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "hi"}, token=outsider["token"]), 404)
    assert_error(api.request("GET", f"/api/v1/rooms/{uuid.uuid4()}/messages", token=outsider["token"]), 404)
    assert_error(api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": ""}, token=owner["token"]), 400)


def test_files_are_uploaded_shared_and_protected(api):
    _, alice = api.register("file_a")
    _, bob = api.register("file_b")
    content = b"%PDF-1.4\n" + bytes(range(256)) * 40
    upload = api.session.post(
        api.base_url + "/api/v1/files",
        files={"file": ("report.pdf", content, "application/pdf")},
        headers={"Authorization": f"Bearer {alice['token']}"},
        timeout=30,
    )
    assert upload.status_code == 201, upload.text
    file = upload.json()
    assert file["size"] == len(content) and file["mimeType"] == "application/pdf"

    assert_error(api.request("GET", file["url"], token=bob["token"]), 404)
    room = api.request("POST", "/api/v1/rooms", json={"name": "Files"}, token=alice["token"]).json()
    api.request("POST", f"/api/v1/rooms/{room['code']}/join", token=bob["token"])
    shared = api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "report", "fileId": file["id"]}, token=alice["token"])
    assert shared.status_code == 201 and shared.json()["file"]["id"] == file["id"]
    download = api.request("GET", file["url"], token=bob["token"])
    assert download.status_code == 200 and download.content == content

    bad = api.session.post(
        api.base_url + "/api/v1/files",
        files={"file": ("tool.exe", b"MZ...", "application/x-msdownload")},
        headers={"Authorization": f"Bearer {alice['token']}"},
        timeout=30,
    )
    assert_error(bad, 415)


def test_download_names_are_rfc8187_with_an_ascii_fallback(api):
    _, alice = api.register("name_a")
    upload = api.session.post(
        api.base_url + "/api/v1/files",
        files={"file": ("Über plan ✓.txt", b"hello", "text/plain")},
        headers={"Authorization": f"Bearer {alice['token']}"},
        timeout=30,
    )
    assert upload.status_code == 201, upload.text
    download = api.request("GET", upload.json()["url"], token=alice["token"])
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith('attachment; filename="_ber plan _.txt"; ')
    assert disposition.endswith("filename*=UTF-8''%C3%9Cber%20plan%20%E2%9C%93.txt")


def test_deep_pages_are_answered_and_bounded(api):
    _, alice = api.register("deep_a")
    room = api.request("POST", "/api/v1/rooms", json={"name": "Deep"}, token=alice["token"]).json()
    for index in range(3):
        sent = api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": f"m{index}"}, token=alice["token"])
        assert sent.status_code == 201, sent.text
    history = f"/api/v1/rooms/{room['id']}/messages"
    deepest = api.request("GET", f"{history}?page=100000&limit=100", token=alice["token"])
    assert deepest.status_code == 200, deepest.text
    assert deepest.json() == {"data": [], "total": 3, "hasMore": False}
    assert_error(api.request("GET", f"{history}?page=100001&limit=100", token=alice["token"]), 400, "VALIDATION_FAILED")
    assert_error(api.request("GET", f"{history}?before=3&after=1", token=alice["token"]), 422, "VALIDATION_FAILED")
    refused = api.request(
        "POST", "/api/v1/messages", json={"roomId": room["id"], "content": "x", "fileId": str(uuid.uuid4())}, token=alice["token"]
    )
    assert_error(refused, 422, "VALIDATION_FAILED")
    assert_error(api.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": "x", "fileId": None}, token=alice["token"]), 400)

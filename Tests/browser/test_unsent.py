"""What the user wrote and the server has not confirmed outlives a reload of the tab: a message
never emitted goes out by itself after the reload, one emitted without an ack waits, marked, for
the user to retry (it may have arrived), and nothing is sent twice."""
import json
import uuid

from selenium.webdriver.common.by import By

from harness import Api, open_room, sign_in


def saved_item(room, content, attempts):
    return {"clientId": str(uuid.uuid4()), "roomId": room["id"], "content": content, "type": "text",
            "createdAt": "2026-12-01T12:00:00.000Z", "status": "sending" if attempts else "queued", "attempts": attempts}


def pending_row(page, text):
    return page.wait(
        lambda: next((row for row in page.driver.find_elements(By.CSS_SELECTOR, "[role=log] article.message-pending")
                      if text in row.text), None),
        f"no pending row for {text!r}")


def test_unsent_messages_survive_a_reload_and_none_goes_twice(browsers):
    api = Api()
    owner = api.register("unsent")
    room = api.create_room(owner, f"Unsent {uuid.uuid4().hex[:6]}")
    key = f"voiceflow:outbox:{owner.id}"
    never_sent, maybe_sent = "written just before the tab reloaded", "emitted, its ack never came"

    page = browsers("ann")
    sign_in(page, owner, f"/rooms/{room['id']}")
    open_room(page, room)
    # What the page that reloaded left in this tab's storage.
    page.js("sessionStorage.setItem(arguments[0], arguments[1])", key,
            json.dumps([saved_item(room, never_sent, 0), saved_item(room, maybe_sent, 1)]))
    page.driver.refresh()
    page.heading(room["name"])

    # The one never emitted goes out by itself; the other waits for the user.
    page.wait_message(never_sent)
    row = pending_row(page, maybe_sent)
    assert row.get_attribute("data-status") == "failed", row.get_attribute("data-status")
    assert "Not confirmed before the page closed" in row.text, row.text

    # What is saved now is what is still unsent: another reload sends nothing twice.
    def saved():
        return page.js("return sessionStorage.getItem(arguments[0])", key) or ""

    page.wait(lambda: maybe_sent in saved() and never_sent not in saved(), "the tab's saved outbox still holds the sent message")
    page.driver.refresh()
    page.heading(room["name"])
    row = pending_row(page, maybe_sent)
    row.find_element(By.XPATH, ".//button[normalize-space()='Retry']").click()
    page.wait_message(maybe_sent)
    page.wait(lambda: saved() == "", "the saved outbox stays after everything was sent")

    contents = [message["content"] for message in api.messages(owner, room)["data"]]
    assert contents.count(never_sent) == 1 and contents.count(maybe_sent) == 1, contents

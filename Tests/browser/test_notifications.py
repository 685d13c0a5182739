"""A desktop notification is raised for a message in a room that is not in view (and none for the
room that is): permission comes from the browser profile (notifications allowed), the app turns
them on from a click in its settings; what the page raises is recorded by wrapping
window.Notification before the app loads."""
import re
import uuid

from selenium.webdriver.common.keys import Keys

from harness import sign_in


def notifications(page):
    return page.js("return window.__notifications.map((n) => [n.title, n.body])")


def test_a_message_in_a_room_not_in_view_raises_a_desktop_notification(browsers, api):
    ivy = api.register("ivy")
    jon = api.register("jon")
    suffix = uuid.uuid4().hex[:6]
    here = api.create_room(ivy, f"Here {suffix}")
    there = api.create_room(ivy, f"There {suffix}")
    for room in (here, there):
        api.join(jon, room)

    page = browsers("ivy", record_notifications=True)
    sign_in(page, ivy)
    assert page.js("return Notification.permission") == "granted", "the profile does not allow notifications"
    assert notifications(page) == []

    # Turned on from the settings (the browser asks nothing: the profile allows them).
    page.click("Settings")
    dialog = page.get("dialog", "Settings")
    page.click("Enable desktop notifications", within=dialog)
    page.get("button", "Turn off desktop notifications", within=dialog)
    dialog.send_keys(Keys.ESCAPE)
    page.absent("dialog", "Settings")

    # The room in view: its messages notify nobody.
    page.click(here["name"], role="link", within=page.get("navigation", "Rooms"))
    page.heading(here["name"])
    api.post(jon, here, "a message in view")
    page.wait_message("a message in view")

    api.post(jon, there, "a message elsewhere")
    page.wait(lambda: notifications(page), "no desktop notification")
    assert notifications(page) == [[f"{jon.username} in {there['name']}", "a message elsewhere"]]
    # The room not in view counts it as unread, in the sidebar and the tab's title.
    page.get("link", re.compile(rf"^{re.escape(there['name'])}, 1 unread$"), within=page.get("navigation", "Rooms"))
    assert page.driver.title == f"(1) {here['name']} · VoiceFlow"

    # Opening that room reads it: no unread count left, and nothing more is raised.
    page.click(re.compile(rf"^{re.escape(there['name'])}\b"), role="link", within=page.get("navigation", "Rooms"))
    page.wait_message("a message elsewhere")
    page.wait(lambda: page.driver.title == f"{there['name']} · VoiceFlow", f"the title still counts unread messages: {page.driver.title!r}")
    page.get("link", there["name"], within=page.get("navigation", "Rooms"))
    # While in view, its messages raise nothing; the room left behind now would.
    api.post(jon, there, "another one here")
    page.wait_message("another one here")
    api.post(jon, here, "one in the other room")
    page.wait(lambda: len(notifications(page)) == 2, "no notification for the room left behind")
    assert notifications(page)[1] == [f"{jon.username} in {here['name']}", "one in the other room"]

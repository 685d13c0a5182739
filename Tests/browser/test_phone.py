"""The phone layout (390×844, touch): a guest opens an invite link, and from the rooms drawer goes
home and back to the room, sees the members drawer, and sends a message."""
import uuid

from harness import PHONE


def test_the_phone_layout_reaches_a_room_from_the_drawer_and_sends(browsers, api):
    kim = api.register("kim")
    room = api.create_room(
        kim,
        f"Pocket {uuid.uuid4().hex[:6]}",
        settings={"isPublic": False, "allowGuests": True, "requireApproval": False, "recordMessages": True},
    )
    api.post(kim, room, "Welcome, phone people")
    chosen = f"guest_{uuid.uuid4().hex[:8]}"

    phone = browsers("phone", size=PHONE, phone=True)
    phone.open(f"/join/{room['code']}")
    phone.click("Guest", role="tab")
    phone.fill("Username", chosen)
    phone.click("Continue as guest")
    phone.heading(room["name"])
    # A guest's name is the chosen one with a suffix that keeps it unique.
    guest = phone.js("return document.querySelector('.user-panel .user-name strong').textContent")
    assert guest.startswith(chosen[:10]) and guest != chosen, guest
    assert phone.js("return document.querySelector('.shell').dataset.layout") == "phone"
    assert phone.js("return window.innerWidth") == PHONE[0]
    phone.wait_message("Welcome, phone people")

    # The sidebar is a closed drawer: its rooms are off screen until "Open rooms".
    assert not phone.find_all("navigation", "Rooms"), "the rooms sidebar shows beside the room on a phone"
    menu = phone.click("Open rooms")
    rooms = phone.get("navigation", "Rooms")
    assert menu.get_attribute("aria-expanded") == "true"
    phone.click("VoiceFlow home", role="link")
    phone.heading(f"Hello, {guest}")
    phone.absent("navigation", "Rooms")

    # Back to the room through the drawer.
    phone.click("Open rooms")
    rooms = phone.get("navigation", "Rooms")
    phone.click(room["name"], role="link", within=rooms)
    phone.heading(room["name"])
    phone.absent("navigation", "Rooms")

    # The members drawer lists the room's owner.
    phone.click("Show members")
    members = phone.get("region", "Members")
    phone.wait(lambda: phone.member(kim.username) is not None, "the members drawer does not list the owner")
    phone.click("Close members", within=members)
    phone.absent("region", "Members")

    # Sending works with the phone's Send button (its text is visually hidden; the name stays).
    phone.send("Sent from a phone", press_enter=False)
    phone.wait_message("Sent from a phone")
    newest = max(api.messages(kim, room)["data"], key=lambda message: message["seq"])
    assert (newest["author"]["username"], newest["content"]) == (guest, "Sent from a phone"), newest

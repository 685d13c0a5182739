"""Screenshots of the main screens, desktop (1280×800) and phone (390×844), each light and dark
(the system's colour scheme, emulated): the sign-in screen, a room in use, and on the phone the
rooms drawer. They go to BROWSER_SCREENSHOT_DIR (docs/screenshots, shown in the README)."""
import os
import struct

from harness import DESKTOP, PHONE, SCREENSHOT_DIR, gradient, open_room, set_color_scheme, sign_in

SCHEMES = ("light", "dark")


def in_both_schemes(page, name, ready):
    """Saves `name`-light.png and `name`-dark.png, once `ready()` holds in each scheme."""
    for scheme in SCHEMES:
        set_color_scheme(page, scheme)
        page.wait(lambda scheme=scheme: page.js("return matchMedia(`(prefers-color-scheme: ${arguments[0]})`).matches", scheme), f"the page is not {scheme}")
        page.wait(ready, f"{name} is not ready for its picture")
        page.screenshot(f"{name}-{scheme}")


def image_shown(page):
    return page.js("return [...document.querySelectorAll('[role=log] .attachment-image img')].some((i) => i.complete && i.naturalWidth > 0)")


def test_screenshots_of_the_main_screens(browsers, api):
    mara = api.register("mara", digits=4)
    noor = api.register("noor", digits=4)
    room = api.create_room(mara, "Design review", description="Mockups, colour studies and the release checklist")
    others = [api.create_room(mara, name) for name in ("Release planning", "Random")]
    for joined in (room, *others):
        api.join(noor, joined)
    conversation = [
        (noor, "Morning! The new onboarding mockups are up in the shared folder."),
        (mara, "Looks great. The sign-up flow is down to one screen now."),
        (noor, "I also tried a warmer palette for the dark theme, have a look:"),
    ]
    for author, text in conversation:
        api.post(author, room, text)
    picture, _ = gradient(480, 270)
    api.post_file(noor, room, "palette-study.png", picture, "image/png")
    api.post(mara, room, "Much better contrast on the sidebar. Ship it with the next release?")
    api.post(noor, room, "Yes, I'll add it to the checklist.")
    api.post(noor, others[1], "Lunch at noon?")
    api.post(noor, others[1], "The usual place.")

    desktop = browsers("desktop", size=DESKTOP)
    desktop.open("/")
    desktop.get("button", "Sign in")
    in_both_schemes(desktop, "desktop-sign-in", lambda: desktop.find_all("heading", "Welcome back"))
    sign_in(desktop, mara)
    open_room(desktop, room)
    desktop.wait_message("Yes, I'll add it to the checklist.")
    in_both_schemes(desktop, "desktop-room", lambda: image_shown(desktop) and desktop.member(mara.username) == f"{mara.username} (you), online")

    phone = browsers("phone", size=PHONE, phone=True)
    sign_in(phone, mara)
    open_room(phone, room)
    phone.wait_message("Yes, I'll add it to the checklist.")
    in_both_schemes(phone, "phone-room", lambda: image_shown(phone))
    phone.click("Open rooms")
    navigation = phone.get("navigation", "Rooms")
    in_both_schemes(phone, "phone-rooms", lambda: navigation.is_displayed())

    # Each picture is the whole viewport (the phone's at its pixel ratio of 2).
    sizes = {"desktop": DESKTOP, "phone": (PHONE[0] * 2, PHONE[1] * 2)}
    for screen in ("desktop-sign-in", "desktop-room", "phone-room", "phone-rooms"):
        for scheme in SCHEMES:
            path = os.path.join(SCREENSHOT_DIR, f"{screen}-{scheme}.png")
            with open(path, "rb") as image:
                header = image.read(24)
            assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
            assert struct.unpack(">II", header[16:24]) == sizes[screen.split("-")[0]], f"{path} is not of the viewport's size"

"""Two people chat in two browsers: sign up, a room created by one and joined by the other through
its invite link; messages, an edit (Up arrow), a delete, the typing line and presence on both
sides; an image that uploads, round-trips and previews."""
import hashlib
import uuid

from selenium.webdriver.common.action_chains import ActionChains

from harness import BASE_URL, Keys, User, create_room, gradient, open_room, sign_in, sign_up


def invite_link(page):
    """What "Copy invite link" puts on the clipboard (the browser lets this origin use it)."""
    page.cdp("Browser.grantPermissions", {"origin": BASE_URL, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    page.click("Copy invite link")
    page.wait(lambda: "Invite link copied." in page.js("return document.querySelector('.toasts').textContent"), "no \"Invite link copied.\" notice")
    return page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (error) => done('clipboard: ' + error));"
    )


def stored(page):
    """(author, text, edited, deleted) of the open room's stored messages, system ones left out."""
    return [(m["author"], m["text"], m["edited"], m["deleted"]) for m in page.messages() if m["seq"] is not None and m["author"] != "VoiceFlow"]


def typing_line(page):
    return page.js("return document.querySelector('.typing-line').textContent.trim()")


def test_two_people_chat_in_a_room_joined_by_invite_link(browsers):
    ann_user, ben_user = User.fresh("ann"), User.fresh("ben")
    # Each on a gateway of its own: every event below crosses from one gateway to the other.
    ann = browsers("ann", gateway=1)
    ben = browsers("ben", gateway=2)

    sign_up(ann, ann_user)
    ann.heading(f"Hello, {ann_user.username}")
    room_name = f"Chat {uuid.uuid4().hex[:6]}"
    room_id, code = create_room(ann, room_name)
    link = invite_link(ann)
    assert link == f"{BASE_URL}/join/{code}", link

    # Ben opens the link signed out: the sign-in screen names the room's code; he signs up there
    # and lands in the room.
    ben.driver.get(link)
    ben.heading("Welcome back")
    assert f"Sign in to join the room with code {code}." in ben.text(ben.driver.find_element("css selector", ".auth-hint"))
    sign_up(ben, ben_user, navigate=False)
    ben.heading(room_name)
    assert ben.path == f"/rooms/{room_id}"

    # Presence: each sees the other online.
    ann.wait_presence(ben_user.username, "online")
    ben.wait_presence(ann_user.username, "online")

    # Messages, both ways (Enter, and the Send button).
    ann.send("Hello Ben, welcome to the room")
    ben.wait_message("Hello Ben, welcome to the room")
    ben.send("Hi Ann! Glad to be here", press_enter=False)
    ann.wait_message("Hi Ann! Glad to be here")

    # Typing: Ben writes without sending; Ann sees the typing line, which goes when he clears it.
    draft = ben.get("textbox", "Message")
    draft.send_keys("I am writing something")
    ann.wait(lambda: typing_line(ann) == f"{ben_user.username} is typing…", f"ann sees no typing line (it says {typing_line(ann)!r})")
    assert typing_line(ben) == "", "ben sees himself typing"
    draft.send_keys(Keys.CONTROL, "a")
    draft.send_keys(Keys.DELETE)
    ann.wait(lambda: typing_line(ann) == "", f"the typing line stays after ben cleared his draft ({typing_line(ann)!r})")

    # Edit: Up arrow in Ann's empty composer edits her last message.
    ann.get("textbox", "Message").send_keys(Keys.ARROW_UP)
    editor = ann.get("textbox", "Edit message")
    assert editor.get_attribute("value") == "Hello Ben, welcome to the room"
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys("Hello Ben, welcome to our room", Keys.ENTER)
    ann.absent("textbox", "Edit message")
    for page in (ann, ben):
        page.wait(
            lambda page=page: (ann_user.username, "Hello Ben, welcome to our room", True, False) in stored(page),
            "the edit does not show, marked (edited)",
        )

    # Delete, by keyboard: from his composer, Shift+Tab past "Attach file" reaches the actions of
    # his last message (they show while they hold the focus); Enter, then confirm.
    row = ben.message_row("Hi Ann! Glad to be here")
    ben.get("textbox", "Message").click()
    ActionChains(ben.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB, Keys.TAB).key_up(Keys.SHIFT).perform()
    focused = ben.driver.switch_to.active_element
    assert focused.accessible_name == "Delete message", f"Shift+Tab from the composer reaches {focused.accessible_name!r}"
    assert ben.js("return arguments[0].contains(arguments[1])", row, focused), "the focused Delete is not that of ben's message"
    assert focused.is_displayed(), "the focused message actions stay hidden"
    focused.send_keys(Keys.ENTER)
    alert = ben.wait(lambda: ben.driver.switch_to.alert, "no confirmation before deleting")
    assert "Delete this message?" in alert.text
    alert.accept()
    expected = [
        (ann_user.username, "Hello Ben, welcome to our room", True, False),
        (ben_user.username, "This message was deleted.", False, True),
    ]
    for page in (ann, ben):
        page.wait(lambda page=page: stored(page) == expected, f"{page.label}'s log is not {expected} but {stored(page)}")

    # Ben signs out: Ann sees him go offline.
    ben.click("Sign out")
    ben.get("button", "Sign in")
    ann.wait_presence(ben_user.username, "offline")


def test_an_image_upload_round_trips_and_previews(browsers, api, tmp_path):
    cleo = api.register("cleo")
    dan = api.register("dan")
    room = api.create_room(cleo, f"Files {uuid.uuid4().hex[:6]}")
    api.join(dan, room)
    image, rgba = gradient(96, 64)
    path = tmp_path / "gradient.png"
    path.write_bytes(image)

    sender = browsers("cleo")
    sign_in(sender, cleo)
    open_room(sender, room)
    viewer = browsers("dan")
    sign_in(viewer, dan)
    open_room(viewer, room)

    # The "Attach file" button opens the file input; Selenium hands it the file as a picker would.
    sender.get("button", "Attach file")
    sender.driver.find_element("css selector", ".composer input[type=file]").send_keys(str(path))
    tray = sender.get("list", "Attachments")
    sender.wait_text(tray, "ready", "the upload did not finish")
    sender.click("Send")

    for page in (sender, viewer):
        shown = page.wait(
            lambda page=page: next(
                (m["image"] for m in page.messages() if m["seq"] is not None and m["image"] and m["image"]["complete"] and m["image"]["width"]),
                None,
            ),
            "the image preview does not show",
        )
        assert (shown["alt"], shown["width"], shown["height"]) == ("gradient.png", 96, 64), shown
        assert shown["src"].startswith("blob:"), shown
        # The preview shows the uploaded pixels (PNG is lossless): drawn on a canvas, read back.
        pixels = page.driver.execute_async_script(
            """
            const [alt, done] = [arguments[0], arguments[arguments.length - 1]];
            const image = [...document.querySelectorAll('[role=log] .attachment-image img')].find((i) => i.alt === alt);
            const canvas = document.createElement('canvas');
            [canvas.width, canvas.height] = [image.naturalWidth, image.naturalHeight];
            const context = canvas.getContext('2d');
            context.drawImage(image, 0, 0);
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            crypto.subtle.digest('SHA-256', data).then(
              (hash) => done([...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('')),
              (error) => done(String(error)));
            """,
            "gradient.png",
        )
        assert pixels == hashlib.sha256(rgba).hexdigest(), f"{page.label}: the preview does not show the uploaded image"
        link = page.get("link", "Open gradient.png")
        assert link.get_attribute("href") == shown["src"]

    # The API has it too: a file message whose file is the image.
    (message,) = [m for m in api.messages(dan, room)["data"] if m.get("file")]
    assert message["file"]["name"] == "gradient.png" and message["file"]["mimeType"] == "image/png", message
    download = api.request("GET", message["file"]["url"], token=dan.token)
    assert download.status_code == 200 and download.content == image

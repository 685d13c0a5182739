"""The browser tests' harness (fixtures in conftest.py): headless Chromium (Debian's `chromium` and
`chromium-driver`) driven by Selenium, against a running stack through its edge, as people use it.

Controls are found as a screen reader finds them: by role and accessible name, as Chromium computes
them (`Page.get("button", "Send")`). Every wait is a WebDriverWait on a condition; none sleeps.

Environment (scripts/test.sh sets it; the defaults suit `make up`):
  VOICEFLOW_BASE_URL     the edge (http://127.0.0.1:8080); the browser's origin, which the auth
                         service must allow (FRONTEND_URL) for the refresh cookie
  VOICEFLOW_STATE_DIR    the stack's state directory (.data)
  VOICEFLOW_RUN_DIR      the stack's pid files and stack.env (<state dir>/run)
  VOICEFLOW_BIN_DIR      the executables the stack runs (to restart a killed gateway)
  VOICEFLOW_GATEWAY_URLS the gateways, each direct (http://127.0.0.1:8101,http://127.0.0.1:8102)
  BROWSER_WAIT_SECONDS   how long a condition may take to hold (20)
  BROWSER_SCREENSHOT_DIR where the screenshots go (docs/screenshots)
  WEB_DIST               the built client the stack serves (web/dist), for its gzipped sizes
"""
import os
import re
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import wave
import zlib
from dataclasses import dataclass

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
import stack_restart  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_URL = os.environ.get("VOICEFLOW_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
STATE_DIR = os.environ.get("VOICEFLOW_STATE_DIR", os.path.join(ROOT, ".data"))
RUN_DIR = os.environ.get("VOICEFLOW_RUN_DIR", os.path.join(STATE_DIR, "run"))
STACK = os.path.join(ROOT, "scripts", "stack.sh")
GATEWAY_URLS = [
    url.strip().rstrip("/")
    for url in os.environ.get("VOICEFLOW_GATEWAY_URLS", "http://127.0.0.1:8101,http://127.0.0.1:8102").split(",")
    if url.strip()
]
WAIT = float(os.environ.get("BROWSER_WAIT_SECONDS", "20"))
SCREENSHOT_DIR = os.environ.get("BROWSER_SCREENSHOT_DIR", os.path.join(ROOT, "docs", "screenshots"))
WEB_DIST = os.environ.get("WEB_DIST", os.path.join(ROOT, "web", "dist"))

DESKTOP = (1280, 800)
PHONE = (390, 844)

# Elements that can have each role, to ask Chromium for their computed role and name.
ROLE_CANDIDATES = {
    "textbox": "input:not([type]), input[type=text], input[type=email], input[type=password], "
    "input[type=search], input[type=url], input[type=tel], textarea, [role=textbox]",
    "button": "button, [role=button], input[type=submit], input[type=button]",
    "tab": "[role=tab]",
    "link": "a[href], [role=link]",
    "heading": "h1, h2, h3, h4, h5, h6, [role=heading]",
    "checkbox": "input[type=checkbox], [role=checkbox]",
    "combobox": "select, [role=combobox]",
    "dialog": "dialog, [role=dialog]",
    "region": "section[aria-label], section[aria-labelledby], [role=region]",
    "log": "[role=log]",
    "status": "[role=status]",
    "alert": "[role=alert]",
    "img": "img, [role=img]",
    "navigation": "nav, [role=navigation]",
    "list": "ul, ol, [role=list]",
}

# Records every desktop notification the page raises (window.Notification wrapped before any of
# the page's scripts runs), in window.__notifications.
NOTIFICATION_RECORDER = """
(() => {
  const shown = [];
  Object.defineProperty(window, '__notifications', { value: shown });
  const Native = window.Notification;
  if (typeof Native !== 'function') return;
  class Recorded extends Native {
    constructor(title, options) {
      shown.push({ title: String(title), body: options && options.body, tag: options && options.tag, at: Date.now() });
      super(title, options);
    }
  }
  window.Notification = Recorded;
})();
"""

# Records what the page's Socket.IO connections see (connects, disconnects with their reason, every
# event with the start of its payload) in window.__socketLog, for the artifacts of a failed test:
# the socket.io bundle's global `io` is wrapped as it is defined.
SOCKET_RECORDER = """
(() => {
  const log = [];
  Object.defineProperty(window, '__socketLog', { value: log });
  const note = (...entry) => { log.push([Math.round(performance.now()), ...entry]); if (log.length > 2000) log.shift(); };
  let wrapped;
  Object.defineProperty(window, 'io', {
    configurable: true,
    get: () => wrapped,
    set: (real) => {
      wrapped = Object.assign((...args) => {
        const socket = real(...args);
        socket.on('connect', () => note('connect', socket.id));
        socket.on('disconnect', (reason) => note('disconnect', reason));
        socket.on('connect_error', (error) => note('connect_error', String(error && error.message)));
        socket.onAny((event, ...payload) => note('in', event, JSON.stringify(payload).slice(0, 400)));
        socket.onAnyOutgoing((event, ...payload) => note('out', event, JSON.stringify(payload).slice(0, 200)));
        return socket;
      }, real);
    },
  });
})();
"""


# ---------------------------------------------------------------- people and the REST API


@dataclass
class User:
    username: str
    email: str
    password: str
    token: str | None = None
    id: str | None = None

    @classmethod
    def fresh(cls, prefix, digits=10):
        suffix = uuid.uuid4().hex[:digits]
        return cls(f"{prefix}_{suffix}"[:20], f"{prefix}.{suffix}@example.com", f"browser pass {suffix}")


class Api:
    """The REST API through the edge, for what a test arranges without a browser."""

    def __init__(self):
        self.session = requests.Session()

    def request(self, method, path, json=None, token=None, timeout=30, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(method, BASE_URL + path, json=json, headers=headers, timeout=timeout, **kwargs)

    def register(self, prefix, digits=10):
        user = User.fresh(prefix, digits)
        response = self.request(
            "POST",
            "/api/v1/auth/register",
            json={"username": user.username, "email": user.email, "password": user.password, "confirmPassword": user.password},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        user.token, user.id = body["token"], body["user"]["id"]
        return user

    def create_room(self, owner, name, **fields):
        response = self.request("POST", "/api/v1/rooms", json={"name": name, **fields}, token=owner.token)
        assert response.status_code == 201, response.text
        return response.json()

    def join(self, user, room):
        response = self.request("POST", f"/api/v1/rooms/{room['code']}/join", token=user.token)
        assert response.status_code == 200, response.text

    def post(self, author, room, content):
        response = self.request("POST", "/api/v1/messages", json={"roomId": room["id"], "content": content}, token=author.token)
        assert response.status_code == 201, response.text
        return response.json()

    def post_file(self, author, room, name, data, mime_type, content=None):
        uploaded = self.request("POST", "/api/v1/files", token=author.token, files={"file": (name, data, mime_type)})
        assert uploaded.status_code == 201, uploaded.text
        response = self.request(
            "POST",
            "/api/v1/messages",
            json={"roomId": room["id"], "content": content or name, "fileId": uploaded.json()["id"], "type": "file"},
            token=author.token,
        )
        assert response.status_code == 201, response.text
        return response.json()

    def messages(self, user, room, limit=50):
        response = self.request("GET", f"/api/v1/rooms/{room['id']}/messages?limit={limit}", token=user.token)
        assert response.status_code == 200, response.text
        return response.json()


def gradient(width, height):
    """A small RGB gradient: (its PNG, its pixels as RGBA bytes)."""
    pixels = [[(x * 255 // width, y * 255 // height, 128) for x in range(width)] for y in range(height)]
    rows = b"".join(b"\0" + bytes(v for pixel in row for v in pixel) for row in pixels)
    rgba = bytes(v for row in pixels for pixel in row for v in (*pixel, 255))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return png, rgba


# ---------------------------------------------------------------- one browser window


def _matches(expected, actual):
    actual = " ".join((actual or "").split())
    if expected is None:
        return True
    if isinstance(expected, re.Pattern):
        return expected.search(actual) is not None
    return actual == expected


class Page:
    """One headless Chromium, with lookups by role and accessible name."""

    def __init__(self, driver, label):
        self.driver = driver
        self.label = label

    # -- navigation and scripts

    def open(self, path="/"):
        self.driver.get(BASE_URL + path)

    @property
    def path(self):
        return self.js("return location.pathname")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def cdp(self, command, params=None):
        return self.driver.execute_cdp_cmd(command, params or {})

    def wait(self, condition, what, timeout=None):
        """Waits until `condition()` is truthy and returns its value; fails saying `what` did not happen."""

        def attempt(_driver):
            try:
                return condition()
            except (StaleElementReferenceException, NoSuchElementException):
                return False

        try:
            return WebDriverWait(self.driver, timeout or WAIT, poll_frequency=0.1).until(attempt)
        except TimeoutException:
            raise AssertionError(f"{self.label}: {what} (not within {timeout or WAIT:.0f} s)") from None

    # -- finding by role and name

    def find_all(self, role, name=None, within=None, visible=True):
        """The elements whose computed role is `role` and accessible name is `name` (a string, exact
        after collapsing white space, or a compiled pattern), in document order."""
        scope = within or self.driver
        found = []
        for element in scope.find_elements(By.CSS_SELECTOR, ROLE_CANDIDATES[role]):
            if visible and not element.is_displayed():
                continue
            if element.aria_role != role:
                continue
            if _matches(name, element.accessible_name):
                found.append(element)
        return found

    def get(self, role, name=None, within=None, visible=True, timeout=None):
        """The first element of that role and name, waiting for it."""
        return self.wait(
            lambda: next(iter(self.find_all(role, name, within, visible)), None),
            f"no {role} named {name!r}",
            timeout,
        )

    def absent(self, role, name=None, within=None, timeout=None):
        self.wait(lambda: not self.find_all(role, name, within), f"the {role} named {name!r} is still there", timeout)

    def click(self, name, role="button", within=None):
        element = self.get(role, name, within)
        self.wait(lambda: element.is_enabled(), f"the {role} {name!r} stays disabled")
        element.click()
        return element

    def fill(self, name, text, within=None):
        field = self.get("textbox", name, within)
        field.clear()
        field.send_keys(text)
        return field

    def text(self, element):
        """All the text of an element, visually hidden parts included, white space collapsed."""
        return " ".join((self.js("return arguments[0].textContent", element) or "").split())

    def wait_text(self, element_or_role, expected, what=None, timeout=None):
        """Waits until the text of an element (or of the first element of a role) contains `expected`."""

        def holds():
            element = element_or_role if not isinstance(element_or_role, str) else self.get(element_or_role, visible=False)
            return expected in self.text(element)

        return self.wait(holds, what or f"{expected!r} does not show", timeout)

    # -- the application's parts

    def heading(self, name, timeout=None):
        return self.get("heading", name, timeout=timeout)

    def banner(self):
        """The connection banner: (its text, its data-state)."""
        return self.js(
            "const b = document.querySelector('[role=status]');"
            "return b ? [b.textContent.trim(), b.dataset.state || ''] : null;"
        )

    def messages(self):
        """The rendered message rows of the open room's log, oldest first: dicts of seq (None while
        pending), author, text, edited, deleted, status (pending rows), image (alt, loaded size)."""
        return self.js(
            """
            const log = document.querySelector('[role=log]');
            if (!log) return [];
            return [...log.querySelectorAll('article.message')].map((row) => {
              const image = row.querySelector('.attachment-image img');
              const author = row.querySelector('.message-author');
              const hidden = row.querySelector('.message-body > .visually-hidden');
              return {
                seq: row.dataset.seq ? Number(row.dataset.seq) : null,
                author: author ? author.textContent.trim() : (hidden ? hidden.textContent.split(',')[0].trim() : null),
                text: [...row.querySelectorAll('.message-text')].map((p) => p.textContent.trim()).join('\\n'),
                edited: row.querySelector('.message-edited') !== null,
                deleted: row.querySelector('.message-deleted') !== null,
                status: row.dataset.status || null,
                image: image ? { alt: image.alt, width: image.naturalWidth, height: image.naturalHeight, complete: image.complete, src: image.src } : null,
              };
            });
            """
        )

    def texts(self):
        return [message["text"] for message in self.messages() if message["seq"] is not None]

    def wait_message(self, text, timeout=None):
        """Waits until a stored (not pending) message with exactly this text is in the log; returns it."""
        return self.wait(
            lambda: next((m for m in self.messages() if m["text"] == text and m["seq"] is not None), None),
            f"the message {text!r} does not show",
            timeout,
        )

    def message_row(self, text):
        """The <article> of the stored message with this text."""
        return self.wait(
            lambda: next(
                (
                    row
                    for row in self.driver.find_elements(By.CSS_SELECTOR, "[role=log] article.message[data-seq]")
                    if text in [p.text.strip() for p in row.find_elements(By.CSS_SELECTOR, ".message-text")]
                ),
                None,
            ),
            f"no row for the message {text!r}",
        )

    def send(self, text, press_enter=True):
        """Writes a message in the composer and sends it (Enter, or the Send button)."""
        field = self.get("textbox", "Message")
        field.send_keys(text)
        if press_enter:
            field.send_keys(Keys.ENTER)
        else:
            self.click("Send")
        self.wait(lambda: field.get_attribute("value") == "", "the composer did not clear after sending")

    def member(self, username):
        """How the room's "Members" region names a member, with their presence ("ann, online")."""
        region = self.get("region", "Members", visible=False)
        for name in region.find_elements(By.CSS_SELECTOR, "li.member .member-name"):
            text = self.text(name)
            if text == username or text.startswith((f"{username},", f"{username} (you)")):
                return text
        return None

    def wait_presence(self, username, status):
        return self.wait(
            lambda: self.member(username) in (f"{username}, {status}", f"{username} (you), {status}"),
            f"{username} is not shown {status} in Members",
        )

    def screenshot(self, name):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        path = os.path.join(SCREENSHOT_DIR, f"{name}.png")
        assert self.driver.save_screenshot(path), f"could not save {path}"
        return path

    def quit(self):
        self.driver.quit()


# ---------------------------------------------------------------- what users do, in the browser


def signed_in(page):
    """Waits for the signed-in shell: its "Sign out" button, or on a phone the menu that opens the
    sidebar it is in (a closed drawer is out of the accessibility tree)."""
    page.wait(lambda: page.find_all("button", "Sign out") or page.find_all("button", "Open rooms"), "not signed in")


def sign_up(page, user, navigate=True):
    """Creates the account from the Register tab; returns once the app is signed in."""
    if navigate:
        page.open("/")
    page.click("Register", role="tab")
    page.fill("Username", user.username)
    page.fill("Email", user.email)
    page.fill("Password", user.password)
    page.fill("Confirm password", user.password)
    page.click("Create account")
    signed_in(page)


def sign_in(page, user, path="/"):
    page.open(path)
    page.fill("Email", user.email)
    page.fill("Password", user.password)
    page.click("Sign in")
    signed_in(page)


def create_room(page, name):
    """Creates a room from the sidebar; returns (room id, join code) once its view is open."""
    page.click("Create room")
    dialog = page.get("dialog")
    page.fill("Room name", name, within=dialog)
    page.click("Create", within=dialog)
    room_id = page.wait(lambda: (re.fullmatch(r"/rooms/([^/]+)", page.path) or [None, None])[1], "the new room did not open")
    page.heading(name)
    return room_id, room_code(page)


def room_code(page):
    """The open room's join code: the text shown beside its "Copy invite link" button."""
    button = page.get("button", "Copy invite link")
    code = button.find_element(By.XPATH, "preceding-sibling::code").text.strip()
    assert code, "the room shows no join code"
    return code


def open_room(page, room):
    page.open(f"/rooms/{room['id']}")
    page.heading(room["name"])
    page.wait(lambda: page.js("return document.querySelector('[role=log]')?.getAttribute('aria-busy') === 'false'"), "the room's messages did not load")


# ---------------------------------------------------------------- Chromium


def microphone_tone():
    """A WAV file the fake microphone plays in a loop: speech-like bursts (syllables of a few
    hundred ms at changing pitch, short gaps). Chromium's own fake microphone beeps for 20 ms twice
    a second, too short to be heard reliably; a steady tone is taken for noise and suppressed."""
    path = os.path.join(tempfile.gettempdir(), "voiceflow-browser-speech.wav")
    if not os.path.exists(path):
        rate = 48_000
        frames = bytearray()
        for index, (pitch, length) in enumerate([(220, 0.28), (330, 0.22), (262, 0.34), (392, 0.2), (294, 0.3), (247, 0.26)] * 2):
            count = int(rate * length)
            for n in range(count):
                envelope = min(1.0, n / 480, (count - n) / 480)  # 10 ms fades: no clicks
                wobble = 1 + 0.05 * math.sin(2 * math.pi * 5 * n / rate)
                frames += struct.pack("<h", int(14_000 * envelope * math.sin(2 * math.pi * pitch * wobble * n / rate)))
            frames += b"\0\0" * int(rate * (0.08 if index % 3 else 0.15))  # the gaps between syllables
        partial = path + f".{os.getpid()}"
        with wave.open(partial, "wb") as tone:
            tone.setnchannels(1)
            tone.setsampwidth(2)
            tone.setframerate(rate)
            tone.writeframes(bytes(frames))
        os.replace(partial, path)
    return path


def chromium_paths():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("Chromium or its driver is missing: apt-get install chromium chromium-driver (scripts/test.sh does)")
    return browser, driver


def new_page(label, size=DESKTOP, phone=False, gateway=None, record_notifications=False, color_scheme=None):
    """A fresh Chromium (its own profile) at `size`; `phone` emulates a touch phone's viewport;
    `gateway` pins its socket to that gateway (the edge's sticky cookie, gateway-N); a fake camera and
    microphone (playing speech-like sound), media permission granted, desktop notifications allowed by the
    profile's settings."""
    browser, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests may run as root
        "--disable-dev-shm-usage",
        f"--window-size={size[0]},{size[1]}",
        "--lang=en-US",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_tone()}",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(argument)
    # 1 = allow: the permission prompt never shows; the app still asks only from its settings.
    options.add_experimental_option("prefs", {"profile.default_content_setting_values.notifications": 1})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    page = Page(driver, label)
    try:
        # The viewport is exactly `size` (a window's size would include its frame).
        page.cdp("Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1], "deviceScaleFactor": 2 if phone else 1, "mobile": phone})
        if phone:
            page.cdp("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        set_color_scheme(page, color_scheme)
        page.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": SOCKET_RECORDER})
        if record_notifications:
            page.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": NOTIFICATION_RECORDER})
        if gateway is not None:
            page.cdp("Network.setCookie", {"name": "SERVERID", "value": f"gateway-{gateway}", "url": BASE_URL + "/", "path": "/"})
    except Exception:
        driver.quit()
        raise
    return page


def set_color_scheme(page, scheme):
    """The system's colour scheme as the page sees it ("light", "dark"; None: the browser's own).
    Motion is always reduced: drawers open at once, so nothing is clicked while it slides."""
    features = [{"name": "prefers-reduced-motion", "value": "reduce"}]
    if scheme:
        features.append({"name": "prefers-color-scheme", "value": scheme})
    page.cdp("Emulation.setEmulatedMedia", {"features": features})


# ---------------------------------------------------------------- the stack


def stack_env():
    values = {}
    with open(os.path.join(RUN_DIR, "stack.env")) as env_file:
        for line in env_file:
            key, _, value = line.strip().partition("=")
            values[key] = value.strip("'").replace("\\", "")
    return values


def gateway_pid(index):
    with open(os.path.join(RUN_DIR, f"gateway-{index}.pid")) as pid_file:
        return int(pid_file.read().strip())


def restart_environment(pid):
    """The environment to bring the stack back with after killing `pid` (see
    stack_restart.restart_environment), serving the client that runs: nothing to rebuild."""
    env = stack_restart.restart_environment(pid, RUN_DIR)
    env["WEB_BUILD"] = "0"
    return env


def restart_stack(env):
    restored = subprocess.run([STACK, "up"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert restored.returncode == 0, restored.stdout[-3000:]


def psql(sql, *variables):
    """Runs SQL against the stack's database with Debian's psql (`-v name=value` variables)."""
    candidates = [shutil.which("psql")] + sorted(
        (os.path.join("/usr/lib/postgresql", version, "bin", "psql") for version in os.listdir("/usr/lib/postgresql")),
        reverse=True,
    ) if os.path.isdir("/usr/lib/postgresql") else [shutil.which("psql")]
    binary = next((candidate for candidate in candidates if candidate and os.access(candidate, os.X_OK)), None)
    assert binary, "psql is not installed (scripts/stack.sh deps installs PostgreSQL)"
    arguments = [binary, stack_env()["DATABASE_URL"], "-qAt", "-v", "ON_ERROR_STOP=1"]
    for name, value in variables:
        arguments += ["-v", f"{name}={value}"]
    result = subprocess.run(arguments, input=sql, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()

"""Voice in two Chromiums with fake devices (the fake microphone plays speech-like bursts), one on
each gateway: both join the room's voice; each sees the other speaking, the ring driven by the
audio received from them (whose level is read from the page's RTCPeerConnection too); "Mute"
stops both for the other side, "Unmute" brings them back."""
import uuid

from harness import open_room, sign_in

# Counts, per user id, how often a voice member's ring is seen on (data-speaking="true"): every
# 100 ms while it is on, and at each moment it turns on (so that no short burst goes unseen).
SPEAKING_RECORDER = """
window.__speaking = {};
const count = (item) => {
  if (item.dataset.speaking === 'true') window.__speaking[item.dataset.userId] = (window.__speaking[item.dataset.userId] || 0) + 1;
};
new MutationObserver((records) => {
  for (const record of records) {
    if (record.type === 'attributes') {
      if (record.target.matches('li.voice-member')) count(record.target);
    } else {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.matches('li.voice-member')) count(node);
        node.querySelectorAll('li.voice-member').forEach(count);
      }
    }
  }
}).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-speaking'] });
setInterval(() => document.querySelectorAll('li.voice-member').forEach(count), 100);
"""

# Keeps the page's peer connections (window.__peers) and, every 50 ms, the loudest audio level
# received on any of them since the last reset (window.__heard), as the ring's detector reads it.
RECEIVED_LEVEL = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.__heard = 0;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
    }
  };
  setInterval(() => {
    for (const peer of window.__peers) {
      for (const receiver of peer.getReceivers()) {
        for (const source of receiver.getSynchronizationSources()) window.__heard = Math.max(window.__heard, source.audioLevel || 0);
      }
    }
  }, 50);
})();
"""
# The ring's threshold for received audio (web/src/voice/vad.ts, receivedVad).
SPEECH_LEVEL = 0.02


def rings(page, user):
    """How often `user`'s ring was seen on since the recorder was (re)started."""
    return page.js("return window.__speaking[arguments[0]] || 0", user.id)


def heard(page):
    """The loudest audio level the page received since the recorder was (re)started (0…1)."""
    return page.js("return window.__heard")


def restart_recorder(page):
    page.js("for (const key of Object.keys(window.__speaking)) delete window.__speaking[key]; window.__heard = 0;")


def voice_member(page, user):
    """The text of `user` in the room's voice list ("max, speaking, muted"), or None."""
    return page.js(
        "const item = document.querySelector(`li.voice-member[data-user-id='${arguments[0]}']`);"
        "return item ? item.textContent.replace(/\\s+/g, ' ').trim() : null;",
        user.id,
    )


def test_two_browsers_in_voice_see_each_other_speak_and_mute_stops_it(browsers, api):
    lia = api.register("lia")
    max_ = api.register("max")
    room = api.create_room(lia, f"Voice {uuid.uuid4().hex[:6]}")
    api.join(max_, room)

    pages = {}
    # One on each gateway: the voice events and the signalling cross between them.
    for user, gateway in ((lia, 2), (max_, 1)):
        page = browsers(user.username[:3], gateway=gateway)
        page.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": RECEIVED_LEVEL})
        sign_in(page, user)
        open_room(page, room)
        pages[user.username] = page
    a, b = pages[lia.username], pages[max_.username]

    for page in (a, b):
        page.js(SPEAKING_RECORDER)
        page.click("Join voice")
        page.get("button", "Leave voice")
        mute = page.get("button", "Mute")
        page.wait(lambda mute=mute: mute.is_enabled(), "voice does not connect (Mute stays disabled)")
    for page, other in ((a, max_), (b, lia)):
        page.wait(lambda page=page, other=other: voice_member(page, other) is not None, f"{other.username} is not in {page.label}'s voice list")

    # Each sees the other speak, and receives their audio above the ring's threshold.
    for page, other in ((a, max_), (b, lia)):
        page.wait(lambda page=page, other=other: rings(page, other) > 0, f"{page.label} never sees {other.username} speaking")
        page.wait(lambda page=page: heard(page) >= SPEECH_LEVEL, f"{page.label} receives no audio (loudest: {heard(page)})")

    # Lia mutes: max sees her muted, and her ring stays off while he keeps speaking to her.
    a.click("Mute")
    a.get("button", "Unmute")
    b.wait(lambda: "muted" in (voice_member(b, lia) or ""), "max does not see lia muted")
    b.wait(lambda: b.js("return document.querySelector(`li.voice-member[data-user-id='${arguments[0]}']`).dataset.speaking", lia.id) == "false", "lia's ring stays on once muted")
    restart_recorder(a)
    restart_recorder(b)
    # Meanwhile max's voice goes on reaching lia: his ring seen on 20 times (2 s or more) while hers
    # stays off for max, and what max receives from her is silence.
    a.wait(lambda: rings(a, max_) >= 20, "lia stops seeing max speaking")
    assert rings(b, lia) == 0, "max saw muted lia speaking"
    assert heard(b) < SPEECH_LEVEL, f"max still receives lia's audio once she muted (level {heard(b)})"
    assert heard(a) >= SPEECH_LEVEL

    # Unmuted, she is heard again.
    a.click("Unmute")
    a.get("button", "Mute")
    b.wait(lambda: rings(b, lia) > 0, "max does not see lia speaking once she unmuted")
    b.wait(lambda: heard(b) >= SPEECH_LEVEL, "max receives no audio from lia once she unmuted")

    # Leaving voice: max's list no longer has her.
    a.click("Leave voice")
    a.get("button", "Join voice")
    b.wait(lambda: voice_member(b, lia) is None, "lia is still in max's voice list after leaving")

"""A WebRTC voice peer for the tests: aiortc media, signalled over the gateway with python-socketio's
AsyncClient, following the voice contract.

- `voice:join` gives the session id, the others already in the room's voice and the ICE servers;
  the peer then offers a connection to each of those participants (the newcomer offers).
- Offers that arrive in `voice:signal` are answered. `data` is what a browser would send:
  `{type: "offer"|"answer", sdp}` (an RTCSessionDescriptionInit; also accepted wrapped as
  `{description: {...}}`), or `{candidate, sdpMid, sdpMLineIndex}` (an RTCIceCandidateInit; also
  `{candidate: {...}}`). aiortc gathers its candidates before it completes a description, so it
  sends none of its own; candidates it receives are added, and ignored when aiortc cannot use them.
- Perfect negotiation: for each pair the polite peer is the one with the greater session id. An
  offer that collides with one's own is ignored by the impolite peer; the polite one gives its own
  up (aiortc has no rollback: it starts that connection afresh) and answers.
- `voice:user_left` closes the connection to that session.
- Each connection sends a sine tone (48 kHz, a frequency per peer) and measures what it receives
  from the other end: frames, RMS energy and the tone's frequency (from zero crossings), so that a
  test can tell that every peer hears every other one, and whom.

Every wait is on an event or a future with a timeout. Media runs on the clock of the tone (20 ms
frames), which is not a synchronisation. The tests are loopback-only: host candidates are
127.0.0.1 (the machine's other addresses are never offered), and the ICE servers are the ones the
join acknowledgement lists (the stack's coturn on 127.0.0.1).
"""
from __future__ import annotations

import asyncio
import base64
import fractions
import hashlib
import hmac
import math
import os
import re
import shlex
import time
from array import array
from collections import defaultdict, deque
from dataclasses import dataclass

import aioice.ice
import aioice.stun
import aioice.turn
import av
import engineio
import socketio
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How long an event that should come may take.
EVENT_TIMEOUT = 10
SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms, what Opus sends per packet
# The tone's amplitude (of full scale): its RMS is about 0.25 / sqrt(2) * 32767 = 5800.
TONE_AMPLITUDE = 0.25


def _loopback_only(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """Host candidates for tests that run on loopback only (aioice leaves 127.0.0.1 out)."""
    return ["127.0.0.1"] if use_ipv4 else []


aioice.ice.get_host_addresses = _loopback_only

# aioice drops a TURN allocation that fails, or takes longer than its 5 s gathering window, without
# a word: the description then goes out without a relayed candidate, and a relay-only connection
# stays "new". The tests give gathering a wider window (an allocation takes milliseconds here, but a
# loaded machine can stall the event loop for seconds) and keep every failure, to report it.
GATHER_TIMEOUT = 30
TURN_FAILURES: list[str] = []
_relayed_candidate = aioice.ice.relayed_candidate
_get_component_candidates = aioice.ice.Connection.get_component_candidates


async def _reported_relayed_candidate(*args, **kwargs):
    started = time.monotonic()
    try:
        return await _relayed_candidate(*args, **kwargs)
    except BaseException as error:
        TURN_FAILURES.append(f"TURN allocation via {kwargs.get('turn_transport')} failed after "
                             f"{time.monotonic() - started:.1f}s: {type(error).__name__}: {error}")
        raise


async def _patient_component_candidates(self, component, addresses, timeout=GATHER_TIMEOUT):
    return await _get_component_candidates(self, component, addresses, timeout=max(timeout, GATHER_TIMEOUT))


aioice.ice.relayed_candidate = _reported_relayed_candidate
aioice.ice.Connection.get_component_candidates = _patient_component_candidates


# ---------------------------------------------------------------- media


class ToneTrack(MediaStreamTrack):
    """An audio track of a sine tone: 20 ms mono s16 frames at 48 kHz, in real time. The frequency
    should fit a whole number of periods into 20 ms (a multiple of 50 Hz), so one frame is computed
    once and sent again and again."""

    kind = "audio"

    def __init__(self, frequency: float):
        super().__init__()
        self.frequency = frequency
        samples = array("h", (
            round(TONE_AMPLITUDE * 32767 * math.sin(2 * math.pi * frequency * index / SAMPLE_RATE))
            for index in range(FRAME_SAMPLES)))
        self._samples = samples.tobytes()
        self._start = None
        self._timestamp = 0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._timestamp += FRAME_SAMPLES
            # The media clock: frame N goes out N * 20 ms after the first.
            delay = self._start + self._timestamp / SAMPLE_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(self._samples)
        frame.pts = self._timestamp
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame


@dataclass
class Hearing:
    """What a peer received from one remote session: over the last `frames` frames, the median
    RMS energy (of full scale 32767) and the median frequency estimated from zero crossings."""

    frames: int
    rms: float
    frequency: float


class AudioMeter:
    """Measures the audio frames received from one remote session (decoded by aiortc: s16, stereo
    or mono, 48 kHz). Keeps the figures of the last 500 frames (10 s)."""

    def __init__(self):
        self.frames = 0
        self._recent = deque(maxlen=500)  # (rms, frequency) per frame
        self._waiters: list[tuple[int, asyncio.Future]] = []

    def feed(self, frame):
        if frame.format.name != "s16" or not frame.samples:
            return
        channels = len(frame.layout.channels)
        # Packed samples, interleaved; the plane's buffer may be longer than the frame.
        samples = array("h", bytes(frame.planes[0])[: frame.samples * channels * 2])
        left = samples[::channels] if channels > 1 else samples
        energy = sum(value * value for value in left)
        rms = math.sqrt(energy / len(left))
        crossings = sum(1 for a, b in zip(left, left[1:]) if (a < 0) != (b < 0))
        frequency = crossings / 2 / (len(left) / (frame.sample_rate or SAMPLE_RATE))
        self._recent.append((rms, frequency))
        self.frames += 1
        for count, future in list(self._waiters):
            if self.frames >= count and not future.done():
                future.set_result(None)
        self._waiters = [(count, future) for count, future in self._waiters if not future.done()]

    async def wait_frames(self, count: int, timeout: float):
        """Waits until `count` frames have arrived in all (TimeoutError after `timeout` s)."""
        if self.frames >= count:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((count, future))
        await asyncio.wait_for(future, timeout)

    def hearing(self, last: int = 50) -> Hearing:
        recent = list(self._recent)[-last:]
        if not recent:
            return Hearing(frames=0, rms=0.0, frequency=0.0)
        return Hearing(
            frames=len(recent),
            rms=_median([rms for rms, _ in recent]),
            frequency=_median([frequency for _, frequency in recent]),
        )


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# ---------------------------------------------------------------- a client that keeps the wire order


class _InOrderEngineIOClient(engineio.AsyncClient):
    """python-engineio runs each incoming packet's handler as a task of its own; signals must be
    handled in the order they were sent (an offer before the candidates that follow it), so the
    handlers run one by one, in arrival order. They only put into queues and never wait."""

    async def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return await super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.AsyncClient):
    def _engineio_client_class(self):
        return _InOrderEngineIOClient


# ---------------------------------------------------------------- one connection to one remote session


class PeerLink:
    """The RTCPeerConnection to one remote session, with the tone it sends and the meter of what it
    receives."""

    def __init__(self, owner: "VoicePeer", remote_session: str, remote_user: str | None):
        self.owner = owner
        self.remote_session = remote_session
        self.remote_user = remote_user
        self.pc = RTCPeerConnection(owner.rtc_configuration())
        self.tone = ToneTrack(owner.tone_hz)
        self.pc.addTrack(self.tone)
        self.meter = AudioMeter()
        self.making_offer = False
        self.pending_candidates = []  # candidates that came before the remote description
        self.closed = False
        self.closed_event = asyncio.Event()
        self._connected = asyncio.get_running_loop().create_future()
        # A failure nobody waited for is not worth a "never retrieved" warning.
        self._connected.add_done_callback(lambda future: future.cancelled() or future.exception())
        self._readers = []
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @property
    def polite(self) -> bool:
        """Perfect negotiation: the peer with the greater session id is the polite one."""
        return self.owner.session_id > self.remote_session

    def _on_track(self, track):
        if track.kind == "audio":
            self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track):
        try:
            while True:
                self.meter.feed(await track.recv())
        except (MediaStreamError, asyncio.CancelledError):
            pass

    def _on_state(self):
        state = self.pc.connectionState
        if self._connected.done():
            return
        if state == "connected":
            self._connected.set_result(None)
        elif state in ("failed", "closed"):
            self._connected.set_exception(ConnectionError(
                f"{self.owner.name}: the connection to {self.remote_session} is {state}"))

    async def wait_connected(self, timeout: float):
        await asyncio.wait_for(asyncio.shield(self._connected), timeout)

    def description(self) -> dict:
        local = self.pc.localDescription
        return {"type": local.type, "sdp": local.sdp}

    def candidates(self) -> str:
        """The candidate types in the local and remote descriptions, for failure messages."""
        def types(description):
            if description is None:
                return "no description"
            found = re.findall(r"^a=candidate:.* typ (\w+)", description.sdp, re.MULTILINE)
            return ", ".join(sorted(found)) or "no candidates"
        return f"local: {types(self.pc.localDescription)}; remote: {types(self.pc.remoteDescription)}"

    async def add_candidate(self, init: dict):
        """Adds a remote candidate (RTCIceCandidateInit); one aiortc cannot use is ignored."""
        text = init.get("candidate")
        if not isinstance(text, str) or not text.strip():
            return  # the end of candidates: aiortc's descriptions already carry every candidate
        if self.pc.remoteDescription is None:
            self.pending_candidates.append(init)
            return
        try:
            candidate = candidate_from_sdp(text.strip().removeprefix("a=").removeprefix("candidate:"))
            candidate.sdpMid = init.get("sdpMid")
            candidate.sdpMLineIndex = init.get("sdpMLineIndex")
            if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
                candidate.sdpMLineIndex = 0
            await self.pc.addIceCandidate(candidate)
        except Exception as error:  # noqa: BLE001 - a candidate aiortc cannot use is not an error
            self.owner.ignored_candidates.append((self.remote_session, text, repr(error)))

    async def add_pending_candidates(self):
        pending, self.pending_candidates = self.pending_candidates, []
        for init in pending:
            await self.add_candidate(init)

    def selected_pair(self):
        """(local, remote) aioice candidates of the pair ICE nominated for the media (RTP, component
        1), or None while there is none. aiortc bundles everything on the first transceiver's ICE
        transport."""
        for transceiver in self.pc.getTransceivers():
            connection = transceiver.sender.transport.transport._connection
            pair = connection._nominated.get(1)
            if pair is not None:
                return pair.local_candidate, pair.remote_candidate
        return None

    async def close(self):
        if self.closed:
            return
        self.closed = True
        self.closed_event.set()
        self.tone.stop()
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        if not self._connected.done():
            self._connected.set_exception(ConnectionError(f"{self.owner.name}: closed the connection to {self.remote_session}"))


# ---------------------------------------------------------------- the peer


class VoicePeer:
    """One user's Socket.IO connection in voice: signalling over the gateway, media with aiortc.

        peer = VoicePeer("alice", token, tone_hz=400, contract=socket_contract)
        await peer.connect(gateway_url)
        await peer.join_room(room_id)
        ack = await peer.join_voice(room_id)      # offers to ack["participants"]
        await peer.wait_connected([other.session_id], timeout=20)
        hearing = await peer.wait_heard(other.session_id, frames=50, timeout=20)

    With a `contract` (conftest's SocketContract), every event and acknowledgement is checked as it
    arrives; what does not conform is kept in `violations` and fails `call`, `next` and
    `assert_conforming`.
    """

    def __init__(self, name, token, *, tone_hz=400.0, contract=None, ice_transport_policy="all", turn_transport=None,
                 negotiate=True):
        assert ice_transport_policy in ("all", "relay"), ice_transport_policy
        self.name = name
        self.token = token
        self.tone_hz = tone_hz
        self.contract = contract
        self.ice_transport_policy = ice_transport_policy
        # "udp" or "tcp": which TURN URL aiortc uses (it uses one: the first it can).
        self.turn_transport = turn_transport
        # False: signalling only (the refusal tests): no offers, and signals are only recorded.
        self.negotiate = negotiate
        self.sio = _InOrderClient(reconnection=False)
        self.sio.on("*", self._on_event)
        self.room_id = None
        self.session_id = None
        self.user_id = None
        self.ice_servers = []
        self.links: dict[str, PeerLink] = {}
        self.violations = []
        self.ignored_candidates = []  # (session, candidate, why)
        self.failures = []  # what went wrong while handling signals
        self._reported = 0
        self._queues = defaultdict(asyncio.Queue)
        self._held = defaultdict(list)
        self._work: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._link_waiters: dict[str, list[asyncio.Future]] = defaultdict(list)
        self._deliver = None  # without a gateway: how signals reach the other peers

    def _start(self):
        self._work = asyncio.Queue()
        self._worker = asyncio.ensure_future(self._work_loop())

    # ------------------------------------------------------------ Socket.IO

    async def connect(self, url, transport="websocket"):
        self._start()
        await self.sio.connect(url, auth={"token": self.token}, transports=[transport], wait_timeout=EVENT_TIMEOUT)

    def _violate(self, problems):
        self.violations.extend(problems)

    def assert_conforming(self):
        """Fails if anything received since the last report broke the socket protocol's document,
        or if handling a signal failed."""
        violations = self.violations[self._reported:]
        self._reported = len(self.violations)
        assert not violations, f"{self.name} received what the socket protocol's document does not allow:\n" + "\n".join(violations)
        assert not self.failures, f"{self.name}: handling signals failed: {self.failures}"

    def _on_event(self, event, *args):
        if self.contract is not None:
            self._violate(self.contract.event_problems(event, args))
        payload = args[0] if len(args) == 1 else list(args)
        self._queues[event].put_nowait(payload)
        if not self.negotiate or not isinstance(payload, dict):
            return
        if event == "voice:signal":
            self._work.put_nowait(("signal", payload))
        elif event == "voice:user_left":
            self._work.put_nowait(("left", payload))

    async def call(self, event, data=None, timeout=EVENT_TIMEOUT):
        """Emits `event` and returns its acknowledgement (checked against the document)."""
        answer = await self.sio.call(event, data, timeout=timeout)
        if self.contract is not None:
            self._violate(self.contract.ack_problems(event, (answer,)))
        self.assert_conforming()
        return answer

    async def next(self, event, where=None, timeout=EVENT_TIMEOUT):
        """The next `event` (matching `where`); AssertionError after `timeout` seconds."""
        held = self._held[event]
        for index, item in enumerate(held):
            if where is None or where(item):
                self.assert_conforming()
                return held.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                item = await asyncio.wait_for(self._queues[event].get(), max(remaining, 0.001))
            except asyncio.TimeoutError:
                raise AssertionError(f"{self.name}: no {event!r}{' (matching)' if where else ''} within {timeout}s; "
                                     f"unmatched: {held}") from None
            if where is None or where(item):
                self.assert_conforming()
                return item
            held.append(item)

    async def none(self, event, within, where=None):
        """Asserts that no `event` (matching `where`) arrives within `within` seconds: a bounded wait
        for an absence, not a synchronisation."""
        try:
            item = await self.next(event, where, timeout=within)
        except AssertionError:
            return
        raise AssertionError(f"{self.name}: unexpected {event!r}: {item}")

    def drain(self, event):
        """Every `event` received and not yet taken, in arrival order."""
        items, self._held[event] = self._held[event], []
        while not self._queues[event].empty():
            items.append(self._queues[event].get_nowait())
        return items

    # ------------------------------------------------------------ rooms and voice

    async def join_room(self, room_id):
        ack = await self.call("room:join", {"roomId": room_id})
        assert isinstance(ack, dict) and "error" not in ack, f"{self.name}: room:join failed: {ack}"
        return ack

    async def join_voice(self, room_id):
        """`voice:join`; on success, offers a connection to every participant of the ack (unless
        the peer does not negotiate). Returns the ack (an error ack too, for refusal tests)."""
        ack = await self.call("voice:join", {"roomId": room_id})
        if isinstance(ack, dict) and "error" not in ack:
            self.room_id = ack["roomId"]
            self.session_id = ack["sessionId"]
            self.ice_servers = ack["iceServers"]
            if self.negotiate:
                for participant in ack["participants"]:
                    self.offer_to(participant["sessionId"], participant["userId"])
        return ack

    async def leave_voice(self):
        ack = await self.call("voice:leave", {"roomId": self.room_id})
        await self.close_links()
        return ack

    async def signal(self, to, data):
        return await self.call("voice:signal", {"to": to, "data": data})

    def start_without_gateway(self, session_id, user_id, ice_servers, deliver):
        """Runs the peer with its signals carried by `await deliver(to, data)` instead of the gateway
        (another peer's `receive_signal`), to test the media and the TURN server on their own."""
        self.session_id, self.user_id, self.ice_servers = session_id, user_id, ice_servers
        self._deliver = deliver
        self._start()

    def receive_signal(self, signal):
        """A `voice:signal` payload `{from, userId, data}`, as the gateway would deliver it."""
        self._on_event("voice:signal", signal)

    def offer_to(self, session, user=None):
        """Offers a connection to `session` (what `join_voice` does for each participant of its ack)."""
        self._work.put_nowait(("offer", {"sessionId": session, "userId": user}))

    async def _send(self, to, data):
        if self._deliver is not None:
            await self._deliver(to, data)
            return {"ok": True}
        return await self.signal(to, data)

    def rtc_configuration(self) -> RTCConfiguration:
        servers = []
        for server in self.ice_servers:
            urls = list(server["urls"]) if isinstance(server["urls"], list) else [server["urls"]]
            if self.turn_transport:
                urls.sort(key=lambda url: not url.endswith(f"transport={self.turn_transport}"))
            servers.append(RTCIceServer(urls=urls, username=server.get("username"), credential=server.get("credential")))
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=RTCIceTransportPolicy(self.ice_transport_policy))

    # ------------------------------------------------------------ negotiation (one task, in order)

    async def _work_loop(self):
        while True:
            kind, item = await self._work.get()
            try:
                if kind == "offer":
                    await self._offer(item["sessionId"], item.get("userId"))
                elif kind == "signal":
                    await self._on_signal(item)
                elif kind == "left":
                    link = self.links.pop(item.get("sessionId"), None)
                    if link is not None:
                        await link.close()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - kept, and reported by assert_conforming
                self.failures.append(f"{kind} {str(item)[:200]}: {type(error).__name__}: {error}")

    def _link(self, session, user) -> PeerLink:
        link = self.links.get(session)
        if link is None or link.closed:
            link = PeerLink(self, session, user)
            self.links[session] = link
            for waiter in self._link_waiters.pop(session, []):
                if not waiter.done():
                    waiter.set_result(link)
        return link

    async def _offer(self, session, user):
        link = self._link(session, user)
        link.making_offer = True
        try:
            await link.pc.setLocalDescription(await link.pc.createOffer())
        finally:
            link.making_offer = False
        if link.closed or self.links.get(session) is not link:
            return
        ack = await self._send(session, link.description())
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            self.failures.append(f"offer to {session}: {ack}")

    async def _on_signal(self, signal):
        sender, data = signal.get("from"), signal.get("data")
        if not isinstance(data, dict) or not isinstance(sender, str):
            return
        if isinstance(data.get("description"), dict):
            data = data["description"]
        if data.get("type") in ("offer", "answer") and isinstance(data.get("sdp"), str):
            await self._on_description(sender, signal.get("userId"), data)
        elif isinstance(data.get("candidate"), dict):
            await self._on_candidate(sender, signal.get("userId"), data["candidate"])
        elif "candidate" in data:
            await self._on_candidate(sender, signal.get("userId"), data)

    async def _on_description(self, sender, user, data):
        link = self.links.get(sender)
        description = RTCSessionDescription(sdp=data["sdp"], type=data["type"])
        if data["type"] == "offer":
            collision = link is not None and not link.closed and (link.making_offer or link.pc.signalingState != "stable")
            if collision and not link.polite:
                return  # the impolite peer keeps its own offer; the other side answers it
            if collision:
                # The polite peer gives its offer up. aiortc cannot roll a description back, so the
                # connection starts afresh (this only happens before it carried anything).
                self.links.pop(sender, None)
                await link.close()
            link = self._link(sender, user)
            await link.pc.setRemoteDescription(description)
            await link.add_pending_candidates()
            await link.pc.setLocalDescription(await link.pc.createAnswer())
            ack = await self._send(sender, link.description())
            if not isinstance(ack, dict) or ack.get("ok") is not True:
                self.failures.append(f"answer to {sender}: {ack}")
        else:
            if link is None or link.closed or link.pc.signalingState != "have-local-offer":
                return  # an answer to an offer given up
            await link.pc.setRemoteDescription(description)
            await link.add_pending_candidates()

    async def _on_candidate(self, sender, user, init):
        link = self.links.get(sender)
        if link is None or link.closed:
            link = self._link(sender, user)  # its offer follows
        await link.add_candidate(init)

    # ------------------------------------------------------------ what the tests wait for

    async def link(self, session, timeout=EVENT_TIMEOUT) -> PeerLink:
        """The connection to `session`, once there is one."""
        link = self.links.get(session)
        if link is not None and not link.closed:
            return link
        waiter = asyncio.get_running_loop().create_future()
        self._link_waiters[session].append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no connection to {session} within {timeout}s "
                                 f"(failures: {self.failures})") from None

    async def wait_connected(self, sessions, timeout=20):
        """Waits until the connection to each of `sessions` is connected (ICE and DTLS done)."""
        deadline = time.monotonic() + timeout
        for session in sessions:
            link = await self.link(session, timeout=max(deadline - time.monotonic(), 0.001))
            try:
                await link.wait_connected(max(deadline - time.monotonic(), 0.001))
            except asyncio.TimeoutError:
                raise AssertionError(f"{self.name}: the connection to {session} is {link.pc.connectionState} "
                                     f"after {timeout}s ({link.candidates()}; failures: {self.failures}; "
                                     f"TURN: {TURN_FAILURES or 'no allocation failed'})") from None

    async def wait_closed(self, session, timeout=EVENT_TIMEOUT):
        """Waits until the connection to `session` is closed (after its `voice:user_left`)."""
        link = self.links.get(session)
        if link is None:
            return
        try:
            await asyncio.wait_for(link.closed_event.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: the connection to {session} is still open after {timeout}s") from None

    async def wait_heard(self, session, frames=50, timeout=20) -> Hearing:
        """Waits until `frames` audio frames came from `session`; returns what the last of them
        sounded like (a test asserts on it)."""
        link = await self.link(session, timeout=timeout)
        try:
            await link.meter.wait_frames(frames, timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: only {link.meter.frames} audio frames from {session} within {timeout}s "
                                 f"(connection {link.pc.connectionState})") from None
        return link.meter.hearing(last=frames)

    async def close_links(self):
        links, self.links = list(self.links.values()), {}
        for link in links:
            await link.close()

    async def close(self):
        await self.close_links()
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing
                pass
        if self.sio.connected:
            try:
                await self.sio.disconnect()
            except Exception:  # noqa: BLE001 - closing
                pass


# ---------------------------------------------------------------- the stack's TURN server


def turn_settings():
    """(TURN URLs, secret) of the stack under test: VOICEFLOW_TURN_URLS and VOICEFLOW_TURN_SECRET
    (`make test` sets them), else what `stack.sh up` left in the state directory
    (VOICEFLOW_STATE_DIR, default .data): run/stack.env and keys/turn-secret. (None, None) when
    neither is there."""
    urls = os.environ.get("VOICEFLOW_TURN_URLS")
    secret = os.environ.get("VOICEFLOW_TURN_SECRET")
    state_dir = os.environ.get("VOICEFLOW_STATE_DIR", os.path.join(ROOT, ".data"))
    if not urls:
        try:
            with open(os.path.join(state_dir, "run", "stack.env")) as env_file:
                for line in env_file:
                    key, _, value = line.strip().partition("=")
                    if key == "TURN_URLS":
                        urls = shlex.split(value)[0] if value else None
        except OSError:
            pass
    if not secret:
        try:
            with open(os.path.join(state_dir, "keys", "turn-secret")) as secret_file:
                secret = secret_file.read().strip() or None
        except OSError:
            pass
    return ([url for url in urls.split(",") if url] if urls else None), secret


def turn_credential(secret, user_id, expiry):
    """coturn's REST credential: username `"<expiry>:<userId>"`, password
    base64(HMAC-SHA1(secret, username))."""
    username = f"{int(expiry)}:{user_id}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def turn_address(url):
    """(host, port, transport) of a `turn:host:port?transport=...` URL."""
    match = re.fullmatch(r"turns?:(?P<host>[^?:]+)(:(?P<port>\d+))?(\?transport=(?P<transport>udp|tcp))?", url)
    assert match, f"not a TURN URL: {url}"
    return match["host"], int(match["port"] or 3478), match["transport"] or "udp"


async def turn_allocate(url, username, password, timeout=5.0):
    """Asks the TURN server at `url` for an allocation with these credentials: the relayed
    (host, port) it granted, or the STUN error (code, reason) it answered with."""
    host, port, transport = turn_address(url)
    try:
        relay, _ = await asyncio.wait_for(
            aioice.turn.create_turn_endpoint(asyncio.DatagramProtocol, (host, port), username, password, transport=transport),
            timeout)
    except aioice.stun.TransactionFailed as failure:
        return None, failure.response.attributes.get("ERROR-CODE")
    try:
        return relay.get_extra_info("sockname"), None
    finally:
        relay.close()


# ---------------------------------------------------------------- what a full mesh must show

# The tone arrives at an RMS of about 4,000 (of 32,767); silence decodes to about 0.
AUDIBLE_RMS = 1000


async def assert_full_mesh(peers, relay_only=False, frames=50, timeout=45):
    """Every peer is connected to every other one and hears that one's own tone (its energy well
    above silence, at its frequency); with `relay_only`, every connection's nominated candidate
    pair is relayed at both ends (the media can only have gone through the TURN server)."""
    for peer in peers:
        others = [other for other in peers if other is not peer]
        await peer.wait_connected([other.session_id for other in others], timeout=timeout)
    for peer in peers:
        for other in peers:
            if other is peer:
                continue
            heard = await peer.wait_heard(other.session_id, frames=frames, timeout=timeout)
            assert heard.rms > AUDIBLE_RMS, f"{peer.name} hears {other.name} at RMS {heard.rms:.0f}: silence"
            assert abs(heard.frequency - other.tone_hz) < 0.05 * other.tone_hz, (
                f"{peer.name} hears {heard.frequency:.0f} Hz from {other.name}, whose tone is {other.tone_hz:.0f} Hz")
            if relay_only:
                pair = peer.links[other.session_id].selected_pair()
                assert pair is not None, f"{peer.name}: no nominated pair to {other.name}"
                local, remote = pair
                assert (local.type, remote.type) == ("relay", "relay"), (
                    f"{peer.name} -> {other.name}: {local.type} {local.host}:{local.port} -> "
                    f"{remote.type} {remote.host}:{remote.port}")
    for peer in peers:
        peer.assert_conforming()

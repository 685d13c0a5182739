// The voice session of this client: the microphone, one PeerLink per other participant of the
// room's voice (a full mesh), the remote audio, voice activity both ways, mute/deafen, devices and
// per-user volume. What the UI shows of it lives in the store (state/voice.ts).

import type { Connection } from '../realtime/connection';
import { SocketRequestError } from '../realtime/connection';
import type { IceServer, PayloadOf, SettablePresence, VoiceParticipant } from '../protocol';
import type { Action, AppState } from '../state/app-state';
import type { Store } from '../state/store';
import { Device, volumeOf } from '../state/voice';
import { parseSignal, PeerLink } from './negotiation';
import { MicrophoneActivity, receivedVad, silent, VadState, vadStep } from './vad';

export interface VoiceEngineDependencies {
  connection: Pick<Connection, 'request' | 'send' | 'on'>;
  store: Store<AppState, Action>;
  notify: (text: string, tone?: 'info' | 'error') => void;
  playSound: (sound: 'voiceJoin' | 'voiceLeave') => void;
  setPresence: (status: SettablePresence) => void;
  /** Saves the user's volume and device choices. */
  remember: (choices: { volumes: Readonly<Record<string, number>>; inputId: string | null; outputId: string | null }) => void;
  createPeer?: (config: RTCConfiguration) => RTCPeerConnection;
}

interface RemoteAudio {
  readonly userId: string;
  readonly element: HTMLAudioElement;
}

const levelIntervalMs = 100;

function toRtcIceServer(server: IceServer): RTCIceServer {
  const entry: RTCIceServer = { urls: server.urls };
  if (server.username !== undefined) entry.username = server.username;
  if (server.credential !== undefined) entry.credential = server.credential;
  return entry;
}

function describeMicrophoneError(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError') return 'Microphone access was denied: you can listen, not speak.';
  if (name === 'NotFoundError') return 'No microphone found: you can listen, not speak.';
  return 'The microphone could not be opened: you can listen, not speak.';
}

export class VoiceEngine {
  private readonly links = new Map<string, PeerLink>();
  private readonly audio = new Map<string, RemoteAudio>();
  private readonly levels = new Map<string, VadState>();
  private stream: MediaStream | null = null;
  private activity: MicrophoneActivity | null = null;
  private context: AudioContext | null = null;
  private iceServers: RTCIceServer[] = [];
  private levelTimer: number | null = null;
  private mutedBeforeDeafen = false;
  /** The room whose voice to rejoin once the connection is back (a disconnect ends the session). */
  private rejoinRoomId: string | null = null;

  constructor(private readonly deps: VoiceEngineDependencies) {
    const { connection } = deps;
    connection.on('voice:user_joined', (event) => this.userJoined(event));
    connection.on('voice:user_left', (event) => this.userLeft(event));
    connection.on('voice:signal', (event) => this.signal(event));
    connection.on('voice:state_changed', (event) => this.dispatch({ type: 'voice/stateChanged', ...event }));
    connection.on('voice:speaking', (event) => this.dispatch({ type: 'voice/speakingChanged', ...event }));
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.refreshDevices());
  }

  private get state(): AppState {
    return this.deps.store.getState();
  }

  private dispatch(action: Action): void {
    this.deps.store.dispatch(action);
  }

  private get local() {
    return this.state.voice.local;
  }

  // MARK: Joining and leaving

  /** Enters the voice of `roomId` (leaving any other first). Call it from a click: it opens the microphone. */
  async join(roomId: string): Promise<void> {
    if (this.local?.roomId === roomId) return;
    if (this.local) await this.leave();
    this.rejoinRoomId = null;
    this.dispatch({ type: 'voice/local', local: { roomId, status: 'joining', sessionId: null, muted: false, deafened: false } });
    this.context ??= new AudioContext();
    void this.context.resume();
    let microphoneProblem: string | undefined;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
    } catch (error) {
      microphoneProblem = describeMicrophoneError(error);
    }
    let ack;
    try {
      ack = await this.deps.connection.request('voice:join', { roomId });
    } catch (error) {
      this.teardown();
      this.dispatch({ type: 'voice/local', local: null });
      const full = error instanceof SocketRequestError && error.code === 'VOICE_FULL';
      this.deps.notify(full ? 'Voice is full in this room.' : 'Could not join voice. Try again.', 'error');
      return;
    }
    if (this.local?.roomId !== roomId) {
      // Left (or moved) while joining.
      void this.deps.connection.request('voice:leave', { roomId }).catch(() => undefined);
      return;
    }
    this.iceServers = ack.iceServers.map(toRtcIceServer);
    const muted = this.stream === null;
    this.setTracksEnabled(!muted);
    this.dispatch({
      type: 'voice/local',
      local: { roomId, status: 'connected', sessionId: ack.sessionId, muted, deafened: false, ...(microphoneProblem ? { microphoneProblem } : {}) },
    });
    const me = this.state.session.user;
    if (me) {
      this.dispatch({
        type: 'voice/userJoined',
        roomId,
        participant: { userId: me.id, username: me.username, sessionId: ack.sessionId, muted, deafened: false, speaking: false },
      });
    }
    if (muted) void this.deps.connection.request('voice:state', { roomId, muted: true }).catch(() => undefined);
    for (const participant of ack.participants) this.link(participant, true);
    this.startActivity();
    this.startLevels();
    this.deps.setPresence('in_call');
    this.deps.playSound('voiceJoin');
    if (microphoneProblem) this.deps.notify(microphoneProblem, 'error');
    void this.refreshDevices();
  }

  /** Leaves voice. */
  async leave(): Promise<void> {
    const local = this.local;
    this.rejoinRoomId = null;
    if (!local) return;
    this.teardown();
    if (local.sessionId) {
      this.dispatch({ type: 'voice/userLeft', roomId: local.roomId, sessionId: local.sessionId });
      await this.deps.connection.request('voice:leave', { roomId: local.roomId }).catch(() => undefined);
    }
    this.dispatch({ type: 'voice/local', local: null });
    this.deps.setPresence('online');
    this.deps.playSound('voiceLeave');
  }

  /** The socket dropped: its voice session ended on the server. Remember to come back. */
  connectionLost(): void {
    const local = this.local;
    if (!local) return;
    this.rejoinRoomId = local.roomId;
    this.teardown();
    this.dispatch({ type: 'voice/local', local: null });
  }

  /** The socket is back and its rooms are joined again: rejoin the voice it was in. */
  connectionRestored(): void {
    const roomId = this.rejoinRoomId;
    this.rejoinRoomId = null;
    if (roomId && this.state.rooms.mine[roomId]) void this.join(roomId);
  }

  /** The user is gone from a room (or signed out): its voice goes too. */
  roomGone(roomId: string): void {
    if (this.local?.roomId === roomId || this.rejoinRoomId === roomId) {
      this.rejoinRoomId = null;
      this.teardown();
      this.dispatch({ type: 'voice/local', local: null });
    }
  }

  shutdown(): void {
    this.rejoinRoomId = null;
    this.teardown();
    void this.context?.close();
    this.context = null;
  }

  // MARK: Controls

  setMuted(muted: boolean): void {
    const local = this.local;
    if (!local?.sessionId) return;
    if (!muted && !this.stream) {
      this.deps.notify(local.microphoneProblem ?? 'No microphone is open.', 'error');
      return;
    }
    this.setTracksEnabled(!muted);
    this.dispatch({ type: 'voice/local', local: { ...local, muted } });
    this.dispatch({ type: 'voice/stateChanged', roomId: local.roomId, sessionId: local.sessionId, muted, deafened: local.deafened });
    if (muted) this.localSpeaking(false);
    void this.deps.connection.request('voice:state', { roomId: local.roomId, muted }).catch(() => undefined);
  }

  /** Deafening also mutes (undeafening restores the mute as it was), as people expect from Discord. */
  setDeafened(deafened: boolean): void {
    const local = this.local;
    if (!local?.sessionId) return;
    if (deafened) this.mutedBeforeDeafen = local.muted;
    const muted = deafened ? true : this.stream ? this.mutedBeforeDeafen : true;
    this.setTracksEnabled(!muted);
    for (const { element } of this.audio.values()) element.muted = deafened;
    this.dispatch({ type: 'voice/local', local: { ...local, muted, deafened } });
    this.dispatch({ type: 'voice/stateChanged', roomId: local.roomId, sessionId: local.sessionId, muted, deafened });
    if (muted) this.localSpeaking(false);
    void this.deps.connection.request('voice:state', { roomId: local.roomId, muted, deafened }).catch(() => undefined);
  }

  setVolume(userId: string, volume: number): void {
    this.dispatch({ type: 'voice/volume', userId, volume });
    for (const remote of this.audio.values()) if (remote.userId === userId) remote.element.volume = volumeOf(this.state.voice, userId);
    this.rememberChoices();
  }

  async setInput(deviceId: string | null): Promise<void> {
    this.dispatch({ type: 'voice/deviceChosen', kind: 'input', deviceId });
    this.rememberChoices();
    const local = this.local;
    if (!local?.sessionId) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints() });
    } catch (error) {
      this.deps.notify(describeMicrophoneError(error), 'error');
      return;
    }
    const old = this.stream;
    this.stream = stream;
    this.setTracksEnabled(!(this.local?.muted ?? true));
    const track = stream.getAudioTracks()[0] ?? null;
    await Promise.all([...this.links.values()].map((link) => link.replaceTrack(track)));
    old?.getTracks().forEach((t) => t.stop());
    this.startActivity();
    if (local.microphoneProblem) {
      const { microphoneProblem: _solved, ...rest } = local;
      this.dispatch({ type: 'voice/local', local: rest });
    }
  }

  async setOutput(deviceId: string | null): Promise<void> {
    this.dispatch({ type: 'voice/deviceChosen', kind: 'output', deviceId });
    this.rememberChoices();
    await Promise.all([...this.audio.values()].map(({ element }) => this.applySink(element)));
  }

  /** Whether the browser can choose where audio plays. */
  get canChooseOutput(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  async refreshDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const list = (kind: MediaDeviceKind, fallback: string): Device[] =>
      devices
        .filter((device) => device.kind === kind && device.deviceId)
        .map((device, index) => ({ deviceId: device.deviceId, label: device.label || `${fallback} ${index + 1}` }));
    const inputs = list('audioinput', 'Microphone');
    const outputs = list('audiooutput', 'Speaker');
    this.dispatch({ type: 'voice/devices', inputs, outputs });
    const { inputId, outputId } = this.state.voice;
    // A chosen device that was unplugged: back to the system default (devicechange → replaceTrack).
    if (inputId && !inputs.some((d) => d.deviceId === inputId)) await this.setInput(null);
    else if (!inputId && this.local?.sessionId && this.stream?.getAudioTracks()[0]?.readyState === 'ended') await this.setInput(null);
    if (outputId && !outputs.some((d) => d.deviceId === outputId)) await this.setOutput(null);
  }

  // MARK: Server events

  private userJoined(event: PayloadOf<'voice:user_joined'>): void {
    const participant: VoiceParticipant = { ...event, speaking: false };
    this.dispatch({ type: 'voice/userJoined', roomId: event.roomId, participant });
    const local = this.local;
    if (local?.sessionId && local.roomId === event.roomId && event.sessionId !== local.sessionId) {
      // The newcomer offers; this side waits for it.
      this.link(participant, false);
      this.deps.playSound('voiceJoin');
    }
  }

  private userLeft(event: PayloadOf<'voice:user_left'>): void {
    this.dispatch({ type: 'voice/userLeft', roomId: event.roomId, sessionId: event.sessionId });
    const local = this.local;
    if (!local) return;
    if (event.sessionId === local.sessionId) {
      // This session ended without this client asking (another tab took over, kicked, room gone).
      this.teardown();
      this.dispatch({ type: 'voice/local', local: null });
      this.deps.setPresence('online');
      if (event.reason === 'moved') this.deps.notify('Voice moved to another tab or room.');
      return;
    }
    if (local.roomId === event.roomId) {
      this.unlink(event.sessionId);
      this.deps.playSound('voiceLeave');
    }
  }

  private signal(event: PayloadOf<'voice:signal'>): void {
    const local = this.local;
    if (!local?.sessionId) return;
    const signal = parseSignal(event.data);
    if (!signal) return;
    let link = this.links.get(event.from);
    if (!link) {
      const known = this.state.voice.rooms[local.roomId]?.[event.from];
      const participant: VoiceParticipant = known ?? {
        userId: event.userId,
        username: '',
        sessionId: event.from,
        muted: false,
        deafened: false,
        speaking: false,
      };
      link = this.link(participant, false);
    }
    void link.receive(signal);
  }

  // MARK: Peers

  private link(participant: VoiceParticipant, initiate: boolean): PeerLink {
    const local = this.local;
    const existing = this.links.get(participant.sessionId);
    if (existing) return existing;
    const sessionId = participant.sessionId;
    const link = new PeerLink({
      localSessionId: local?.sessionId ?? '',
      remoteSessionId: sessionId,
      createPeer: this.deps.createPeer ?? ((config) => new RTCPeerConnection(config)),
      iceServers: this.iceServers,
      track: this.stream?.getAudioTracks()[0] ?? null,
      initiate,
      send: (data) => this.deps.connection.send('voice:signal', { to: sessionId, data }),
      onRemoteStream: (stream) => this.play(sessionId, participant.userId, stream),
      onState: (state) => this.dispatch({ type: 'voice/link', sessionId, state }),
      onError: (error) => console.warn('Voice negotiation failed', sessionId, error),
    });
    this.links.set(sessionId, link);
    return link;
  }

  private unlink(sessionId: string): void {
    this.links.get(sessionId)?.close();
    this.links.delete(sessionId);
    this.levels.delete(sessionId);
    const remote = this.audio.get(sessionId);
    if (remote) {
      remote.element.pause();
      remote.element.srcObject = null;
      this.audio.delete(sessionId);
    }
    this.dispatch({ type: 'voice/link', sessionId, state: null });
  }

  private play(sessionId: string, userId: string, stream: MediaStream): void {
    let remote = this.audio.get(sessionId);
    if (!remote) {
      remote = { userId, element: new Audio() };
      remote.element.autoplay = true;
      this.audio.set(sessionId, remote);
    }
    const { element } = remote;
    element.srcObject = stream;
    element.volume = volumeOf(this.state.voice, userId);
    element.muted = this.local?.deafened ?? false;
    void this.applySink(element);
    void element.play().catch(() => undefined);
  }

  private async applySink(element: HTMLAudioElement): Promise<void> {
    const outputId = this.state.voice.outputId;
    if (!element.setSinkId) return;
    try {
      await element.setSinkId(outputId ?? '');
    } catch {
      // The device went away meanwhile: the default plays.
    }
  }

  // MARK: Voice activity

  private startActivity(): void {
    this.activity?.stop();
    this.activity = null;
    if (!this.stream || !this.context) return;
    this.activity = new MicrophoneActivity(this.context, this.stream, (speaking) => this.localSpeaking(speaking));
  }

  private localSpeaking(speaking: boolean): void {
    const local = this.local;
    if (!local?.sessionId) return;
    const value = speaking && !local.muted;
    if ((this.state.voice.heard[local.sessionId] ?? false) === value) return;
    this.dispatch({ type: 'voice/heard', sessionId: local.sessionId, speaking: value });
    this.deps.connection.send('voice:speaking', { roomId: local.roomId, speaking: value });
  }

  /** Who is heard speaking: the level of each peer's received audio. */
  private startLevels(): void {
    if (this.levelTimer !== null) return;
    this.levelTimer = window.setInterval(() => {
      const now = performance.now();
      for (const [sessionId, link] of this.links) {
        let level = 0;
        for (const receiver of link.receivers()) {
          for (const source of receiver.getSynchronizationSources()) level = Math.max(level, source.audioLevel ?? 0);
        }
        const before = this.levels.get(sessionId) ?? silent;
        const after = vadStep(before, level, now, receivedVad);
        this.levels.set(sessionId, after);
        if (after.speaking !== before.speaking) this.dispatch({ type: 'voice/heard', sessionId, speaking: after.speaking });
      }
    }, levelIntervalMs);
  }

  // MARK: Plumbing

  private audioConstraints(): MediaTrackConstraints {
    const constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    const inputId = this.state.voice.inputId;
    if (inputId) constraints.deviceId = { exact: inputId };
    return constraints;
  }

  private setTracksEnabled(enabled: boolean): void {
    this.stream?.getAudioTracks().forEach((track) => {
      track.enabled = enabled;
    });
  }

  private rememberChoices(): void {
    const { volumes, inputId, outputId } = this.state.voice;
    this.deps.remember({ volumes, inputId, outputId });
  }

  private teardown(): void {
    for (const sessionId of [...this.links.keys()]) this.unlink(sessionId);
    for (const sessionId of [...this.audio.keys()]) {
      const remote = this.audio.get(sessionId)!;
      remote.element.pause();
      remote.element.srcObject = null;
    }
    this.audio.clear();
    this.levels.clear();
    this.activity?.stop();
    this.activity = null;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    if (this.levelTimer !== null) window.clearInterval(this.levelTimer);
    this.levelTimer = null;
  }
}

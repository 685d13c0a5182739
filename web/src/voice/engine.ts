// The voice session of this client: the microphone, one PeerLink per other participant of the
// room's voice (a full mesh), the remote audio, voice activity both ways, mute/deafen, devices and
// per-user volume. What the UI shows of it lives in the store (state/voice.ts).

import type { Connection } from '../realtime/connection';
import { SocketRequestError } from '../realtime/connection';
import type { IceServer, PayloadOf, SettablePresence, VoiceParticipant } from '../protocol';
import type { Action, AppState } from '../state/app-state';
import type { Store } from '../state/store';
import { volumeOf } from '../state/voice';
import { listDevices, microphoneConstraints } from './devices';
import { parseSignal, PeerLink } from './negotiation';
import { Playback } from './playback';
import { MicrophoneActivity, ReceivedActivity } from './vad';

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
  private readonly playback = new Playback();
  /** Who is heard speaking: the level of each peer's received audio. */
  private readonly received = new ReceivedActivity(
    () => this.links.entries(),
    (sessionId, speaking) => this.dispatch({ type: 'voice/heard', sessionId, speaking }),
  );
  private stream: MediaStream | null = null;
  private activity: MicrophoneActivity | null = null;
  private context: AudioContext | null = null;
  private iceServers: RTCIceServer[] = [];
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
    const { stream, problem } = await this.openMicrophone();
    const stillJoining = () => this.local?.roomId === roomId && this.local.status === 'joining';
    if (!stillJoining()) {
      stream?.getTracks().forEach((track) => track.stop());
      return;
    }
    this.stream = stream;
    const ack = await this.deps.connection.request('voice:join', { roomId }).catch((error: unknown) => {
      this.teardown();
      this.dispatch({ type: 'voice/local', local: null });
      const full = error instanceof SocketRequestError && error.code === 'VOICE_FULL';
      this.deps.notify(full ? 'Voice is full in this room.' : 'Could not join voice. Try again.', 'error');
      return null;
    });
    if (!ack) return;
    if (!stillJoining()) {
      // Left (or moved) while joining.
      void this.deps.connection.request('voice:leave', { roomId }).catch(() => undefined);
      return;
    }
    this.iceServers = ack.iceServers.map(toRtcIceServer);
    const muted = stream === null;
    this.setTracksEnabled(!muted);
    this.dispatch({
      type: 'voice/local',
      local: { roomId, status: 'connected', sessionId: ack.sessionId, muted, deafened: false, ...(problem ? { microphoneProblem: problem } : {}) },
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
    // The newcomer offers to everyone already there.
    for (const participant of ack.participants) this.link(participant, true);
    this.startActivity();
    this.received.start();
    this.deps.setPresence('in_call');
    this.deps.playSound('voiceJoin');
    if (problem) this.deps.notify(problem, 'error');
    void this.refreshDevices();
  }

  /** The microphone, or why there is none (then the user listens only). */
  private async openMicrophone(): Promise<{ stream: MediaStream | null; problem?: string }> {
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(this.state.voice.inputId) }) };
    } catch (error) {
      return { stream: null, problem: describeMicrophoneError(error) };
    }
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
    this.playback.setDeafened(deafened);
    this.dispatch({ type: 'voice/local', local: { ...local, muted, deafened } });
    this.dispatch({ type: 'voice/stateChanged', roomId: local.roomId, sessionId: local.sessionId, muted, deafened });
    if (muted) this.localSpeaking(false);
    void this.deps.connection.request('voice:state', { roomId: local.roomId, muted, deafened }).catch(() => undefined);
  }

  setVolume(userId: string, volume: number): void {
    this.dispatch({ type: 'voice/volume', userId, volume });
    this.playback.setVolume(userId, volumeOf(this.state.voice, userId));
    this.rememberChoices();
  }

  async setInput(deviceId: string | null): Promise<void> {
    this.dispatch({ type: 'voice/deviceChosen', kind: 'input', deviceId });
    this.rememberChoices();
    const local = this.local;
    if (!local?.sessionId) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(this.state.voice.inputId) });
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
    await this.playback.setOutput(deviceId);
  }

  /** Whether the browser can choose where audio plays. */
  get canChooseOutput(): boolean {
    return Playback.canChooseOutput;
  }

  async refreshDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const { inputs, outputs } = listDevices(await navigator.mediaDevices.enumerateDevices());
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
      onRemoteStream: (stream) => this.playback.play(sessionId, participant.userId, stream, volumeOf(this.state.voice, participant.userId)),
      onState: (state) => this.dispatch({ type: 'voice/link', sessionId, state }),
      onError: (error) => console.warn('Voice negotiation failed', sessionId, error),
    });
    this.links.set(sessionId, link);
    return link;
  }

  private unlink(sessionId: string): void {
    this.links.get(sessionId)?.close();
    this.links.delete(sessionId);
    this.received.forget(sessionId);
    this.playback.stop(sessionId);
    this.dispatch({ type: 'voice/link', sessionId, state: null });
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

  // MARK: Plumbing

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
    this.playback.stopAll();
    this.received.stop();
    this.activity?.stop();
    this.activity = null;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }
}

// Voice as the UI shows it: who is in each room's voice (the server's view, kept by the voice
// events), this client's own session, how each peer connection is doing, who is heard speaking,
// and the user's device and volume choices.

import type { VoiceParticipant } from '../protocol';
import type { Action } from './app-state';

export interface LocalVoice {
  readonly roomId: string;
  readonly status: 'joining' | 'connected';
  readonly sessionId: string | null;
  readonly muted: boolean;
  readonly deafened: boolean;
  /** Why the microphone is not in use (denied, absent): listening only. */
  readonly microphoneProblem?: string;
}

export type LinkState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface Device {
  readonly deviceId: string;
  readonly label: string;
}

export interface VoiceState {
  /** roomId → sessionId → participant. */
  readonly rooms: Readonly<Record<string, Readonly<Record<string, VoiceParticipant>>>>;
  readonly local: LocalVoice | null;
  /** sessionId → speaking, as heard here (remote: received audio level; own session: local VAD). */
  readonly heard: Readonly<Record<string, boolean>>;
  readonly links: Readonly<Record<string, LinkState>>;
  /** userId → volume, 0…1. */
  readonly volumes: Readonly<Record<string, number>>;
  readonly inputs: readonly Device[];
  readonly outputs: readonly Device[];
  readonly inputId: string | null;
  readonly outputId: string | null;
}

export const emptyVoice: VoiceState = {
  rooms: {},
  local: null,
  heard: {},
  links: {},
  volumes: {},
  inputs: [],
  outputs: [],
  inputId: null,
  outputId: null,
};

export type VoiceAction =
  | { type: 'voice/roster'; roomId: string; participants: readonly VoiceParticipant[] }
  | { type: 'voice/userJoined'; roomId: string; participant: VoiceParticipant }
  | { type: 'voice/userLeft'; roomId: string; sessionId: string }
  | { type: 'voice/stateChanged'; roomId: string; sessionId: string; muted: boolean; deafened: boolean }
  | { type: 'voice/speakingChanged'; roomId: string; sessionId: string; speaking: boolean }
  | { type: 'voice/local'; local: LocalVoice | null }
  | { type: 'voice/heard'; sessionId: string; speaking: boolean }
  | { type: 'voice/link'; sessionId: string; state: LinkState | null }
  | { type: 'voice/volume'; userId: string; volume: number }
  | { type: 'voice/devices'; inputs: readonly Device[]; outputs: readonly Device[] }
  | { type: 'voice/deviceChosen'; kind: 'input' | 'output'; deviceId: string | null }
  | { type: 'voice/forgetRoom'; roomId: string };

function inRoom(
  state: VoiceState,
  roomId: string,
  change: (room: Readonly<Record<string, VoiceParticipant>>) => Readonly<Record<string, VoiceParticipant>>,
): VoiceState {
  const room = state.rooms[roomId] ?? {};
  const next = change(room);
  return next === room ? state : { ...state, rooms: { ...state.rooms, [roomId]: next } };
}

function patchParticipant(
  state: VoiceState,
  roomId: string,
  sessionId: string,
  change: Partial<Pick<VoiceParticipant, 'muted' | 'deafened' | 'speaking'>>,
): VoiceState {
  return inRoom(state, roomId, (room) => {
    const known = room[sessionId];
    return known ? { ...room, [sessionId]: { ...known, ...change } } : room;
  });
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!(key in record)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

export function voiceReducer(state: VoiceState, action: Action): VoiceState {
  switch (action.type) {
    case 'voice/roster':
      return { ...state, rooms: { ...state.rooms, [action.roomId]: Object.fromEntries(action.participants.map((p) => [p.sessionId, p])) } };
    case 'voice/userJoined':
      return inRoom(state, action.roomId, (room) => ({ ...room, [action.participant.sessionId]: action.participant }));
    case 'voice/userLeft': {
      const next = inRoom(state, action.roomId, (room) => without(room, action.sessionId));
      return { ...next, heard: without(next.heard, action.sessionId), links: without(next.links, action.sessionId) };
    }
    case 'voice/stateChanged':
      return patchParticipant(state, action.roomId, action.sessionId, { muted: action.muted, deafened: action.deafened });
    case 'voice/speakingChanged':
      return patchParticipant(state, action.roomId, action.sessionId, { speaking: action.speaking });
    case 'voice/local':
      return action.local === null ? { ...state, local: null, heard: {}, links: {} } : { ...state, local: action.local };
    case 'voice/heard':
      return (state.heard[action.sessionId] ?? false) === action.speaking
        ? state
        : { ...state, heard: { ...state.heard, [action.sessionId]: action.speaking } };
    case 'voice/link':
      return action.state === null
        ? { ...state, links: without(state.links, action.sessionId) }
        : { ...state, links: { ...state.links, [action.sessionId]: action.state } };
    case 'voice/volume':
      return { ...state, volumes: { ...state.volumes, [action.userId]: Math.min(1, Math.max(0, action.volume)) } };
    case 'voice/devices':
      return { ...state, inputs: action.inputs, outputs: action.outputs };
    case 'voice/deviceChosen':
      return action.kind === 'input' ? { ...state, inputId: action.deviceId } : { ...state, outputId: action.deviceId };
    case 'voice/forgetRoom': {
      const rooms = without(state.rooms, action.roomId);
      return rooms === state.rooms ? state : { ...state, rooms };
    }
    default:
      return state;
  }
}

/**
 * Whether to draw a participant's speaking ring. This client's own ring follows its voice activity
 * detection; a peer it has a connection with, the audio it receives; anyone else, what the server
 * relays of their own detection.
 */
export function isSpeaking(state: VoiceState, participant: VoiceParticipant): boolean {
  const local = state.local;
  if (local && participant.sessionId === local.sessionId) return !local.muted && (state.heard[participant.sessionId] ?? false);
  if (local?.status === 'connected' && state.links[participant.sessionId] === 'connected') {
    return state.heard[participant.sessionId] ?? false;
  }
  return participant.speaking && !participant.muted;
}

/** The participants of a room's voice, oldest session first as the server lists them. */
export function voiceParticipants(state: VoiceState, roomId: string): VoiceParticipant[] {
  return Object.values(state.rooms[roomId] ?? {});
}

/** The volume to play a user at (1 unless the user set one). */
export function volumeOf(state: VoiceState, userId: string): number {
  return state.volumes[userId] ?? 1;
}

// The client's whole state and the one reducer over it. Each part has its own reducer, which
// ignores the actions of other parts; the few actions that touch several parts in one step (a
// message arriving, a room going away, signing out) are composed here.

import type { Message } from '../protocol';
import { observe } from './cursor';
import { MembersAction, membersReducer, MembersState } from './members';
import { Outbox, OutboxAction, outboxReducer, reconcile } from './outbox';
import { emptyRooms, RoomsAction, roomsReducer, RoomsState } from './rooms';
import { initialSession, SessionAction, sessionReducer, SessionState } from './session';
import { Channels, emptyChannel, TimelineAction, timelineReducer } from './timeline';
import { TypingAction, typingReducer, TypingState } from './typing';
import { emptyVoice, VoiceAction, voiceReducer, VoiceState } from './voice';

export interface AppState {
  readonly session: SessionState;
  readonly rooms: RoomsState;
  readonly channels: Channels;
  readonly members: MembersState;
  readonly typing: TypingState;
  readonly outbox: Outbox;
  readonly voice: VoiceState;
}

export const initialState: AppState = {
  session: initialSession,
  rooms: emptyRooms,
  channels: {},
  members: {},
  typing: {},
  outbox: [],
  voice: emptyVoice,
};

/** The user is no longer in the room (left, kicked, or it was deleted): everything about it goes. */
export interface RoomGone {
  type: 'room/gone';
  roomId: string;
}

export type Action =
  | SessionAction
  | RoomsAction
  | TimelineAction
  | MembersAction
  | TypingAction
  | OutboxAction
  | VoiceAction
  | RoomGone;

/** Whether the client has seen this message already (by seq, or by id in a room without seqs). */
function alreadySeen(state: AppState, message: Message): boolean {
  const channel = state.channels[message.roomId] ?? emptyChannel;
  if (message.seq !== undefined) return observe(channel.cursor, message.seq).sighting === 'duplicate';
  return channel.messages.some((held) => held.id === message.id);
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!(key in record)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

export function appReducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'message/live': {
      // A message seen before (a catch-up overlapping what came live) counts as unread once, and
      // confirms an outgoing copy once.
      const seen = alreadySeen(state, action.message);
      const channels = timelineReducer(state.channels, { ...action, unread: action.unread && !seen });
      const outbox = action.mine && !seen ? reconcile(state.outbox, action.message) : state.outbox;
      const authorId = action.message.author?.id;
      const typing = authorId
        ? typingReducer(state.typing, { type: 'typing/stopped', roomId: action.roomId, userId: authorId })
        : state.typing;
      return { ...state, channels, outbox, typing };
    }
    case 'outbox/sent': {
      // The ack carries the stored message: it takes the outgoing copy's place.
      const { message } = action;
      const channels = timelineReducer(state.channels, { type: 'message/live', roomId: message.roomId, message, mine: true, unread: false });
      return { ...state, channels, outbox: outboxReducer(state.outbox, action) };
    }
    case 'room/gone': {
      const { roomId } = action;
      return {
        ...state,
        session: sessionReducer(state.session, { type: 'view/room', roomId: state.session.viewRoomId === roomId ? null : state.session.viewRoomId }),
        rooms: roomsReducer(state.rooms, { type: 'rooms/removed', roomId }),
        channels: timelineReducer(state.channels, { type: 'channel/forget', roomId }),
        members: withoutKey(state.members, roomId),
        typing: withoutKey(state.typing, roomId),
        outbox: state.outbox.filter((item) => item.roomId !== roomId),
        voice: voiceReducer(state.voice, { type: 'voice/forgetRoom', roomId }),
      };
    }
    case 'auth/signedOut':
      return { ...initialState, session: sessionReducer(state.session, action) };
    default: {
      const next: AppState = {
        session: sessionReducer(state.session, action),
        rooms: roomsReducer(state.rooms, action),
        channels: timelineReducer(state.channels, action),
        members: membersReducer(state.members, action),
        typing: typingReducer(state.typing, action),
        outbox: outboxReducer(state.outbox, action),
        voice: voiceReducer(state.voice, action),
      };
      const changed = (Object.keys(next) as (keyof AppState)[]).some((key) => next[key] !== state[key]);
      return changed ? next : state;
    }
  }
}

// Who is typing in each room. The gateway ends a typing spell on its own after a few seconds
// (TYPING_TIMEOUT_SECONDS); the client also lets one lapse if the stop was lost.

import type { Action } from './app-state';

export interface Typist {
  readonly username: string;
  /** When to stop showing it (ms since 1970). */
  readonly until: number;
}

export type TypingState = Readonly<Record<string, Readonly<Record<string, Typist>>>>;

/** How long a typing notice lasts without a renewal, in ms. */
export const typingLifetime = 8000;

export type TypingAction =
  | { type: 'typing/started'; roomId: string; userId: string; username: string; now: number }
  | { type: 'typing/stopped'; roomId: string; userId: string }
  | { type: 'typing/lapsed'; now: number };

export function typingReducer(state: TypingState, action: Action): TypingState {
  switch (action.type) {
    case 'typing/started':
      return {
        ...state,
        [action.roomId]: { ...state[action.roomId], [action.userId]: { username: action.username, until: action.now + typingLifetime } },
      };
    case 'typing/stopped': {
      const room = state[action.roomId];
      if (!room || !(action.userId in room)) return state;
      const { [action.userId]: _gone, ...rest } = room;
      return { ...state, [action.roomId]: rest };
    }
    case 'typing/lapsed': {
      let changed = false;
      const next: Record<string, Record<string, Typist>> = {};
      for (const [roomId, typists] of Object.entries(state)) {
        const kept = Object.entries(typists).filter(([, typist]) => typist.until > action.now);
        if (kept.length !== Object.keys(typists).length) changed = true;
        next[roomId] = Object.fromEntries(kept);
      }
      return changed ? next : state;
    }
    default:
      return state;
  }
}

/** The typing line: "alice is typing…", "alice and bob are typing…", "Several people are typing…". */
export function typingLine(typists: Readonly<Record<string, Typist>> | undefined, selfId: string | null): string {
  const names = Object.entries(typists ?? {})
    .filter(([userId]) => userId !== selfId)
    .map(([, typist]) => typist.username)
    .sort();
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return 'Several people are typing…';
}

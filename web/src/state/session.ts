// Who is signed in, how the live connection is doing, which room is on screen, and notices.

import type { User } from '../api/types';
import type { Action } from './app-state';

export type AuthStatus = 'restoring' | 'signedOut' | 'signedIn';

/** `connecting`: the first connect; `reconnecting`: it was up and dropped (the banner shows). */
export type ConnectionStatus = 'offline' | 'connecting' | 'connected' | 'reconnecting';

export interface Toast {
  readonly id: number;
  readonly text: string;
  readonly tone: 'info' | 'error';
}

export interface SessionState {
  readonly auth: AuthStatus;
  readonly user: User | null;
  readonly isGuest: boolean;
  /** Why the user is on the sign-in screen, if it was not their choice. */
  readonly notice: string | null;
  readonly connection: ConnectionStatus;
  /** The room on screen, if any. */
  readonly viewRoomId: string | null;
  readonly toasts: readonly Toast[];
}

export const initialSession: SessionState = {
  auth: 'restoring',
  user: null,
  isGuest: false,
  notice: null,
  connection: 'offline',
  viewRoomId: null,
  toasts: [],
};

export type SessionAction =
  | { type: 'auth/signedIn'; user: User; isGuest: boolean }
  | { type: 'auth/user'; user: User }
  | { type: 'auth/signedOut'; notice: string | null }
  | { type: 'connection/status'; status: ConnectionStatus }
  | { type: 'view/room'; roomId: string | null }
  | { type: 'toast/show'; toast: Toast }
  | { type: 'toast/dismiss'; id: number };

/** At most this many notices at once: the oldest goes. */
const maxToasts = 4;

export function sessionReducer(state: SessionState, action: Action): SessionState {
  switch (action.type) {
    case 'auth/signedIn':
      return { ...state, auth: 'signedIn', user: action.user, isGuest: action.isGuest, notice: null };
    case 'auth/user':
      return { ...state, user: action.user };
    case 'auth/signedOut':
      return { ...initialSession, auth: 'signedOut', notice: action.notice, toasts: state.toasts };
    case 'connection/status':
      return state.connection === action.status ? state : { ...state, connection: action.status };
    case 'view/room':
      return state.viewRoomId === action.roomId ? state : { ...state, viewRoomId: action.roomId };
    case 'toast/show':
      return { ...state, toasts: [...state.toasts, action.toast].slice(-maxToasts) };
    case 'toast/dismiss':
      return { ...state, toasts: state.toasts.filter((toast) => toast.id !== action.id) };
    default:
      return state;
  }
}

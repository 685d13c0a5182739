// What the client does with each server event: it turns them into actions on the store, and
// notifies the user of messages in rooms not in view.

import type { Connection } from '../realtime/connection';
import type { Message } from '../protocol';
import type { Action, AppState } from '../state/app-state';
import type { Store } from '../state/store';

export interface SocketEventContext {
  connection: Connection;
  store: Store<AppState, Action>;
  /** Whether the user is looking at the room's newest messages right now. */
  isReading: (roomId: string) => boolean;
  /** A message arrived that the user is not looking at. */
  notifyMessage: (message: Message) => void;
  /** A message was seen as it arrived. */
  markRead: (roomId: string) => void;
  /** A gap in a room's seqs: fill it from history. */
  checkGap: (roomId: string) => void;
  /** The user is no longer in the room. */
  roomGone: (roomId: string, why: 'left' | 'kicked' | 'deleted') => void;
}

export function wireSocketEvents(context: SocketEventContext): void {
  const { connection, store } = context;
  const dispatch = (action: Action) => store.dispatch(action);
  const me = () => store.getState().session.user?.id ?? null;

  connection.on('message:received', (message) => {
    const mine = message.author?.id === me();
    const reading = context.isReading(message.roomId);
    const before = store.getState().channels[message.roomId];
    dispatch({ type: 'message/live', roomId: message.roomId, message, mine, unread: !mine && !reading });
    const after = store.getState().channels[message.roomId];
    const isNew = after !== before && (after?.unread ?? 0) > (before?.unread ?? 0);
    if (isNew) context.notifyMessage(message);
    if (reading) context.markRead(message.roomId);
    if (after && after.cursor.ahead.length > 0) context.checkGap(message.roomId);
  });
  connection.on('message:edited', ({ message }) => dispatch({ type: 'message/changed', message }));
  connection.on('message:deleted', ({ message }) => dispatch({ type: 'message/changed', message }));

  connection.on('user:typing', (event) => {
    if (event.userId !== me()) dispatch({ type: 'typing/started', ...event, now: Date.now() });
  });
  connection.on('user:stopped_typing', (event) => dispatch({ type: 'typing/stopped', ...event }));
  connection.on('user:presence_changed', (event) => dispatch({ type: 'presence/changed', ...event }));

  connection.on('room:joined', ({ roomId, participants }) => dispatch({ type: 'members/set', roomId, participants }));
  connection.on('room:user_joined', (event) => dispatch({ type: 'members/opened', ...event }));
  connection.on('room:user_left', (event) => dispatch({ type: 'members/closed', ...event }));
  connection.on('room:member_joined', ({ roomId, member }) => dispatch({ type: 'members/joined', roomId, member }));
  connection.on('room:member_role_changed', ({ roomId, member }) => dispatch({ type: 'members/role', roomId, member }));
  connection.on('room:member_left', ({ roomId, userId }) => {
    if (userId === me()) context.roomGone(roomId, 'left');
    else dispatch({ type: 'members/gone', roomId, userId });
  });
  connection.on('room:member_kicked', ({ roomId, userId }) => {
    if (userId === me()) context.roomGone(roomId, 'kicked');
    else dispatch({ type: 'members/gone', roomId, userId });
  });
  connection.on('room:updated', ({ room }) => dispatch({ type: 'rooms/upsert', room }));
  connection.on('room:deleted', ({ roomId }) => context.roomGone(roomId, 'deleted'));
  connection.on('room:kicked', ({ roomId }) => context.roomGone(roomId, 'kicked'));
  connection.on('room:left', ({ roomId }) => context.roomGone(roomId, 'left'));

  connection.on('error', (error) => console.warn('Socket error', error.code, error.message));
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appReducer, initialState, AppState, Action } from '../src/state/app-state';
import { emptyChannel, mergeMessages, timelineReducer, unloadedLiveLimit } from '../src/state/timeline';
import { alice, message, roomId, seqs } from './fixtures';

function run(actions: Action[], state: AppState = initialState): AppState {
  return actions.reduce(appReducer, state);
}

const live = (seq: number, unread = true): Action => ({ type: 'message/live', roomId, message: message(seq), mine: false, unread });

test('merging keeps seq order, each message once, whatever order pages and live messages come in', () => {
  const merged = mergeMessages([message(3), message(4)], [message(6), message(1), message(4), message(5), message(2)]);
  assert.deepEqual(seqs(merged), [1, 2, 3, 4, 5, 6]);
});

test('a later revision replaces the copy held; an older one does not', () => {
  const original = message(7);
  const edited = { ...original, content: 'fixed', editedAt: '2026-01-31T12:05:00Z' };
  const deleted = { ...original, content: '', deletedAt: '2026-01-31T12:06:00Z' };
  assert.equal(mergeMessages([original], [edited])[0]!.content, 'fixed');
  assert.equal(mergeMessages([edited], [original])[0]!.content, 'fixed');
  assert.equal(mergeMessages([deleted], [edited])[0]!.deletedAt, deleted.deletedAt);
});

test('a copy under another id with a seq already held is a duplicate', () => {
  const merged = mergeMessages([message(3)], [message(3, { id: '00000000-0000-4000-9000-ffffffffffff' })]);
  assert.equal(merged.length, 1);
});

test('after a reconnect the catch-up overlaps what came live: no gap, no duplicate, unread counted once', () => {
  let state = run([{ type: 'history/latest', roomId, messages: [message(10), message(9), message(8)], hasOlder: true }]);
  state = run([live(11), live(12)], state);
  // Disconnected here; the client rejoins with lastSeq = the cursor.
  assert.equal(state.channels[roomId]!.cursor.contiguous, 12);
  // The gateway replays 12 (already seen: the connection dropped before it was noted elsewhere) and what was missed.
  state = run([live(12), live(13), live(14), live(13), live(15)], state);
  const channel = state.channels[roomId]!;
  assert.deepEqual(seqs(channel.messages), [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(channel.unread, 5);
  assert.deepEqual(channel.cursor, { contiguous: 15, ahead: [] });
});

test('a live message past a gap is shown in place and the gap is filled from history', () => {
  let state = run([{ type: 'history/latest', roomId, messages: [message(1), message(2)], hasOlder: false }, live(5)]);
  assert.deepEqual(state.channels[roomId]!.cursor, { contiguous: 2, ahead: [5] });
  state = run([{ type: 'history/after', roomId, messages: [message(3), message(4), message(5)] }], state);
  assert.deepEqual(seqs(state.channels[roomId]!.messages), [1, 2, 3, 4, 5]);
  assert.deepEqual(state.channels[roomId]!.cursor, { contiguous: 5, ahead: [] });
});

test('older pages go before, and the last one says there is nothing older', () => {
  let state = run([{ type: 'history/latest', roomId, messages: [message(51), message(52)], hasOlder: true }]);
  state = run([{ type: 'history/loadingOlder', roomId, loading: true }], state);
  assert.equal(state.channels[roomId]!.loadingOlder, true);
  state = run([{ type: 'history/older', roomId, messages: [message(50), message(49)], hasOlder: false }], state);
  const channel = state.channels[roomId]!;
  assert.deepEqual(seqs(channel.messages), [49, 50, 51, 52]);
  assert.equal(channel.hasOlder, false);
  assert.equal(channel.loadingOlder, false);
  assert.equal(channel.cursor.contiguous, 52);
});

test('a room not opened yet counts unread from its seed and keeps only its newest live messages', () => {
  let state = run([{ type: 'channel/seed', roomId, newestSeq: 100, readSeq: 97 }]);
  assert.equal(state.channels[roomId]!.unread, 3);
  for (let seq = 101; seq <= 100 + unloadedLiveLimit + 10; seq += 1) state = appReducer(state, live(seq));
  const channel = state.channels[roomId]!;
  assert.equal(channel.unread, 3 + unloadedLiveLimit + 10);
  assert.equal(channel.messages.length, unloadedLiveLimit);
  assert.equal(channel.messages[channel.messages.length - 1]!.seq, 100 + unloadedLiveLimit + 10);
  // Opening it: the newest page joins up with what came live.
  state = run([{ type: 'channel/opened', roomId }], state);
  assert.equal(state.channels[roomId]!.markerSeq, 98);
  state = run([{ type: 'channel/read', roomId, seq: 160 }], state);
  assert.equal(state.channels[roomId]!.unread, 0);
  assert.equal(state.channels[roomId]!.readSeq, 160);
});

test('a message read as it arrives (room in view) is not unread and moves the read mark', () => {
  const state = run([{ type: 'history/latest', roomId, messages: [message(1)], hasOlder: false }, live(2, false)]);
  assert.equal(state.channels[roomId]!.unread, 0);
  assert.equal(state.channels[roomId]!.readSeq, 2);
});

test('an edit of a message never loaded is not added; one held is replaced', () => {
  const held = timelineReducer({ [roomId]: { ...emptyChannel, loaded: true, messages: [message(1)] } }, {
    type: 'message/changed',
    message: { ...message(1), content: 'edited', editedAt: '2026-01-31T13:00:00Z' },
  });
  assert.equal(held[roomId]!.messages[0]!.content, 'edited');
  const unknown = timelineReducer(held, { type: 'message/changed', message: { ...message(9), editedAt: '2026-01-31T13:00:00Z' } });
  assert.equal(unknown, held);
});

test('a message from someone ends their typing notice', () => {
  let state = run([{ type: 'typing/started', roomId, userId: alice.id, username: 'alice', now: 0 }]);
  assert.ok(state.typing[roomId]![alice.id]);
  state = run([{ type: 'message/live', roomId, message: message(1, { author: alice }), mine: false, unread: true }], state);
  assert.equal(state.typing[roomId]![alice.id], undefined);
});

test('leaving a room forgets its messages, members, typing and unsent messages', () => {
  let state = run([
    { type: 'rooms/upsert', room: { id: roomId, code: 'ABC', name: 'r', createdBy: alice.id, maxUsers: 10, settings: { isPublic: true, allowGuests: false, requireApproval: false, recordMessages: true }, isActive: true, memberCount: 1, createdAt: '2026-01-01T00:00:00Z', lastActivity: '2026-01-01T00:00:00Z' } },
    { type: 'view/room', roomId },
    live(1),
  ]);
  state = run([{ type: 'room/gone', roomId }], state);
  assert.equal(state.rooms.mine[roomId], undefined);
  assert.equal(state.channels[roomId], undefined);
  assert.equal(state.session.viewRoomId, null);
});

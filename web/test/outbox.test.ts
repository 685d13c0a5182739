import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appReducer, initialState, AppState, Action } from '../src/state/app-state';
import { mayHaveBeenSent, nextToSend, outgoing, Outbox, outboxReducer, restorable } from '../src/state/outbox';
import { alice, message, roomId, seqs } from './fixtures';

const otherRoom = '00000000-0000-4000-8000-0000000000bb';

function item(clientId: string, content: string, room = roomId) {
  return outgoing({ clientId, roomId: room, content, createdAt: '2026-01-31T12:00:00Z' });
}

function run(actions: Action[], state: AppState = initialState): AppState {
  return actions.reduce(appReducer, state);
}

test('an outgoing message is pending, then sent: the stored message takes its place', () => {
  let state = run([{ type: 'history/latest', roomId, messages: [message(1)], hasOlder: false }]);
  state = run([{ type: 'outbox/enqueue', item: item('c1', 'hello') }, { type: 'outbox/sending', clientId: 'c1' }], state);
  assert.equal(state.outbox[0]!.status, 'sending');
  assert.equal(state.outbox[0]!.attempts, 1);
  const stored = message(2, { content: 'hello', author: alice });
  state = run([{ type: 'outbox/sent', clientId: 'c1', message: stored }], state);
  assert.deepEqual(state.outbox, []);
  assert.deepEqual(seqs(state.channels[roomId]!.messages), [1, 2]);
  // The live echo that follows is a duplicate.
  state = run([{ type: 'message/live', roomId, message: stored, mine: true, unread: false }], state);
  assert.deepEqual(seqs(state.channels[roomId]!.messages), [1, 2]);
});

test('a failed send stays, marked, and a retry queues it again', () => {
  let outbox: Outbox = [item('c1', 'hi')];
  outbox = outboxReducer(outbox, { type: 'outbox/sending', clientId: 'c1' });
  outbox = outboxReducer(outbox, { type: 'outbox/failed', clientId: 'c1', error: 'Timed out' });
  assert.equal(outbox[0]!.status, 'failed');
  assert.equal(outbox[0]!.error, 'Timed out');
  assert.deepEqual(nextToSend(outbox, () => true), []);
  outbox = outboxReducer(outbox, { type: 'outbox/retry', clientId: 'c1' });
  assert.equal(outbox[0]!.status, 'queued');
  assert.equal(outbox[0]!.error, undefined);
  assert.deepEqual(nextToSend(outbox, () => true).map((i) => i.clientId), ['c1']);
  outbox = outboxReducer(outbox, { type: 'outbox/discard', clientId: 'c1' });
  assert.deepEqual(outbox, []);
});

test('sends go one at a time per room, in the order written, and wait for the room to be ready', () => {
  let outbox: Outbox = [item('a1', 'one'), item('a2', 'two'), item('b1', 'other', otherRoom)];
  assert.deepEqual(nextToSend(outbox, () => false), []);
  assert.deepEqual(nextToSend(outbox, (id) => id === roomId).map((i) => i.clientId), ['a1']);
  outbox = outboxReducer(outbox, { type: 'outbox/sending', clientId: 'a1' });
  assert.deepEqual(nextToSend(outbox, () => true).map((i) => i.clientId), ['b1']);
});

test('a send cut off by a disconnect waits; the catch-up shows it arrived, so it is not sent twice', () => {
  let state = run([
    { type: 'history/latest', roomId, messages: [message(1)], hasOlder: false },
    { type: 'outbox/enqueue', item: item('c1', 'while the network fell') },
    { type: 'outbox/enqueue', item: item('c2', 'written offline') },
    { type: 'outbox/sending', clientId: 'c1' },
    { type: 'outbox/interrupted', clientId: 'c1' },
  ]);
  assert.deepEqual(state.outbox.map((i) => [i.clientId, i.status]), [['c1', 'queued'], ['c2', 'queued']]);
  // Reconnected: room:join with lastSeq 1 replays what the server stored, c1 among it.
  state = run([{ type: 'message/live', roomId, message: message(2, { content: 'while the network fell', author: alice }), mine: true, unread: false }], state);
  assert.deepEqual(state.outbox.map((i) => i.clientId), ['c2']);
  assert.deepEqual(nextToSend(state.outbox, () => true).map((i) => i.clientId), ['c2']);
});

test('a message of the user never emitted from here (another tab) confirms nothing', () => {
  const state = run([
    { type: 'outbox/enqueue', item: item('c1', 'same words') },
    { type: 'message/live', roomId, message: message(5, { content: 'same words', author: alice }), mine: true, unread: false },
  ]);
  assert.deepEqual(state.outbox.map((i) => i.clientId), ['c1']);
});

test('a live echo seen twice confirms one outgoing copy only', () => {
  const echo = message(3, { content: 'ok', author: alice });
  let state = run([
    { type: 'history/latest', roomId, messages: [message(2)], hasOlder: false },
    { type: 'outbox/enqueue', item: item('c1', 'ok') },
    { type: 'outbox/enqueue', item: item('c2', 'ok') },
    { type: 'outbox/sending', clientId: 'c1' },
    { type: 'message/live', roomId, message: echo, mine: true, unread: false },
    { type: 'outbox/sending', clientId: 'c2' },
  ]);
  assert.deepEqual(state.outbox.map((i) => i.clientId), ['c2']);
  // c1's ack (and a replay of its echo) come late: c2 stays pending until its own confirmation.
  state = run([
    { type: 'outbox/sent', clientId: 'c1', message: echo },
    { type: 'message/live', roomId, message: echo, mine: true, unread: false },
  ], state);
  assert.deepEqual(state.outbox.map((i) => i.clientId), ['c2']);
});

test('a saved outbox is taken up safely: never-emitted sends queue again, emitted ones wait for the user, junk goes', () => {
  let outbox: Outbox = [item('c1', 'sent once'), item('c2', 'never sent'), item('c3', 'refused')];
  outbox = outboxReducer(outbox, { type: 'outbox/sending', clientId: 'c1' });
  outbox = outboxReducer(outbox, { type: 'outbox/sending', clientId: 'c3' });
  outbox = outboxReducer(outbox, { type: 'outbox/failed', clientId: 'c3', error: 'Too long' });
  const saved: unknown = JSON.parse(JSON.stringify([...outbox, null, 'junk', { clientId: 'c4', roomId, type: 'text' }, { ...item('c5', 'x'), type: 'poll' }]));

  const restored = restorable(saved);
  assert.deepEqual(restored.map((entry) => [entry.clientId, entry.status]), [['c1', 'failed'], ['c2', 'queued'], ['c3', 'failed']]);
  assert.equal(restored[0]!.error, mayHaveBeenSent);
  assert.equal(restored[2]!.error, 'Too long');
  // Only the one never emitted goes out by itself.
  assert.deepEqual(nextToSend(restored, () => true).map((entry) => entry.clientId), ['c2']);
  assert.deepEqual(restorable('not a list'), []);
  assert.deepEqual(restorable({ clientId: 'c1' }), []);
});

test('restoring puts the saved items before what this page wrote, once', () => {
  const mine = outboxReducer([], { type: 'outbox/enqueue', item: item('new', 'written now') });
  const saved = restorable(JSON.parse(JSON.stringify([item('old', 'written before'), item('new', 'written now')])));
  let outbox = outboxReducer(mine, { type: 'outbox/restore', items: saved });
  assert.deepEqual(outbox.map((entry) => entry.clientId), ['old', 'new']);
  outbox = outboxReducer(outbox, { type: 'outbox/restore', items: saved });
  assert.deepEqual(outbox.map((entry) => entry.clientId), ['old', 'new']);
});

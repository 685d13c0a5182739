import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { test } from 'node:test';
import { clientEvents, serverEvents } from '../src/protocol';
import { s } from '../src/schema';
import { AsyncApiDocument, differences, ProtocolDocument } from './asyncapi';

// The document of this checkout (ASYNCAPI_JSON names another one).
const path = process.env.ASYNCAPI_JSON ?? new URL('../../libs/Common/Resources/asyncapi.json', import.meta.url);
const raw = JSON.parse(readFileSync(path, 'utf8')) as AsyncApiDocument;
const doc = new ProtocolDocument(raw);

test('every client event is one the server receives, with the payload the client sends', () => {
  for (const [name, event] of Object.entries(clientEvents)) {
    const payload = doc.payload(name, 'out');
    assert.ok(payload, `${name} is not a client event of the document`);
    assert.deepEqual(differences(doc, event.request, payload, 'out', name), []);
  }
});

test('every acknowledgement the client reads is a reply the document gives', () => {
  for (const [name, event] of Object.entries(clientEvents)) {
    const replies = doc.replies(name);
    assert.ok(replies.length > 0, `${name} has no reply in the document`);
    const fits = replies.map((reply) => differences(doc, event.ack, reply, 'in', `${name} ack`));
    assert.ok(
      fits.some((problems) => problems.length === 0),
      `${name}: no reply fits the client's ack type:\n${fits.map((p) => p.join('\n')).join('\n--\n')}`,
    );
    const failure = replies.some((reply) => differences(doc, s.object({ error: s.object({ code: s.string }) }), reply, 'in', name).length === 0);
    assert.ok(failure, `${name}: the document describes no {error} reply`);
  }
});

test('every server event the client listens to is one the server sends, with the fields the client reads', () => {
  for (const [name, shape] of Object.entries(serverEvents)) {
    const payload = doc.payload(name, 'in');
    assert.ok(payload, `${name} is not a server event of the document`);
    assert.deepEqual(differences(doc, shape, payload, 'in', name), []);
  }
});

test('the comparison notices drift', () => {
  const renamed = s.object({ roomId: s.uuid, lastSequence: s.optional(s.integer) });
  assert.deepEqual(differences(doc, renamed, doc.payload('room:join', 'out')!, 'out', 'room:join'), [
    'room:join.lastSequence: not in the document',
  ]);
  const retyped = s.object({ userId: s.uuid, status: s.enumOf('online', 'away') });
  const problems = differences(doc, retyped, doc.payload('user:presence_changed', 'in')!, 'in', 'presence');
  assert.deepEqual(problems, [
    'presence.status: the document has the value in_call the other side lacks',
    'presence.status: the document has the value offline the other side lacks',
  ]);
  const missing = s.object({ roomId: s.uuid });
  assert.deepEqual(differences(doc, missing, doc.payload('message:send', 'out')!, 'out', 'send'), [
    'send.content: the document requires it, the client may not send it',
  ]);
  assert.equal(doc.payload('room:teleport', 'out'), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isOfferCollision, isPolite, parseSignal, PeerLink } from '../src/voice/negotiation';
import type { JsonValue } from '../src/schema';
import { settle } from './fake-clock';
import { FakePeer } from './fake-peer';

const low = '11111111-0000-4000-8000-000000000000';
const high = '99999999-0000-4000-8000-000000000000';

test('the polite peer is the one with the greater sessionId, compared as strings', () => {
  assert.equal(isPolite(high, low), true);
  assert.equal(isPolite(low, high), false);
  // String order, not numeric: "b" > "a0000…".
  assert.equal(isPolite('b0000000-0000-4000-8000-000000000000', 'a9999999-0000-4000-8000-000000000000'), true);
});

test('an offer collides when one is being made or negotiation is not stable', () => {
  assert.equal(isOfferCollision('offer', true, 'stable'), true);
  assert.equal(isOfferCollision('offer', false, 'have-local-offer'), true);
  assert.equal(isOfferCollision('offer', false, 'stable'), false);
  assert.equal(isOfferCollision('answer', false, 'have-local-offer'), false);
});

test('signals are read from the wire: descriptions, candidates, nothing else', () => {
  assert.deepEqual(parseSignal({ type: 'offer', sdp: 'v=0' }), { kind: 'description', description: { type: 'offer', sdp: 'v=0' } });
  assert.deepEqual(parseSignal({ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }), {
    kind: 'candidate',
    candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 },
  });
  assert.equal(parseSignal({ type: 'bogus' }), null);
  assert.equal(parseSignal('offer'), null);
});

/** Two links wired to each other through a queue the test flushes. */
function pair(aInitiates: boolean, bInitiates: boolean) {
  const wire: { to: 'a' | 'b'; data: JsonValue }[] = [];
  const errors: unknown[] = [];
  const peers = { a: new FakePeer('a'), b: new FakePeer('b') };
  const link = (self: 'a' | 'b', initiate: boolean) =>
    new PeerLink({
      localSessionId: self === 'a' ? low : high,
      remoteSessionId: self === 'a' ? high : low,
      createPeer: () => peers[self] as unknown as RTCPeerConnection,
      iceServers: [],
      track: null,
      initiate,
      send: (data) => wire.push({ to: self === 'a' ? 'b' : 'a', data }),
      onRemoteStream: () => undefined,
      onState: () => undefined,
      onError: (error) => errors.push(error),
    });
  const links = { a: link('a', aInitiates), b: link('b', bInitiates) };
  async function flush(): Promise<void> {
    await settle();
    while (wire.length) {
      const batch = wire.splice(0);
      for (const { to, data } of batch) await links[to].receive(parseSignal(data)!);
      await settle();
    }
  }
  return { peers, links, wire, errors, flush };
}

test('the newcomer offers, the peer already there answers, candidates follow', async () => {
  const { peers, errors, flush } = pair(true, false);
  await flush();
  assert.deepEqual(peers.a.events, ['offered', 'took b:answer']);
  assert.deepEqual(peers.b.events, ['took a:offer1', 'answered']);
  peers.a.gather('candidate:a1');
  peers.b.gather('candidate:b1');
  await flush();
  assert.deepEqual(peers.b.candidates.map((c) => c.candidate), ['candidate:a1']);
  assert.deepEqual(peers.a.candidates.map((c) => c.candidate), ['candidate:b1']);
  assert.equal(peers.a.signalingState, 'stable');
  assert.equal(peers.b.signalingState, 'stable');
  assert.deepEqual(errors, []);
});

test('crossing offers: the impolite side ignores the one it gets, the polite side rolls back and answers', async () => {
  const { peers, links, errors, flush, wire } = pair(true, true);
  assert.equal(links.a.polite, false);
  assert.equal(links.b.polite, true);
  await settle();
  // Both offered before either offer arrived.
  assert.deepEqual(wire.map((w) => (w.data as { type: string }).type), ['offer', 'offer']);
  // A candidate of the polite side's doomed offer reaches the impolite side too.
  peers.b.gather('candidate:of-ignored-offer');
  await flush();
  assert.deepEqual(peers.a.events, ['offered', 'took b:answer']);
  assert.deepEqual(peers.b.events, ['offered', 'rolled back', 'took a:offer1', 'answered']);
  assert.equal(peers.a.signalingState, 'stable');
  assert.equal(peers.b.signalingState, 'stable');
  assert.deepEqual(errors, [], 'the ignored offer and its candidate raise nothing');
});

test('an ICE failure restarts ICE, which renegotiates', async () => {
  const { peers, flush } = pair(true, false);
  await flush();
  peers.a.iceConnectionState = 'failed';
  peers.a.oniceconnectionstatechange?.(new Event('iceconnectionstatechange'));
  await flush();
  assert.equal(peers.a.restarts, 1);
  assert.deepEqual(peers.a.events, ['offered', 'took b:answer', 'offered', 'took b:answer']);
});

test('a closed link stops negotiating', async () => {
  const { peers, links, flush } = pair(true, false);
  links.b.close();
  await flush();
  assert.equal(peers.b.closed, true);
  assert.deepEqual(peers.b.events, []);
});

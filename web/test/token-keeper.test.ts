import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Grant, refreshDelay, RefreshOutcome, retryDelay, SessionEndReason, TokenKeeper } from '../src/auth/token-keeper';
import { FakeClock, settle } from './fake-clock';

interface Harness {
  clock: FakeClock;
  keeper: TokenKeeper<string>;
  refreshes: number;
  grants: string[];
  ended: SessionEndReason[];
  answers: RefreshOutcome<string>[];
}

function harness(): Harness {
  const clock = new FakeClock();
  const h: Harness = { clock, keeper: undefined as unknown as TokenKeeper<string>, refreshes: 0, grants: [], ended: [], answers: [] };
  h.keeper = new TokenKeeper<string>({
    clock,
    refresh: async () => {
      h.refreshes += 1;
      return h.answers.shift() ?? { kind: 'granted', grant: grant(`t${h.refreshes + 1}`) };
    },
    onGrant: (g) => h.grants.push(g.token),
    onEnded: (reason) => h.ended.push(reason),
  });
  return h;
}

function grant(token: string, expiresIn = 900): Grant<string> {
  return { token, expiresIn, user: 'alice' };
}

test('a token is refreshed a minute before it expires (a fifth of a short lifetime)', () => {
  assert.equal(refreshDelay(900), 840_000);
  assert.equal(refreshDelay(60), 48_000);
  assert.equal(refreshDelay(0.5), 1000);
});

test('the refresh runs when due, and the next one is scheduled from the new token', async () => {
  const h = harness();
  h.keeper.accept(grant('t1'));
  assert.deepEqual(h.grants, ['t1']);
  await h.clock.advance(839_000);
  assert.equal(h.refreshes, 0);
  await h.clock.advance(1000);
  assert.equal(h.refreshes, 1);
  assert.equal(h.keeper.token, 't2');
  assert.deepEqual(h.grants, ['t1', 't2']);
  await h.clock.advance(840_000);
  assert.equal(h.refreshes, 2);
  assert.equal(h.keeper.token, 't3');
});

test('callers needing a token during a refresh share it: the refresh token is presented once', async () => {
  const h = harness();
  h.keeper.accept(grant('t1'));
  const [a, b, c] = await Promise.all([h.keeper.refreshNow(), h.keeper.refreshNow(), h.keeper.refreshNow()]);
  assert.equal(h.refreshes, 1);
  assert.deepEqual([a, b, c], ['t2', 't2', 't2']);
  assert.equal(h.clock.pending, 1, 'one refresh scheduled, not three');
});

test('reuse detection ends the session cleanly: no token, nothing scheduled', async () => {
  const h = harness();
  h.keeper.accept(grant('t1'));
  h.answers.push({ kind: 'ended', reason: 'reused' });
  assert.equal(await h.keeper.refreshNow(), null);
  assert.deepEqual(h.ended, ['reused']);
  assert.equal(h.keeper.token, null);
  assert.equal(h.clock.pending, 0);
});

test('an auth service that cannot answer is retried with backoff, keeping the token while it lasts', async () => {
  const h = harness();
  h.keeper.accept(grant('t1', 60));
  h.answers.push({ kind: 'unavailable' }, { kind: 'unavailable', retryAfterMs: 10_000 });
  await h.clock.advance(48_000);
  assert.equal(h.refreshes, 1);
  assert.equal(h.keeper.token, 't1');
  assert.equal(h.keeper.isExpired, false);
  assert.equal(h.clock.nextAt! - h.clock.now(), retryDelay(1));
  await h.clock.advance(retryDelay(1));
  assert.equal(h.refreshes, 2);
  assert.equal(h.clock.nextAt! - h.clock.now(), 10_000, 'Retry-After is respected');
  await h.clock.advance(10_000);
  assert.equal(h.refreshes, 3);
  assert.equal(h.keeper.token, 't4');
  assert.deepEqual(h.ended, []);
});

test('a page woken from sleep refreshes at once if the refresh is overdue', async () => {
  const h = harness();
  h.keeper.accept(grant('t1'));
  h.clock.sleep(3_600_000);
  assert.equal(h.keeper.isExpired, true);
  h.keeper.checkDue();
  await settle();
  assert.equal(h.refreshes, 1);
  assert.equal(h.keeper.token, 't2');
  h.keeper.checkDue();
  await settle();
  assert.equal(h.refreshes, 1, 'not due again');
});

test('signing out forgets the token and stops refreshing', async () => {
  const h = harness();
  h.keeper.accept(grant('t1'));
  h.keeper.clear();
  assert.equal(h.keeper.token, null);
  await h.clock.advance(3_600_000);
  assert.equal(h.refreshes, 0);
});

test('restoring a session on page load is a refresh with no token in hand', async () => {
  const h = harness();
  assert.equal(await h.keeper.refreshNow(), 't2');
  assert.deepEqual(h.grants, ['t2']);
  const empty = harness();
  empty.answers.push({ kind: 'ended', reason: 'expired' });
  assert.equal(await empty.keeper.refreshNow(), null);
  assert.deepEqual(empty.ended, ['expired']);
});

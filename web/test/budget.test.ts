import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBudget } from '../src/realtime/budget';
import { FakeClock, settle } from './fake-clock';

test('events within the burst go at once; the rest are spaced at the rate', async () => {
  const clock = new FakeClock();
  const budget = new EventBudget(clock, 10, 3);
  let sent = 0;
  for (let i = 0; i < 6; i += 1) void budget.take().then(() => (sent += 1));
  await settle();
  assert.equal(sent, 3);
  assert.equal(budget.backlog, 3);
  await clock.advance(100);
  assert.equal(sent, 4);
  await clock.advance(200);
  assert.equal(sent, 6);
  assert.equal(budget.backlog, 0);
});

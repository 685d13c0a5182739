import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyCursor, fill, missingAfter, observe, seed } from '../src/state/cursor';

test('the cursor advances over consecutive seqs and knows a repeat', () => {
  let cursor = emptyCursor;
  for (const seq of [5, 6, 7]) {
    const seen = observe(cursor, seq);
    assert.equal(seen.sighting, 'new');
    cursor = seen.cursor;
  }
  assert.deepEqual(cursor, { contiguous: 7, ahead: [] });
  assert.equal(observe(cursor, 6).sighting, 'duplicate');
  assert.equal(observe(cursor, 7).sighting, 'duplicate');
});

test('a seq past a gap is new, held ahead, and the gap is what to ask for', () => {
  let { cursor, sighting } = observe({ contiguous: 10, ahead: [] }, 13);
  assert.equal(sighting, 'gap');
  assert.deepEqual(cursor, { contiguous: 10, ahead: [13] });
  assert.equal(missingAfter(cursor), 10);
  assert.equal(observe(cursor, 13).sighting, 'duplicate');
  ({ cursor } = observe(cursor, 11));
  assert.deepEqual(cursor, { contiguous: 11, ahead: [13] });
  ({ cursor } = observe(cursor, 12));
  assert.deepEqual(cursor, { contiguous: 13, ahead: [] });
  assert.equal(missingAfter(cursor), null);
});

test('a gap filled from history, in any order, closes', () => {
  const cursor = fill({ contiguous: 3, ahead: [7, 8] }, [6, 4, 5]);
  assert.deepEqual(cursor, { contiguous: 8, ahead: [] });
});

test('seeding starts an empty cursor at the newest seq and never moves a started one', () => {
  assert.deepEqual(seed(emptyCursor, 40), { contiguous: 40, ahead: [] });
  assert.deepEqual(seed({ contiguous: 42, ahead: [] }, 40), { contiguous: 42, ahead: [] });
  assert.deepEqual(seed(emptyCursor, undefined), emptyCursor);
});

test('messages without seq (rooms that record nothing) are always new and leave the cursor alone', () => {
  const cursor = { contiguous: 2, ahead: [] };
  assert.deepEqual(observe(cursor, undefined), { cursor, sighting: 'new' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outgoing } from '../src/state/outbox';
import { buildRows, lastOwnMessage } from '../src/ui/rows';
import { anchoredScrollTop, layout, rowAt, visibleRange } from '../src/ui/virtual';
import { alice, bob, message } from './fixtures';

test('a room of 10,000 messages renders a window of rows, not all of them', () => {
  const heights = Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? 64 : 28));
  const sizes = layout(heights);
  assert.equal(sizes.total, heights.reduce((a, b) => a + b, 0));
  const range = visibleRange(sizes, heights, sizes.total - 800, 800, 600);
  assert.equal(range.end, 10_000);
  assert.ok(range.end - range.start < 100, `rendered ${range.end - range.start} rows`);
  const middle = visibleRange(sizes, heights, 100_000, 800, 600);
  assert.ok(middle.start > 0 && middle.end < 10_000 && middle.end - middle.start < 100);
});

test('the row at a height is found by binary search', () => {
  const heights = [10, 20, 30];
  const sizes = layout(heights);
  assert.deepEqual(sizes.offsets, [0, 10, 30]);
  assert.equal(rowAt(sizes, heights, 0), 0);
  assert.equal(rowAt(sizes, heights, 9.9), 0);
  assert.equal(rowAt(sizes, heights, 10), 1);
  assert.equal(rowAt(sizes, heights, 59), 2);
  assert.equal(rowAt(sizes, heights, 500), 2);
});

test('prepending older rows keeps the row in view where it was', () => {
  const before = layout([40, 40, 40]);
  const keys = ['a', 'b', 'c'];
  // "b" sat 15 px above the viewport's top at scrollTop 55.
  const anchor = { key: 'b', delta: before.offsets[1]! - 55 };
  const after = layout([30, 30, 30, 40, 40, 40]);
  assert.equal(anchoredScrollTop(after, ['x', 'y', 'z', ...keys], anchor), 90 + 40 - anchor.delta);
  assert.equal(anchoredScrollTop(after, ['x'], anchor), null);
});

test('rows: a day separator, grouping within five minutes, the new-messages line before the first unread', () => {
  const at = (minute: number) => new Date(2026, 0, 31, 12, minute).toISOString();
  const messages = [
    message(1, { author: bob, createdAt: at(0) }),
    message(2, { author: bob, createdAt: at(2) }),
    message(3, { author: bob, createdAt: at(9) }),
    message(4, { author: alice, createdAt: at(10) }),
    message(5, { author: bob, createdAt: at(11) }),
  ];
  const rows = buildRows(messages, [], 5, alice.id);
  assert.deepEqual(
    rows.map((row) => (row.kind === 'message' ? `${row.message.seq}${row.grouped ? 'g' : ''}` : row.kind)),
    ['day', '1', '2g', '3', '4', 'marker', '5'],
  );
});

test('pending messages follow the stored ones, grouped with the user\'s own last message', () => {
  const at = new Date(2026, 0, 31, 12, 0).toISOString();
  const rows = buildRows(
    [message(1, { author: alice, createdAt: at })],
    [outgoing({ clientId: 'c1', roomId: 'r', content: 'hi', createdAt: at })],
    null,
    alice.id,
  );
  assert.deepEqual(rows.map((row) => row.kind), ['day', 'message', 'pending']);
  const last = rows[2]!;
  assert.equal(last.kind === 'pending' && last.grouped, true);
});

test('the Up arrow edits the newest message of the user that is not deleted', () => {
  const messages = [message(1, { author: alice }), message(2, { author: alice, deletedAt: '2026-01-31T12:00:00Z' }), message(3, { author: bob })];
  assert.equal(lastOwnMessage(messages, alice.id)?.seq, 1);
  assert.equal(lastOwnMessage(messages, 'nobody'), null);
});

// The per-room sequence cursor: which message numbers the client has seen without a gap, so that
// a reconnect (to any gateway) asks for exactly what it missed (`room:join {roomId, lastSeq}`)
// and a message delivered twice is recognised.

/** `contiguous`: every seq up to it is seen (null: nothing yet). `ahead`: seen seqs past a gap, ascending. */
export interface Cursor {
  readonly contiguous: number | null;
  readonly ahead: readonly number[];
}

export const emptyCursor: Cursor = { contiguous: null, ahead: [] };

/** `new`: first sight; `duplicate`: seen before; `gap`: new, but some before it are missing. */
export type Sighting = 'new' | 'duplicate' | 'gap';

export interface Observation {
  readonly cursor: Cursor;
  readonly sighting: Sighting;
}

/** Records a live message's seq (one without a seq, in a room that records nothing, is always new). */
export function observe(cursor: Cursor, seq: number | undefined): Observation {
  if (seq === undefined) return { cursor, sighting: 'new' };
  const { contiguous, ahead } = cursor;
  if (contiguous === null) return { cursor: { contiguous: seq, ahead: [] }, sighting: 'new' };
  if (seq <= contiguous || ahead.includes(seq)) return { cursor, sighting: 'duplicate' };
  if (seq === contiguous + 1) return { cursor: absorb(seq, ahead), sighting: 'new' };
  const inserted = [...ahead, seq].sort((a, b) => a - b);
  return { cursor: { contiguous, ahead: inserted }, sighting: 'gap' };
}

/** Starts (or moves) the cursor at a known newest seq, from a page of history, when it has none yet. */
export function seed(cursor: Cursor, newest: number | undefined): Cursor {
  if (newest === undefined || cursor.contiguous !== null) return cursor;
  return { contiguous: newest, ahead: cursor.ahead.filter((seq) => seq > newest) };
}

/** Takes in a run of seqs fetched to fill a gap (ascending or not). */
export function fill(cursor: Cursor, seqs: readonly number[]): Cursor {
  let next = cursor;
  for (const seq of [...seqs].sort((a, b) => a - b)) next = observe(next, seq).cursor;
  return next;
}

/** The first seq of the gap, if there is one: history `after` `contiguous` fills it. */
export function missingAfter(cursor: Cursor): number | null {
  return cursor.ahead.length > 0 ? cursor.contiguous : null;
}

function absorb(seq: number, ahead: readonly number[]): Cursor {
  let contiguous = seq;
  let index = 0;
  while (index < ahead.length && ahead[index]! <= contiguous + 1) {
    contiguous = Math.max(contiguous, ahead[index]!);
    index += 1;
  }
  return { contiguous, ahead: ahead.slice(index) };
}

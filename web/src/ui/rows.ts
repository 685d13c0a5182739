// The rows of the message list, built from a room's messages and its outgoing ones: day
// separators, the "new messages" line, and messages grouped under one header when the same
// person writes again within a few minutes.

import type { Message } from '../protocol';
import type { Outgoing } from '../state/outbox';
import { dayKey } from './format';

export type Row =
  /** The top of the history: the room's beginning. */
  | { kind: 'start'; key: 'start' }
  /** An older page is on its way. */
  | { kind: 'loading'; key: 'loading' }
  | { kind: 'day'; key: string; at: string }
  | { kind: 'marker'; key: string }
  | { kind: 'message'; key: string; message: Message; grouped: boolean }
  | { kind: 'pending'; key: string; item: Outgoing; grouped: boolean };

/** Messages of one author closer than this share a header. */
export const groupWindowMs = 5 * 60_000;

interface Previous {
  authorId: string | null;
  at: number;
  day: string;
}

function groupedWith(previous: Previous | null, authorId: string | null, at: number, day: string): boolean {
  return previous !== null && authorId !== null && previous.authorId === authorId && previous.day === day && at - previous.at < groupWindowMs;
}

export function buildRows(messages: readonly Message[], pending: readonly Outgoing[], markerSeq: number | null, selfId: string | null): Row[] {
  const rows: Row[] = [];
  let previous: Previous | null = null;
  let markerPlaced = false;
  for (const message of messages) {
    const day = dayKey(message.createdAt);
    const at = Date.parse(message.createdAt);
    if (!previous || previous.day !== day) {
      rows.push({ kind: 'day', key: `day:${day}`, at: message.createdAt });
      previous = null;
    }
    if (!markerPlaced && markerSeq !== null && message.seq !== undefined && message.seq >= markerSeq && message.author?.id !== selfId) {
      rows.push({ kind: 'marker', key: 'marker' });
      markerPlaced = true;
      previous = null;
    }
    const authorId = message.type === 'system' ? null : (message.author?.id ?? null);
    rows.push({ kind: 'message', key: message.id, message, grouped: groupedWith(previous, authorId, at, day) });
    previous = { authorId, at, day };
  }
  for (const item of pending) {
    const day = dayKey(item.createdAt);
    const at = Date.parse(item.createdAt);
    if (!previous || previous.day !== day) {
      if (!rows.some((row) => row.key === `day:${day}`)) rows.push({ kind: 'day', key: `day:${day}`, at: item.createdAt });
      previous = null;
    }
    rows.push({ kind: 'pending', key: `pending:${item.clientId}`, item, grouped: groupedWith(previous, selfId, at, day) });
    previous = { authorId: selfId, at, day };
  }
  return rows;
}

/** The user's newest message in the room that can still be edited (the Up arrow edits it). */
export function lastOwnMessage(messages: readonly Message[], selfId: string | null): Message | null {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index]!;
    if (message.author?.id === selfId && !message.deletedAt && message.type !== 'system') return message;
  }
  return null;
}

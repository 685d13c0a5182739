// Messages the user sent that the server has not confirmed yet: shown at once (optimistically),
// sent one at a time per room in the order written, kept while offline and sent on reconnect;
// a send that fails stays, marked, until the user retries or discards it.

import type { FileInfo, Message } from '../protocol';
import type { Action } from './app-state';

/** `queued`: waiting for the connection (or its turn); `sending`: emitted, no ack yet; `failed`: refused or timed out. */
export type OutgoingStatus = 'queued' | 'sending' | 'failed';

export interface Outgoing {
  readonly clientId: string;
  readonly roomId: string;
  readonly content: string;
  readonly type: 'text' | 'file';
  readonly fileId?: string;
  readonly file?: FileInfo;
  /** When it was written (ISO 8601, the client's clock). */
  readonly createdAt: string;
  readonly status: OutgoingStatus;
  /** How often it was emitted: one that was may have reached the server even without an ack. */
  readonly attempts: number;
  readonly error?: string;
}

export type Outbox = readonly Outgoing[];

export type OutboxAction =
  | { type: 'outbox/enqueue'; item: Outgoing }
  | { type: 'outbox/sending'; clientId: string }
  | { type: 'outbox/sent'; clientId: string; message: Message }
  | { type: 'outbox/failed'; clientId: string; error: string }
  /** The connection dropped before the ack: send again once back (unless catch-up shows it arrived). */
  | { type: 'outbox/interrupted'; clientId: string }
  | { type: 'outbox/retry'; clientId: string }
  | { type: 'outbox/discard'; clientId: string }
  /** What an earlier page of this user left unsent (see `restorable`). */
  | { type: 'outbox/restore'; items: readonly Outgoing[] };

/** A new outgoing message, queued. */
export function outgoing(fields: {
  clientId: string;
  roomId: string;
  content: string;
  createdAt: string;
  file?: FileInfo;
}): Outgoing {
  const { file, ...rest } = fields;
  return file
    ? { ...rest, type: 'file', fileId: file.id, file, status: 'queued', attempts: 0 }
    : { ...rest, type: 'text', status: 'queued', attempts: 0 };
}

function patch(outbox: Outbox, clientId: string, change: (item: Outgoing) => Outgoing): Outbox {
  const index = outbox.findIndex((item) => item.clientId === clientId);
  if (index < 0) return outbox;
  const next = [...outbox];
  next[index] = change(outbox[index]!);
  return next;
}

function remove(outbox: Outbox, clientId: string): Outbox {
  const next = outbox.filter((item) => item.clientId !== clientId);
  return next.length === outbox.length ? outbox : next;
}

export function outboxReducer(outbox: Outbox, action: Action): Outbox {
  switch (action.type) {
    case 'outbox/enqueue':
      return [...outbox, action.item];
    case 'outbox/restore': {
      const held = new Set(outbox.map((item) => item.clientId));
      const added = action.items.filter((item) => !held.has(item.clientId));
      return added.length === 0 ? outbox : [...added, ...outbox];
    }
    case 'outbox/sending':
      return patch(outbox, action.clientId, (item) => ({ ...item, status: 'sending', attempts: item.attempts + 1 }));
    case 'outbox/sent':
    case 'outbox/discard':
      return remove(outbox, action.clientId);
    case 'outbox/failed':
      return patch(outbox, action.clientId, (item) => ({ ...item, status: 'failed', error: action.error }));
    case 'outbox/interrupted':
      return patch(outbox, action.clientId, (item) => (item.status === 'sending' ? { ...item, status: 'queued' } : item));
    case 'outbox/retry':
      return patch(outbox, action.clientId, (item) => {
        if (item.status !== 'failed') return item;
        const { error: _error, ...rest } = item;
        return { ...rest, status: 'queued' };
      });
    default:
      return outbox;
  }
}

/**
 * A message of the user's arrived from the server (live or in a catch-up) before its ack: the
 * outgoing copy it confirms goes. Only an item that was emitted can be confirmed, and sends are one
 * at a time per room, so the first emitted item with the same text and file is the one.
 */
export function reconcile(outbox: Outbox, message: Message): Outbox {
  const match = outbox.find(
    (item) =>
      item.roomId === message.roomId &&
      item.attempts > 0 &&
      item.content === message.content &&
      (item.fileId ?? null) === (message.file?.id ?? null),
  );
  return match ? remove(outbox, match.clientId) : outbox;
}

/** What to emit now: per room whose socket is ready, its first queued item, unless one is in flight. */
export function nextToSend(outbox: Outbox, isReady: (roomId: string) => boolean): Outgoing[] {
  const busy = new Set<string>();
  const picked: Outgoing[] = [];
  for (const item of outbox) {
    if (busy.has(item.roomId) || item.status === 'failed') continue;
    busy.add(item.roomId);
    if (item.status === 'queued' && isReady(item.roomId)) picked.push(item);
  }
  return picked;
}

/** The items of one room, in the order written. */
export function pendingIn(outbox: Outbox, roomId: string): Outgoing[] {
  return outbox.filter((item) => item.roomId === roomId);
}

/** Why a restored message that had been emitted waits for the user rather than going out again. */
export const mayHaveBeenSent = 'Not confirmed before the page closed: check the conversation, then retry or discard';

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength;
}

/**
 * The outbox a closed page saved, made safe to take up again: malformed entries go; one that was
 * never emitted stays queued and goes out once its room is ready; one that was emitted (it may have
 * reached the server without its ack arriving) is marked failed, so that the user, not the client,
 * decides to send it again and nothing is sent twice unasked.
 */
export function restorable(saved: unknown): Outgoing[] {
  if (!Array.isArray(saved)) return [];
  const items: Outgoing[] = [];
  for (const entry of saved as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const item = entry as Partial<Outgoing>;
    if (!isText(item.clientId, 100) || !isText(item.roomId, 100) || !isText(item.content, 100_000) || !isText(item.createdAt, 64)) continue;
    if (item.type !== 'text' && item.type !== 'file') continue;
    if (item.type === 'file' && (!isText(item.fileId, 100) || typeof item.file !== 'object' || item.file === null)) continue;
    const attempts = typeof item.attempts === 'number' && item.attempts >= 0 ? item.attempts : 0;
    const base = {
      clientId: item.clientId,
      roomId: item.roomId,
      content: item.content,
      createdAt: item.createdAt,
      type: item.type,
      ...(item.type === 'file' ? { fileId: item.fileId, file: item.file } : {}),
      attempts,
    };
    if (item.status === 'failed' || attempts > 0) {
      items.push({ ...base, status: 'failed', error: item.status === 'failed' && isText(item.error, 500) ? item.error : mayHaveBeenSent });
    } else {
      items.push({ ...base, status: 'queued' });
    }
  }
  return items;
}

import type { Message } from '../src/protocol';

export const roomId = '00000000-0000-4000-8000-0000000000aa';
export const alice = { id: '00000000-0000-4000-8000-000000000001', username: 'alice', avatarUrl: null };
export const bob = { id: '00000000-0000-4000-8000-000000000002', username: 'bob', avatarUrl: null };

/** A message with seq `seq` (its id derived from it unless given). */
export function message(seq: number | undefined, fields: Partial<Message> = {}): Message {
  const n = seq ?? Math.floor(Math.random() * 1e9);
  return {
    id: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
    roomId,
    ...(seq === undefined ? {} : { seq }),
    content: `message ${n}`,
    type: 'text',
    author: bob,
    createdAt: new Date(Date.UTC(2026, 0, 31, 12, 0, n % 60)).toISOString(),
    ...fields,
  };
}

export function seqs(messages: readonly Message[]): (number | undefined)[] {
  return messages.map((m) => m.seq);
}

// A room's messages as the client holds them: the loaded stretch of history (oldest first), the
// live edge's sequence cursor, and what the user has not read yet.

import type { Message } from '../protocol';
import { Cursor, emptyCursor, fill, observe, seed } from './cursor';
import type { Action } from './app-state';

export interface Channel {
  /** Oldest first; contiguous from the oldest page loaded to the newest message. */
  readonly messages: readonly Message[];
  /** Whether the newest page of history came. */
  readonly loaded: boolean;
  /** Whether history has messages before the first one held. */
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
  readonly cursor: Cursor;
  /** Messages of others that arrived since the user last read the room. */
  readonly unread: number;
  /** The newest seq the user has seen. */
  readonly readSeq: number | null;
  /** Where the "new messages" line goes: the first seq unread when the room was opened. */
  readonly markerSeq: number | null;
}

export const emptyChannel: Channel = {
  messages: [],
  loaded: false,
  hasOlder: true,
  loadingOlder: false,
  cursor: emptyCursor,
  unread: 0,
  readSeq: null,
  markerSeq: null,
};

export type TimelineAction =
  | { type: 'history/latest'; roomId: string; messages: readonly Message[]; hasOlder: boolean }
  | { type: 'history/older'; roomId: string; messages: readonly Message[]; hasOlder: boolean }
  | { type: 'history/after'; roomId: string; messages: readonly Message[] }
  | { type: 'history/loadingOlder'; roomId: string; loading: boolean }
  | { type: 'message/live'; roomId: string; message: Message; mine: boolean; unread: boolean }
  | { type: 'message/changed'; message: Message }
  | { type: 'channel/seed'; roomId: string; newestSeq: number | undefined; readSeq: number | null }
  | { type: 'channel/opened'; roomId: string }
  | { type: 'channel/read'; roomId: string; seq: number | null }
  | { type: 'channel/forget'; roomId: string };

export type Channels = Readonly<Record<string, Channel>>;

function order(a: Message, b: Message): number {
  if (a.seq !== undefined && b.seq !== undefined) return a.seq - b.seq;
  const time = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return time !== 0 ? time : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** How far along a message's life a copy is: a later edit or a deletion wins over an older copy. */
function revision(message: Message): number {
  if (message.deletedAt) return Number.MAX_SAFE_INTEGER;
  return message.editedAt ? Date.parse(message.editedAt) : 0;
}

/** Merges messages into an ordered list: each id (and each seq) once, the latest revision of each. */
export function mergeMessages(messages: readonly Message[], incoming: readonly Message[]): readonly Message[] {
  if (incoming.length === 0) return messages;
  const byId = new Map<string, number>();
  const seqs = new Set<number>();
  messages.forEach((message, index) => {
    byId.set(message.id, index);
    if (message.seq !== undefined) seqs.add(message.seq);
  });
  let replaced: Message[] | null = null;
  const added: Message[] = [];
  for (const message of incoming) {
    const index = byId.get(message.id);
    if (index !== undefined) {
      const current = (replaced ?? messages)[index]!;
      if (revision(message) >= revision(current) && message !== current) {
        replaced ??= [...messages];
        replaced[index] = message;
      }
      continue;
    }
    if (message.seq !== undefined && seqs.has(message.seq)) continue;
    byId.set(message.id, -1);
    if (message.seq !== undefined) seqs.add(message.seq);
    added.push(message);
  }
  const base = replaced ?? messages;
  if (added.length === 0) return base;
  added.sort(order);
  const last = base[base.length - 1];
  if (!last || order(last, added[0]!) < 0) return [...base, ...added];
  return [...base, ...added].sort(order);
}

function newestSeq(messages: readonly Message[]): number | undefined {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const seq = messages[index]!.seq;
    if (seq !== undefined) return seq;
  }
  return undefined;
}

function update(channels: Channels, roomId: string, change: (channel: Channel) => Channel): Channels {
  const current = channels[roomId] ?? emptyChannel;
  const next = change(current);
  return next === current ? channels : { ...channels, [roomId]: next };
}

export function timelineReducer(channels: Channels, action: Action): Channels {
  switch (action.type) {
    case 'history/latest':
      return update(channels, action.roomId, (channel) => {
        const messages = mergeMessages(channel.messages, action.messages);
        return {
          ...channel,
          messages,
          loaded: true,
          hasOlder: channel.loaded ? channel.hasOlder : action.hasOlder,
          cursor: seed(channel.cursor, newestSeq(messages)),
        };
      });
    case 'history/older':
      return update(channels, action.roomId, (channel) => ({
        ...channel,
        messages: mergeMessages(channel.messages, action.messages),
        hasOlder: action.hasOlder,
        loadingOlder: false,
      }));
    case 'history/after':
      return update(channels, action.roomId, (channel) => {
        const seqs = action.messages.flatMap((message) => (message.seq === undefined ? [] : [message.seq]));
        return {
          ...channel,
          messages: channel.loaded ? mergeMessages(channel.messages, action.messages) : channel.messages,
          cursor: fill(channel.cursor, seqs),
        };
      });
    case 'history/loadingOlder':
      return update(channels, action.roomId, (channel) =>
        channel.loadingOlder === action.loading ? channel : { ...channel, loadingOlder: action.loading },
      );
    case 'message/live':
      return update(channels, action.roomId, (channel) => {
        const { cursor, sighting } = observe(channel.cursor, action.message.seq);
        const messages = withLive(channel, action.message);
        if (sighting === 'duplicate') {
          // Seen already, but maybe an older copy of it: keep the latest revision.
          return messages === channel.messages ? channel : { ...channel, messages };
        }
        return {
          ...channel,
          cursor,
          messages,
          unread: action.unread ? channel.unread + 1 : channel.unread,
          readSeq: action.unread ? channel.readSeq : maxSeq(channel.readSeq, action.message.seq),
        };
      });
    case 'message/changed':
      return update(channels, action.message.roomId, (channel) => {
        const messages = mergeMessages(channel.messages, [action.message]);
        // Only a message the client holds is changed; one it never loaded is not added by its edit.
        if (messages.length !== channel.messages.length) return channel;
        return messages === channel.messages ? channel : { ...channel, messages };
      });
    case 'channel/seed':
      return update(channels, action.roomId, (channel) => {
        const readSeq = maxSeq(channel.readSeq, action.readSeq ?? undefined);
        const unread =
          action.newestSeq !== undefined && readSeq !== null ? Math.max(0, action.newestSeq - readSeq) : channel.unread;
        return { ...channel, cursor: seed(channel.cursor, action.newestSeq), readSeq, unread };
      });
    case 'channel/opened':
      return update(channels, action.roomId, (channel) => ({
        ...channel,
        markerSeq: channel.unread > 0 && channel.readSeq !== null ? channel.readSeq + 1 : null,
      }));
    case 'channel/read':
      return update(channels, action.roomId, (channel) => {
        const readSeq = maxSeq(channel.readSeq, action.seq ?? undefined);
        if (channel.unread === 0 && readSeq === channel.readSeq) return channel;
        return { ...channel, unread: 0, readSeq };
      });
    case 'channel/forget': {
      if (!(action.roomId in channels)) return channels;
      const { [action.roomId]: _gone, ...rest } = channels;
      return rest;
    }
    default:
      return channels;
  }
}

/**
 * A room whose history is not loaded keeps only its newest live messages: the newest page, when
 * the room is opened, joins up with them.
 */
export const unloadedLiveLimit = 50;

function withLive(channel: Channel, message: Message): readonly Message[] {
  const messages = mergeMessages(channel.messages, [message]);
  return channel.loaded || messages.length <= unloadedLiveLimit ? messages : messages.slice(-unloadedLiveLimit);
}

function maxSeq(current: number | null, seq: number | undefined): number | null {
  if (seq === undefined) return current;
  return current === null ? seq : Math.max(current, seq);
}

/** The total of unread messages over every room (for the tab title). */
export function totalUnread(channels: Channels): number {
  return Object.values(channels).reduce((sum, channel) => sum + channel.unread, 0);
}

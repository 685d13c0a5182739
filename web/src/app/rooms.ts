// The user's rooms: the list, joining each on the socket (again after every reconnect, from its
// seq cursor, so nothing is missed and nothing comes twice), history pages, gap fills, what is
// read, and the room changes the user makes (create, join by code, leave, admin actions).

import type { Api } from '../api/rest';
import type { CreateRoomBody, JoinOutcome, UpdateRoomBody } from '../api/types';
import type { Message, Role, Room } from '../protocol';
import { Connection, SocketRequestError } from '../realtime/connection';
import type { Action, AppState } from '../state/app-state';
import { emptyCursor, missingAfter } from '../state/cursor';
import type { Store } from '../state/store';
import type { VoiceEngine } from '../voice/engine';
import type { Notifier } from './notifier';
import { ReadMarks } from './preferences';

export interface RoomsDependencies {
  store: Store<AppState, Action>;
  api: Api;
  connection: Connection;
  voice: VoiceEngine;
  notifier: Notifier;
  toast: (text: string, tone?: 'info' | 'error') => void;
  navigate: (path: string) => void;
  /** A room became ready on the socket: its queued messages may go. */
  onReady: () => void;
}

export type OpenResult = 'open' | 'missing' | 'error';

/** How long a room:join may wait for its ack (a catch-up of many messages comes first). */
const joinTimeoutMs = 15_000;
/** How long a gap in seqs may last before it is filled from history (the gateway reorders first). */
const gapWaitMs = 1500;
/** Rooms whose unread count is read at once after sign-in. */
const seedConcurrency = 4;

export class Rooms {
  /** Rooms open on the current socket. */
  private readonly joined = new Set<string>();
  private readonly joining = new Map<string, Promise<boolean>>();
  private readonly gapTimers = new Map<string, number>();
  private readMarks: ReadMarks | null = null;
  private reading: { roomId: string; atBottom: boolean } | null = null;

  constructor(private readonly deps: RoomsDependencies) {}

  private get state(): AppState {
    return this.deps.store.getState();
  }

  private dispatch(action: Action): void {
    this.deps.store.dispatch(action);
  }

  /** A user signed in (their read marks), or nobody (signed out): everything per socket and per user starts over. */
  reset(userId: string | null): void {
    this.connectionLost();
    this.readMarks = userId ? new ReadMarks(userId) : null;
    this.reading = null;
    for (const timer of this.gapTimers.values()) window.clearTimeout(timer);
    this.gapTimers.clear();
  }

  /** The socket dropped: no room is open on it any more. */
  connectionLost(): void {
    this.joined.clear();
    this.joining.clear();
  }

  /** Whether a room is open on the socket (so messages can be sent to it). */
  isJoined(roomId: string): boolean {
    return this.joined.has(roomId);
  }

  // MARK: The socket's rooms

  /** Opens every room of the user on this socket, the one on screen first. */
  async joinAll(): Promise<void> {
    const viewed = this.state.session.viewRoomId;
    const ids = Object.keys(this.state.rooms.mine).sort((a, b) => Number(b === viewed) - Number(a === viewed));
    await Promise.all(ids.map((roomId) => this.join(roomId)));
  }

  /** `room:join` with the room's cursor: what was missed arrives first, then the ack. */
  private join(roomId: string): Promise<boolean> {
    if (this.joined.has(roomId)) return Promise.resolve(true);
    const pending = this.joining.get(roomId);
    if (pending) return pending;
    const attempt = (async () => {
      const lastSeq = this.state.channels[roomId]?.cursor.contiguous ?? null;
      try {
        const ack = await this.deps.connection.request('room:join', lastSeq === null ? { roomId } : { roomId, lastSeq }, joinTimeoutMs);
        this.joined.add(roomId);
        this.dispatch({ type: 'rooms/upsert', room: ack.room });
        this.dispatch({ type: 'members/set', roomId, participants: ack.participants });
        this.dispatch({ type: 'voice/roster', roomId, participants: ack.voiceParticipants });
        this.deps.onReady();
        this.scheduleGapFill(roomId);
        return true;
      } catch (error) {
        if (error instanceof SocketRequestError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN')) this.gone(roomId, 'left');
        return false;
      } finally {
        this.joining.delete(roomId);
      }
    })();
    this.joining.set(roomId, attempt);
    return attempt;
  }

  private joinIfConnected(roomId: string): void {
    if (this.deps.connection.connected) void this.join(roomId);
  }

  // MARK: The list

  async load(): Promise<void> {
    try {
      const page = await this.deps.api.rooms.list('mine');
      this.dispatch({ type: 'rooms/loaded', rooms: page.data });
      if (this.deps.connection.connected) void this.joinAll();
      void this.seedUnread(page.data);
    } catch {
      this.deps.toast('Could not load your rooms.', 'error');
    }
  }

  /** For each room: how many messages came since it was last read here (its newest seq, one message of history). */
  private async seedUnread(rooms: readonly Room[]): Promise<void> {
    const queue = rooms.filter((room) => room.settings.recordMessages).map((room) => room.id);
    const worker = async () => {
      for (let roomId = queue.shift(); roomId; roomId = queue.shift()) {
        if (this.state.channels[roomId]?.loaded) continue;
        try {
          const page = await this.deps.api.messages.history(roomId, { limit: 1 });
          const newestSeq = page.data[0]?.seq;
          const mark = this.readMarks?.get(roomId) ?? null;
          // A room never read on this device starts read: its whole history is not news.
          this.dispatch({ type: 'channel/seed', roomId, newestSeq, readSeq: mark ?? newestSeq ?? null });
        } catch {
          // The count stays as it is; opening the room loads it.
        }
      }
    };
    await Promise.all(Array.from({ length: seedConcurrency }, worker));
  }

  async loadDirectory(): Promise<void> {
    const page = await this.deps.api.rooms.list('public');
    this.dispatch({ type: 'rooms/directory', rooms: page.data });
  }

  // MARK: The room on screen

  /** Shows a room: joins it on the socket and loads its newest messages. */
  async open(roomId: string): Promise<OpenResult> {
    // The new-messages line goes where the unread ones start, before anything on screen counts as read.
    this.dispatch({ type: 'channel/opened', roomId });
    this.dispatch({ type: 'view/room', roomId });
    // The message list (a child, so its effects ran first) may already have said that its newest
    // messages are on screen: with the room now in view, those held already are read.
    if (this.isReading(roomId)) this.markRead(roomId);
    if (!this.state.rooms.mine[roomId]) {
      try {
        this.dispatch({ type: 'rooms/upsert', room: await this.deps.api.rooms.get(roomId) });
      } catch {
        return 'missing';
      }
    }
    this.joinIfConnected(roomId);
    if (!this.state.channels[roomId]?.loaded) {
      try {
        await this.loadLatest(roomId);
      } catch {
        return 'error';
      }
    }
    return 'open';
  }

  close(roomId: string): void {
    if (this.state.session.viewRoomId === roomId) this.dispatch({ type: 'view/room', roomId: null });
    if (this.reading?.roomId === roomId) this.reading = null;
  }

  async loadLatest(roomId: string): Promise<void> {
    const page = await this.deps.api.messages.history(roomId, { limit: 50 });
    this.dispatch({ type: 'history/latest', roomId, messages: page.data, hasOlder: page.hasMore });
  }

  /** The page before the oldest message held (infinite scroll upwards). */
  async loadOlder(roomId: string): Promise<void> {
    const channel = this.state.channels[roomId];
    if (!channel?.loaded || !channel.hasOlder || channel.loadingOlder) return;
    const before = channel.messages.find((message) => message.seq !== undefined)?.seq;
    if (before === undefined) {
      this.dispatch({ type: 'history/older', roomId, messages: [], hasOlder: false });
      return;
    }
    this.dispatch({ type: 'history/loadingOlder', roomId, loading: true });
    try {
      const page = await this.deps.api.messages.history(roomId, { before, limit: 50 });
      this.dispatch({ type: 'history/older', roomId, messages: page.data, hasOlder: page.hasMore });
    } catch {
      this.dispatch({ type: 'history/loadingOlder', roomId, loading: false });
      this.deps.toast('Could not load older messages.', 'error');
    }
  }

  /** A message past a gap: unless the gap closes on its own soon, fetch what is missing. */
  scheduleGapFill(roomId: string): void {
    if (this.gapTimers.has(roomId)) return;
    const channel = this.state.channels[roomId];
    if (!channel || missingAfter(channel.cursor) === null) return;
    const timer = window.setTimeout(() => {
      this.gapTimers.delete(roomId);
      void this.fillGap(roomId);
    }, gapWaitMs);
    this.gapTimers.set(roomId, timer);
  }

  private async fillGap(roomId: string): Promise<void> {
    for (let pages = 0; pages < 20; pages += 1) {
      const after = missingAfter(this.state.channels[roomId]?.cursor ?? emptyCursor);
      if (after === null) return;
      try {
        const page = await this.deps.api.messages.history(roomId, { after, limit: 100 });
        this.dispatch({ type: 'history/after', roomId, messages: page.data });
        if (!page.hasMore) return;
      } catch {
        return;
      }
    }
  }

  // MARK: Reading

  /** The message list reports whether the user sees the newest messages of the room on screen. */
  setReading(roomId: string, atBottom: boolean): void {
    this.reading = { roomId, atBottom };
    if (this.isReading(roomId)) this.markRead(roomId);
  }

  /** Whether the user is looking at the room's newest messages right now. */
  isReading(roomId: string): boolean {
    return (
      this.reading?.roomId === roomId &&
      this.reading.atBottom &&
      this.state.session.viewRoomId === roomId &&
      document.visibilityState === 'visible'
    );
  }

  /** The page became visible again: the room on screen is read. */
  pageShown(): void {
    const roomId = this.reading?.roomId;
    if (roomId && this.isReading(roomId)) this.markRead(roomId);
  }

  markRead(roomId: string): void {
    const channel = this.state.channels[roomId];
    if (!channel) return;
    const newest = channel.cursor.contiguous;
    if (channel.unread === 0 && (newest === null || channel.readSeq === newest)) return;
    this.dispatch({ type: 'channel/read', roomId, seq: newest });
    if (newest !== null) this.readMarks?.set(roomId, newest);
  }

  /** A message came in a room the user is not looking at. */
  notify(message: Message): void {
    const room = this.state.rooms.mine[message.roomId];
    const author = message.author?.username ?? 'Someone';
    const text = message.content || (message.file ? `sent ${message.file.name}` : '');
    this.deps.notifier.message(message.roomId, room?.name ?? 'a room', author, text);
  }

  // MARK: Changes

  async create(body: CreateRoomBody): Promise<Room> {
    const room = await this.deps.api.rooms.create(body);
    this.dispatch({ type: 'rooms/upsert', room });
    this.joinIfConnected(room.id);
    return room;
  }

  /** Joins by code or invite link: the room, or a request waiting for an admin. */
  async joinByCode(code: string): Promise<JoinOutcome> {
    const outcome = await this.deps.api.rooms.joinByCode(code.trim());
    if (outcome.kind === 'joined') {
      this.dispatch({ type: 'rooms/upsert', room: await this.deps.api.rooms.get(outcome.roomId) });
      this.joinIfConnected(outcome.roomId);
    }
    return outcome;
  }

  async update(roomId: string, body: UpdateRoomBody): Promise<void> {
    this.dispatch({ type: 'rooms/upsert', room: await this.deps.api.rooms.update(roomId, body) });
  }

  async leave(roomId: string): Promise<void> {
    await this.deps.api.rooms.leave(roomId);
    this.gone(roomId, 'left');
  }

  async remove(roomId: string): Promise<void> {
    await this.deps.api.rooms.remove(roomId);
    this.gone(roomId, 'deleted');
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<void> {
    await this.deps.api.rooms.setRole(roomId, userId, role);
  }

  async kick(roomId: string, userId: string): Promise<void> {
    await this.deps.api.rooms.kick(roomId, userId);
    this.dispatch({ type: 'members/gone', roomId, userId });
  }

  /** The user is no longer in the room (left here or elsewhere, kicked, or the room was deleted). */
  gone(roomId: string, why: 'left' | 'kicked' | 'deleted'): void {
    const room = this.state.rooms.mine[roomId];
    if (!room) return;
    this.deps.voice.roomGone(roomId);
    this.joined.delete(roomId);
    this.readMarks?.forget(roomId);
    const wasViewed = this.state.session.viewRoomId === roomId;
    this.dispatch({ type: 'room/gone', roomId });
    if (why === 'kicked') this.deps.toast(`You were removed from ${room.name}.`);
    if (why === 'deleted') this.deps.toast(`${room.name} was deleted.`);
    if (wasViewed) this.deps.navigate('/');
  }
}

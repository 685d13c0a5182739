// The client: the one object the UI talks to. It holds the store, signs in and out, keeps the
// socket and its rooms joined (again after every reconnect, from each room's seq cursor), sends
// messages through the outbox, and runs the voice engine.
//
//   const client = new Client({ clock: systemClock, socketFactory: io, origin: location.origin, router, preferences });
//   await client.restore();           // a session from the refresh cookie, if there is one
//   client.store.subscribe(render);

import type { Clock } from '../auth/clock';
import { SessionEndReason, TokenKeeper } from '../auth/token-keeper';
import { Http } from '../api/http';
import { Api, createApi } from '../api/rest';
import { grantOf, logoutWithCookie, refreshWithCookie } from '../api/session-cookie';
import type { CreateRoomBody, JoinOutcome, SessionBody, UpdateRoomBody, User } from '../api/types';
import type { FileInfo, Message, Role, Room, SettablePresence } from '../protocol';
import { Connection, SocketFactory, SocketRequestError } from '../realtime/connection';
import { Action, appReducer, AppState, initialState } from '../state/app-state';
import { missingAfter } from '../state/cursor';
import { nextToSend, Outgoing, outgoing } from '../state/outbox';
import { createStore, Store } from '../state/store';
import { VoiceEngine } from '../voice/engine';
import { newId, tokenKind } from './ids';
import { Notifier } from './notifier';
import { PreferenceStore, ReadMarks } from './preferences';
import { wireSocketEvents } from './socket-events';

export interface ClientDependencies {
  clock: Clock;
  socketFactory: SocketFactory;
  origin: string;
  preferences: PreferenceStore;
  navigate: (path: string) => void;
}

/** How long a sent message may wait for its ack before it counts as failed. */
const sendTimeoutMs = 15_000;
/** How often a typing notice is renewed while the user keeps typing (the gateway ends it after 5 s). */
const typingRenewMs = 3000;
/** How long the page may be hidden before the user shows as away. */
const awayAfterMs = 5 * 60_000;
/** How long a gap in seqs may last before it is filled from history (the gateway reorders first). */
const gapWaitMs = 1500;

const sessionNotices: Record<SessionEndReason, string | null> = {
  reused: 'You were signed out because your session was used from somewhere else. Please sign in again.',
  expired: 'Your session has expired. Please sign in again.',
  signedOut: null,
};

export type OpenResult = 'open' | 'missing' | 'error';

export class Client {
  readonly store: Store<AppState, Action> = createStore(appReducer, initialState);
  readonly api: Api;
  readonly voice: VoiceEngine;
  readonly notifier: Notifier;
  readonly preferences: PreferenceStore;
  private readonly keeper: TokenKeeper<User>;
  private readonly connection: Connection;
  /** Rooms open on the current socket. */
  private readonly joined = new Set<string>();
  private readonly joining = new Map<string, Promise<boolean>>();
  private readonly typingSentAt = new Map<string, number>();
  private readonly gapTimers = new Map<string, number>();
  private readMarks: ReadMarks | null = null;
  private reading: { roomId: string; atBottom: boolean } | null = null;
  private presence: SettablePresence = 'online';
  private awayTimer: number | null = null;
  private toastCount = 0;

  constructor(private readonly deps: ClientDependencies) {
    this.preferences = deps.preferences;
    this.keeper = new TokenKeeper<User>({
      clock: deps.clock,
      refresh: refreshWithCookie,
      onGrant: (grant) => this.granted(grant.token, grant.user),
      onEnded: (reason) => this.ended(reason),
    });
    const token = () => this.keeper.token;
    const refresh = () => this.keeper.refreshNow();
    this.api = createApi(new Http({ token, refresh }), token, refresh);
    this.connection = new Connection({
      factory: deps.socketFactory,
      url: deps.origin,
      token,
      clock: deps.clock,
      onConnect: (isReconnect) => this.connected(isReconnect),
      onDisconnect: () => this.disconnected(),
      onCredentialsRejected: () => void this.renewCredentials(),
    });
    this.notifier = new Notifier(deps.preferences, (roomId) => deps.navigate(`/rooms/${roomId}`));
    this.voice = new VoiceEngine({
      connection: this.connection,
      store: this.store,
      notify: (text, tone) => this.toast(text, tone),
      playSound: (sound) => this.notifier.voice(sound),
      setPresence: (status) => this.setPresence(status),
      remember: (choices) => deps.preferences.dispatch(choices),
    });
    const { volumes, inputId, outputId } = deps.preferences.getState();
    for (const [userId, volume] of Object.entries(volumes)) this.dispatch({ type: 'voice/volume', userId, volume });
    this.dispatch({ type: 'voice/deviceChosen', kind: 'input', deviceId: inputId });
    this.dispatch({ type: 'voice/deviceChosen', kind: 'output', deviceId: outputId });
    wireSocketEvents({
      connection: this.connection,
      store: this.store,
      isReading: (roomId) => this.isReading(roomId),
      notifyMessage: (message) => this.notifyMessage(message),
      markRead: (roomId) => this.markRead(roomId),
      checkGap: (roomId) => this.scheduleGapFill(roomId),
      roomGone: (roomId, why) => this.roomGone(roomId, why),
    });
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    window.addEventListener('online', () => this.keeper.checkDue());
    window.setInterval(() => this.dispatch({ type: 'typing/lapsed', now: Date.now() }), 2000);
  }

  private get state(): AppState {
    return this.store.getState();
  }

  private dispatch(action: Action): void {
    this.store.dispatch(action);
  }

  // MARK: Session

  /** On page load: a session from the refresh cookie, or the sign-in screen. */
  async restore(): Promise<void> {
    await this.keeper.refreshNow();
  }

  async signIn(email: string, password: string): Promise<void> {
    this.accept(await this.api.auth.login({ email, password }));
  }

  async register(fields: { username: string; email: string; password: string; confirmPassword: string }): Promise<void> {
    this.accept(await this.api.auth.register(fields));
  }

  async continueAsGuest(displayName: string): Promise<void> {
    this.accept(await this.api.auth.guest(displayName));
  }

  async signOut(): Promise<void> {
    await this.voice.leave();
    await logoutWithCookie();
    this.ended('signedOut');
  }

  private accept(body: SessionBody): void {
    this.keeper.accept(grantOf(body));
  }

  private granted(token: string, user: User): void {
    const session = this.state.session;
    if (session.auth === 'signedIn' && session.user?.id === user.id) {
      this.dispatch({ type: 'auth/user', user });
      // The socket outlives the old token (the gateway ends it at expiry otherwise).
      if (this.connection.connected) void this.connection.request('auth:refresh', { token }).catch(() => undefined);
      else this.connection.resume();
      return;
    }
    if (session.auth === 'signedIn') this.teardown();
    this.readMarks = new ReadMarks(user.id);
    this.dispatch({ type: 'auth/signedIn', user, isGuest: tokenKind(token) === 'guest' });
    this.dispatch({ type: 'connection/status', status: 'connecting' });
    this.connection.start();
    void this.loadRooms();
  }

  private ended(reason: SessionEndReason): void {
    const wasSignedIn = this.state.session.auth === 'signedIn';
    this.teardown();
    this.keeper.clear();
    this.dispatch({ type: 'auth/signedOut', notice: wasSignedIn || reason === 'reused' ? sessionNotices[reason] : null });
  }

  private teardown(): void {
    this.voice.shutdown();
    this.connection.stop();
    this.joined.clear();
    this.joining.clear();
    this.reading = null;
    for (const timer of this.gapTimers.values()) window.clearTimeout(timer);
    this.gapTimers.clear();
  }

  /** The gateway refused the token or ended the socket over it: renew it, then reconnect (or sign out). */
  private async renewCredentials(): Promise<void> {
    const token = await this.keeper.refreshNow();
    if (token) this.connection.resume();
  }

  // MARK: Connection

  private connected(isReconnect: boolean): void {
    this.dispatch({ type: 'connection/status', status: 'connected' });
    this.joined.clear();
    if (this.presence !== 'online') this.connection.send('presence:update', { status: this.presence });
    void this.joinAll().then(() => {
      if (isReconnect) {
        this.voice.connectionRestored();
        // Edits and deletions made meanwhile are not replayed: refresh the newest page on screen.
        const roomId = this.state.session.viewRoomId;
        if (roomId && this.state.channels[roomId]?.loaded) void this.loadLatest(roomId);
      }
    });
  }

  private disconnected(): void {
    if (this.state.session.auth !== 'signedIn') return;
    this.dispatch({ type: 'connection/status', status: 'reconnecting' });
    this.joined.clear();
    this.voice.connectionLost();
  }

  /** Opens every room of the user on this socket, the one on screen first. */
  private async joinAll(): Promise<void> {
    const viewed = this.state.session.viewRoomId;
    const ids = Object.keys(this.state.rooms.mine).sort((a, b) => Number(b === viewed) - Number(a === viewed));
    await Promise.all(ids.map((roomId) => this.joinRoom(roomId)));
  }

  /** `room:join` with the room's cursor: what was missed arrives first, then the ack. */
  private joinRoom(roomId: string): Promise<boolean> {
    if (this.joined.has(roomId)) return Promise.resolve(true);
    const pending = this.joining.get(roomId);
    if (pending) return pending;
    const attempt = (async () => {
      const lastSeq = this.state.channels[roomId]?.cursor.contiguous ?? null;
      try {
        const ack = await this.connection.request('room:join', lastSeq === null ? { roomId } : { roomId, lastSeq }, sendTimeoutMs);
        this.joined.add(roomId);
        this.dispatch({ type: 'rooms/upsert', room: ack.room });
        this.dispatch({ type: 'members/set', roomId, participants: ack.participants });
        this.dispatch({ type: 'voice/roster', roomId, participants: ack.voiceParticipants });
        this.flush();
        this.scheduleGapFill(roomId);
        return true;
      } catch (error) {
        if (error instanceof SocketRequestError && (error.code === 'NOT_FOUND' || error.code === 'FORBIDDEN')) {
          this.roomGone(roomId, 'left');
        }
        return false;
      } finally {
        this.joining.delete(roomId);
      }
    })();
    this.joining.set(roomId, attempt);
    return attempt;
  }

  // MARK: Rooms

  async loadRooms(): Promise<void> {
    try {
      const page = await this.api.rooms.list('mine');
      this.dispatch({ type: 'rooms/loaded', rooms: page.data });
      if (this.connection.connected) void this.joinAll();
      void this.seedUnread(page.data);
    } catch {
      this.toast('Could not load your rooms.', 'error');
    }
  }

  /** For each room: how many messages came since it was last read here (its newest seq, one message of history). */
  private async seedUnread(rooms: readonly Room[]): Promise<void> {
    const queue = rooms.filter((room) => room.settings.recordMessages).map((room) => room.id);
    const worker = async () => {
      for (let roomId = queue.shift(); roomId; roomId = queue.shift()) {
        if (this.state.channels[roomId]?.loaded) continue;
        try {
          const page = await this.api.messages.history(roomId, { limit: 1 });
          const newestSeq = page.data[0]?.seq;
          const mark = this.readMarks?.get(roomId) ?? null;
          // A room never read on this device starts read: its whole history is not news.
          this.dispatch({ type: 'channel/seed', roomId, newestSeq, readSeq: mark ?? newestSeq ?? null });
        } catch {
          // The count stays as it is; opening the room loads it.
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  async loadDirectory(): Promise<void> {
    const page = await this.api.rooms.list('public');
    this.dispatch({ type: 'rooms/directory', rooms: page.data });
  }

  /** Shows a room: joins it on the socket and loads its newest messages. */
  async openRoom(roomId: string): Promise<OpenResult> {
    this.dispatch({ type: 'view/room', roomId });
    if (!this.state.rooms.mine[roomId]) {
      try {
        this.dispatch({ type: 'rooms/upsert', room: await this.api.rooms.get(roomId) });
      } catch {
        return 'missing';
      }
    }
    if (this.connection.connected) void this.joinRoom(roomId);
    if (!this.state.channels[roomId]?.loaded) {
      try {
        await this.loadLatest(roomId);
      } catch {
        return 'error';
      }
    }
    this.dispatch({ type: 'channel/opened', roomId });
    return 'open';
  }

  closeRoom(roomId: string): void {
    if (this.state.session.viewRoomId === roomId) this.dispatch({ type: 'view/room', roomId: null });
    if (this.reading?.roomId === roomId) this.reading = null;
    this.stopTyping(roomId);
  }

  async loadLatest(roomId: string): Promise<void> {
    const page = await this.api.messages.history(roomId, { limit: 50 });
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
      const page = await this.api.messages.history(roomId, { before, limit: 50 });
      this.dispatch({ type: 'history/older', roomId, messages: page.data, hasOlder: page.hasMore });
    } catch {
      this.dispatch({ type: 'history/loadingOlder', roomId, loading: false });
      this.toast('Could not load older messages.', 'error');
    }
  }

  private scheduleGapFill(roomId: string): void {
    if (this.gapTimers.has(roomId)) return;
    const channel = this.state.channels[roomId];
    if (!channel || missingAfter(channel.cursor) === null) return;
    this.gapTimers.set(
      roomId,
      window.setTimeout(() => {
        this.gapTimers.delete(roomId);
        void this.fillGap(roomId);
      }, gapWaitMs),
    );
  }

  private async fillGap(roomId: string): Promise<void> {
    for (let rounds = 0; rounds < 20; rounds += 1) {
      const after = missingAfter(this.state.channels[roomId]?.cursor ?? { contiguous: null, ahead: [] });
      if (after === null) return;
      try {
        const page = await this.api.messages.history(roomId, { after, limit: 100 });
        this.dispatch({ type: 'history/after', roomId, messages: page.data });
        if (!page.hasMore) return;
      } catch {
        return;
      }
    }
  }

  /** The message list reports whether the user sees the newest messages of the room on screen. */
  setReading(roomId: string, atBottom: boolean): void {
    this.reading = { roomId, atBottom };
    if (this.isReading(roomId)) this.markRead(roomId);
  }

  private isReading(roomId: string): boolean {
    return (
      this.reading?.roomId === roomId &&
      this.reading.atBottom &&
      this.state.session.viewRoomId === roomId &&
      document.visibilityState === 'visible'
    );
  }

  private markRead(roomId: string): void {
    const channel = this.state.channels[roomId];
    if (!channel) return;
    const newest = channel.cursor.contiguous;
    if (channel.unread === 0 && (newest === null || channel.readSeq === newest)) return;
    this.dispatch({ type: 'channel/read', roomId, seq: newest });
    if (newest !== null) this.readMarks?.set(roomId, newest);
  }

  private notifyMessage(message: Message): void {
    const room = this.state.rooms.mine[message.roomId];
    const author = message.author?.username ?? 'Someone';
    const text = message.content || (message.file ? `sent ${message.file.name}` : '');
    this.notifier.message(message.roomId, room?.name ?? 'a room', author, text);
  }

  async createRoom(body: CreateRoomBody): Promise<Room> {
    const room = await this.api.rooms.create(body);
    this.dispatch({ type: 'rooms/upsert', room });
    if (this.connection.connected) void this.joinRoom(room.id);
    return room;
  }

  /** Joins by code or invite link: the room, or a request waiting for an admin. */
  async joinByCode(code: string): Promise<JoinOutcome> {
    const outcome = await this.api.rooms.joinByCode(code.trim());
    if (outcome.kind === 'joined') {
      this.dispatch({ type: 'rooms/upsert', room: await this.api.rooms.get(outcome.roomId) });
      if (this.connection.connected) void this.joinRoom(outcome.roomId);
    }
    return outcome;
  }

  async updateRoom(roomId: string, body: UpdateRoomBody): Promise<void> {
    this.dispatch({ type: 'rooms/upsert', room: await this.api.rooms.update(roomId, body) });
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.api.rooms.leave(roomId);
    this.roomGone(roomId, 'left');
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.api.rooms.remove(roomId);
    this.roomGone(roomId, 'deleted');
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<void> {
    await this.api.rooms.setRole(roomId, userId, role);
  }

  async kick(roomId: string, userId: string): Promise<void> {
    await this.api.rooms.kick(roomId, userId);
    this.dispatch({ type: 'members/gone', roomId, userId });
  }

  private roomGone(roomId: string, why: 'left' | 'kicked' | 'deleted'): void {
    const room = this.state.rooms.mine[roomId];
    if (!room) return;
    this.voice.roomGone(roomId);
    this.joined.delete(roomId);
    this.readMarks?.forget(roomId);
    const wasViewed = this.state.session.viewRoomId === roomId;
    this.dispatch({ type: 'room/gone', roomId });
    if (why === 'kicked') this.toast(`You were removed from ${room.name}.`, 'info');
    if (why === 'deleted') this.toast(`${room.name} was deleted.`, 'info');
    if (wasViewed) this.deps.navigate('/');
  }

  // MARK: Messages

  /** Sends a message (shown at once; sent when the room is joined, queued while offline). */
  send(roomId: string, content: string, file?: FileInfo): void {
    const item = outgoing({ clientId: newId(), roomId, content, createdAt: new Date().toISOString(), ...(file ? { file } : {}) });
    this.dispatch({ type: 'outbox/enqueue', item });
    this.stopTyping(roomId);
    this.flush();
  }

  retry(clientId: string): void {
    this.dispatch({ type: 'outbox/retry', clientId });
    this.flush();
  }

  discard(clientId: string): void {
    this.dispatch({ type: 'outbox/discard', clientId });
  }

  private flush(): void {
    const ready = (roomId: string) => this.connection.connected && this.joined.has(roomId);
    for (const item of nextToSend(this.state.outbox, ready)) void this.sendOne(item);
  }

  private async sendOne(item: Outgoing): Promise<void> {
    this.dispatch({ type: 'outbox/sending', clientId: item.clientId });
    const payload = item.fileId
      ? { roomId: item.roomId, content: item.content, type: 'file' as const, fileId: item.fileId }
      : { roomId: item.roomId, content: item.content };
    try {
      const ack = await this.connection.request('message:send', payload, sendTimeoutMs);
      this.dispatch({ type: 'outbox/sent', clientId: item.clientId, message: ack.message });
    } catch (error) {
      if (error instanceof SocketRequestError && error.kind === 'disconnected') {
        this.dispatch({ type: 'outbox/interrupted', clientId: item.clientId });
      } else {
        const reason =
          error instanceof SocketRequestError && error.kind === 'refused'
            ? error.message
            : 'No answer from the server.';
        this.dispatch({ type: 'outbox/failed', clientId: item.clientId, error: reason });
      }
    }
    this.flush();
  }

  async edit(message: Message, content: string): Promise<void> {
    this.dispatch({ type: 'message/changed', message: await this.api.messages.edit(message.id, content) });
  }

  async remove(message: Message): Promise<void> {
    await this.api.messages.remove(message.id);
    // The tombstone the server keeps (and sends as message:deleted).
    this.dispatch({ type: 'message/changed', message: { ...message, content: '', deletedAt: new Date().toISOString() } });
  }

  /** The user typed in a room's composer. */
  typing(roomId: string): void {
    const now = Date.now();
    const last = this.typingSentAt.get(roomId);
    if (last !== undefined && now - last < typingRenewMs) return;
    this.typingSentAt.set(roomId, now);
    this.connection.send('typing:start', { roomId });
  }

  stopTyping(roomId: string): void {
    if (!this.typingSentAt.delete(roomId)) return;
    this.connection.send('typing:stop', { roomId });
  }

  upload(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<FileInfo> {
    return this.api.files.upload(file, onProgress, signal);
  }

  // MARK: Presence and notices

  private setPresence(status: SettablePresence): void {
    this.presence = status;
    this.connection.send('presence:update', { status });
  }

  private visibilityChanged(): void {
    this.keeper.checkDue();
    if (document.visibilityState === 'visible') {
      if (this.awayTimer !== null) window.clearTimeout(this.awayTimer);
      this.awayTimer = null;
      if (this.presence === 'away') this.setPresence(this.state.voice.local ? 'in_call' : 'online');
      const roomId = this.reading?.roomId;
      if (roomId && this.isReading(roomId)) this.markRead(roomId);
    } else if (this.awayTimer === null) {
      this.awayTimer = window.setTimeout(() => {
        this.awayTimer = null;
        if (document.visibilityState === 'hidden' && this.presence === 'online') this.setPresence('away');
      }, awayAfterMs);
    }
  }

  toast(text: string, tone: 'info' | 'error' = 'info'): void {
    this.toastCount += 1;
    const id = this.toastCount;
    this.dispatch({ type: 'toast/show', toast: { id, text, tone } });
    window.setTimeout(() => this.dispatch({ type: 'toast/dismiss', id }), tone === 'error' ? 8000 : 5000);
  }

  dismissToast(id: number): void {
    this.dispatch({ type: 'toast/dismiss', id });
  }
}

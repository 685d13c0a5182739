// The client: the one object the UI talks to. It holds the store and the session (sign in and
// out, the access token refreshed before it expires), keeps the socket, and hands the rest to its
// parts: `rooms` (the rooms, joined on every (re)connect from their cursors), `messages` (the
// outbox, edits, typing, uploads) and `voice`.
//
//   const client = new Client({ clock: systemClock, socketFactory: io, origin: location.origin, preferences, navigate });
//   await client.restore();           // a session from the refresh cookie, if there is one
//   client.store.subscribe(render);

import type { Clock } from '../auth/clock';
import { SessionEndReason, TokenKeeper } from '../auth/token-keeper';
import { Http } from '../api/http';
import { Api, createApi } from '../api/rest';
import { grantOf, logoutWithCookie, refreshWithCookie } from '../api/session-cookie';
import type { SessionBody, User } from '../api/types';
import type { SettablePresence } from '../protocol';
import { Connection, SocketFactory } from '../realtime/connection';
import { Action, appReducer, AppState, initialState } from '../state/app-state';
import { createStore, Store } from '../state/store';
import { VoiceEngine } from '../voice/engine';
import { tokenKind } from './ids';
import { Messaging } from './messaging';
import { Notifier } from './notifier';
import type { PreferenceStore } from './preferences';
import { Rooms } from './rooms';
import { SavedOutbox } from './saved-outbox';
import { wireSocketEvents } from './socket-events';

export type { OpenResult } from './rooms';

export interface ClientDependencies {
  clock: Clock;
  socketFactory: SocketFactory;
  origin: string;
  preferences: PreferenceStore;
  navigate: (path: string) => void;
}

/** How long the page may be hidden before the user shows as away. */
const awayAfterMs = 5 * 60_000;

const sessionNotices: Record<SessionEndReason, string | null> = {
  reused: 'You were signed out because your session was used from somewhere else. Please sign in again.',
  expired: 'Your session has expired. Please sign in again.',
  signedOut: null,
};

export class Client {
  readonly store: Store<AppState, Action> = createStore(appReducer, initialState);
  readonly api: Api;
  readonly rooms: Rooms;
  readonly messages: Messaging;
  readonly voice: VoiceEngine;
  readonly notifier: Notifier;
  readonly preferences: PreferenceStore;
  private readonly keeper: TokenKeeper<User>;
  private readonly connection: Connection;
  private presence: SettablePresence = 'online';
  private awayTimer: number | null = null;
  private toastCount = 0;
  private savedOutbox: SavedOutbox | null = null;

  constructor(deps: ClientDependencies) {
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
    this.messages = new Messaging({
      store: this.store,
      api: this.api,
      connection: this.connection,
      isJoined: (roomId) => this.rooms.isJoined(roomId),
    });
    this.rooms = new Rooms({
      store: this.store,
      api: this.api,
      connection: this.connection,
      voice: this.voice,
      notifier: this.notifier,
      toast: (text, tone) => this.toast(text, tone),
      navigate: deps.navigate,
      onReady: () => this.messages.flush(),
    });
    this.restoreVoiceChoices();
    wireSocketEvents({
      connection: this.connection,
      store: this.store,
      isReading: (roomId) => this.rooms.isReading(roomId),
      notifyMessage: (message) => this.rooms.notify(message),
      markRead: (roomId) => this.rooms.markRead(roomId),
      checkGap: (roomId) => this.rooms.scheduleGapFill(roomId),
      roomGone: (roomId, why) => this.rooms.gone(roomId, why),
    });
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    // A page the browser keeps in its back/forward cache is frozen: its socket would stay open (the
    // user in the rooms, online) until the gateway's ping timeout. It goes with the page, and comes
    // back with it (catching up like any reconnect).
    window.addEventListener('pagehide', (event) => {
      if (event.persisted) this.connection.suspend();
    });
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) this.connection.resume();
    });
    window.addEventListener('online', () => this.keeper.checkDue());
    this.store.subscribe(() => this.savedOutbox?.save(this.state.outbox));
    // Closing the tab would lose what is still unsent: the browser asks first.
    window.addEventListener('beforeunload', (event) => {
      if (this.state.outbox.some((item) => item.status !== 'failed')) event.preventDefault();
    });
    window.setInterval(() => this.store.dispatch({ type: 'typing/lapsed', now: Date.now() }), 2000);
  }

  private get state(): AppState {
    return this.store.getState();
  }

  private restoreVoiceChoices(): void {
    const { volumes, inputId, outputId } = this.preferences.getState();
    for (const [userId, volume] of Object.entries(volumes)) this.store.dispatch({ type: 'voice/volume', userId, volume });
    this.store.dispatch({ type: 'voice/deviceChosen', kind: 'input', deviceId: inputId });
    this.store.dispatch({ type: 'voice/deviceChosen', kind: 'output', deviceId: outputId });
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
    this.savedOutbox?.clear();
    this.ended('signedOut');
  }

  private accept(body: SessionBody): void {
    this.keeper.accept(grantOf(body));
  }

  private granted(token: string, user: User): void {
    const session = this.state.session;
    if (session.auth === 'signedIn' && session.user?.id === user.id) {
      this.store.dispatch({ type: 'auth/user', user });
      // The socket outlives the old token (the gateway ends it at expiry otherwise).
      if (this.connection.connected) void this.connection.request('auth:refresh', { token }).catch(() => undefined);
      else this.connection.resume();
      return;
    }
    if (session.auth === 'signedIn') this.teardown();
    this.rooms.reset(user.id);
    this.store.dispatch({ type: 'auth/signedIn', user, isGuest: tokenKind(token) === 'guest' });
    this.savedOutbox = new SavedOutbox(user.id);
    const unsent = this.savedOutbox.load();
    if (unsent.length > 0) this.store.dispatch({ type: 'outbox/restore', items: unsent });
    this.store.dispatch({ type: 'connection/status', status: 'connecting' });
    this.connection.start();
    void this.rooms.load();
  }

  private ended(reason: SessionEndReason): void {
    const wasSignedIn = this.state.session.auth === 'signedIn';
    this.teardown();
    this.keeper.clear();
    this.store.dispatch({ type: 'auth/signedOut', notice: wasSignedIn || reason === 'reused' ? sessionNotices[reason] : null });
  }

  private teardown(): void {
    // What is unsent stays saved for the user's next session in this tab (or goes with signOut).
    this.savedOutbox = null;
    this.voice.shutdown();
    this.connection.stop();
    this.rooms.reset(null);
  }

  /** The gateway refused the token or ended the socket over it: renew it, then reconnect (or sign out). */
  private async renewCredentials(): Promise<void> {
    const token = await this.keeper.refreshNow();
    if (token) this.connection.resume();
  }

  // MARK: Connection

  private connected(isReconnect: boolean): void {
    this.store.dispatch({ type: 'connection/status', status: 'connected' });
    this.rooms.connectionLost();
    if (this.presence !== 'online') this.connection.send('presence:update', { status: this.presence });
    void this.rooms.joinAll().then(() => {
      if (!isReconnect) return;
      this.voice.connectionRestored();
      // Edits and deletions made meanwhile are not replayed: refresh the newest page on screen.
      const roomId = this.state.session.viewRoomId;
      if (roomId && this.state.channels[roomId]?.loaded) void this.rooms.loadLatest(roomId).catch(() => undefined);
    });
  }

  private disconnected(): void {
    if (this.state.session.auth !== 'signedIn') return;
    this.store.dispatch({ type: 'connection/status', status: 'reconnecting' });
    this.rooms.connectionLost();
    this.voice.connectionLost();
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
      this.rooms.pageShown();
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
    this.store.dispatch({ type: 'toast/show', toast: { id, text, tone } });
    window.setTimeout(() => this.dismissToast(id), tone === 'error' ? 8000 : 5000);
  }

  dismissToast(id: number): void {
    this.store.dispatch({ type: 'toast/dismiss', id });
  }
}

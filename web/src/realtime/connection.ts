// The live connection: one Socket.IO socket to the edge (any gateway behind it), typed by the
// protocol, that always authenticates with the current access token and reports how it is doing.

import { AckFailure, AckOf, clientEvents, ClientEventName, ConnectRefusal, PayloadOf, RequestOf, serverEvents, ServerEventName } from '../protocol';
import type { Clock } from '../auth/clock';
import { conforms, mismatch, Shape } from '../schema';
import { EventBudget } from './budget';

type Listener = (payload: unknown) => void;

export type SocketFactory = (url: string, options: SocketIOOptions) => SocketIOSocket;

/** Why a request over the socket did not get its acknowledgement. */
export class SocketRequestError extends Error {
  constructor(
    /** `refused`: the server answered `{error}`; `timeout`; `disconnected`: the connection dropped first (or was down). */
    readonly kind: 'refused' | 'timeout' | 'disconnected' | 'malformed',
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SocketRequestError';
  }
}

export interface ConnectionEvents {
  /** Connected (again): rooms must be joined anew on this socket. */
  onConnect: (isReconnect: boolean) => void;
  onDisconnect: () => void;
  /** The server refused or ended the connection for its credentials: refresh, then call `resume`, or sign out. */
  onCredentialsRejected: (code: string) => void;
}

export interface ConnectionOptions extends ConnectionEvents {
  factory: SocketFactory;
  url: string;
  token: () => string | null;
  clock: Clock;
}

/**
 * What the client lets itself send, under the gateway's limits (SOCKET_EVENTS_PER_SECOND 20 with
 * bursts of 40; SOCKET_SIGNALS_PER_SECOND 50 with bursts of 200, for `voice:signal`).
 */
const eventRate = { perSecond: 16, burst: 30 };
const signalRate = { perSecond: 40, burst: 150 };

/** Codes with which the gateway refuses a connect or ends a socket over its credentials. */
const credentialCodes = new Set(['UNAUTHORIZED', 'TOKEN_EXPIRED', 'SESSION_ENDED']);

export const defaultAckTimeoutMs = 10_000;

export class Connection {
  private socket: SocketIOSocket | null = null;
  private everConnected = false;
  private lastCredentialCode: string | null = null;
  private readonly handlers = new Map<string, Set<Listener>>();
  private readonly events: EventBudget;
  private readonly signals: EventBudget;
  private refusals = 0;
  private retryTimer: number | null = null;

  constructor(private readonly options: ConnectionOptions) {
    this.events = new EventBudget(options.clock, eventRate.perSecond, eventRate.burst);
    this.signals = new EventBudget(options.clock, signalRate.perSecond, signalRate.burst);
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Opens the socket (once); it reconnects on its own after network failures. */
  start(): void {
    if (this.socket) return;
    const socket = this.options.factory(this.options.url, {
      path: '/socket.io/',
      transports: ['websocket', 'polling'],
      auth: (callback) => callback({ token: this.options.token() ?? '' }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.refusals = 0;
      const isReconnect = this.everConnected;
      this.everConnected = true;
      this.lastCredentialCode = null;
      this.options.onConnect(isReconnect);
    });
    socket.on('disconnect', (reason) => {
      this.options.onDisconnect();
      // The server closed it (credentials ended, or a slow consumer): it does not come back on its own.
      if (reason === 'io server disconnect') {
        if (this.lastCredentialCode) this.options.onCredentialsRejected(this.lastCredentialCode);
        else this.retryLater();
      }
    });
    socket.on('connect_error', (error) => {
      const refusal = conforms(ConnectRefusal, error.data) ? error.data.code : null;
      if (refusal && credentialCodes.has(refusal)) this.options.onCredentialsRejected(refusal);
      // Refused for another reason (the socket does not retry a refusal by itself): again, later.
      else if (!socket.active) this.retryLater();
    });
    for (const event of this.handlers.keys()) this.attach(event);
    this.listenForErrors();
  }

  /** After a refused connect: waits longer each time (1 s, 2 s, 4 s… up to 30 s, with jitter). */
  private retryLater(): void {
    if (this.retryTimer !== null) return;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.refusals, 5)) * (0.75 + Math.random() * 0.5);
    this.refusals += 1;
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
    }, delay);
  }

  /** Connects again after the credentials were renewed. */
  resume(): void {
    if (this.socket && !this.socket.connected) this.socket.connect();
  }

  /** Closes the socket until `resume()` (the page goes into the back/forward cache). */
  suspend(): void {
    if (this.retryTimer !== null) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.disconnect();
  }

  /** Closes the socket for good (signing out). */
  stop(): void {
    if (this.retryTimer !== null) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.refusals = 0;
    this.socket?.disconnect();
    this.socket?.off();
    this.socket = null;
    this.everConnected = false;
  }

  /** Listens to a server event; payloads that are not what the protocol says are dropped. */
  on<E extends ServerEventName>(event: E, handler: (payload: PayloadOf<E>) => void): () => void {
    const untyped = handler as unknown as Listener;
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
      this.attach(event);
    }
    set.add(untyped);
    return () => set?.delete(untyped);
  }

  /** Sends a client event and waits for its acknowledgement. */
  async request<E extends ClientEventName>(event: E, payload: RequestOf<E>, timeoutMs = defaultAckTimeoutMs): Promise<AckOf<E>> {
    await this.budgetFor(event).take();
    const socket = this.socket;
    if (!socket?.connected) throw new SocketRequestError('disconnected', 'DISCONNECTED', 'Not connected');
    return new Promise((resolve, reject) => {
      socket.timeout(timeoutMs).emit(event, payload, (error, response) => {
        if (error) {
          const timedOut = error.message.includes('timed out');
          reject(new SocketRequestError(timedOut ? 'timeout' : 'disconnected', timedOut ? 'TIMEOUT' : 'DISCONNECTED', error.message));
          return;
        }
        if (conforms(AckFailure, response)) {
          reject(new SocketRequestError('refused', response.error.code, response.error.message));
          return;
        }
        const shape: Shape = clientEvents[event].ack;
        const wrong = mismatch(shape, response);
        if (wrong) {
          reject(new SocketRequestError('malformed', 'MALFORMED', `Unexpected ${event} acknowledgement at ${wrong}`));
          return;
        }
        resolve(response as AckOf<E>);
      });
    });
  }

  /** Sends a client event without waiting (typing notices); nothing is sent while disconnected. */
  send<E extends ClientEventName>(event: E, payload: RequestOf<E>): void {
    void this.budgetFor(event)
      .take()
      .then(() => {
        if (this.socket?.connected) this.socket.emit(event, payload);
      });
  }

  private budgetFor(event: ClientEventName): EventBudget {
    return event === 'voice:signal' ? this.signals : this.events;
  }

  /** One socket listener per event: it checks the payload, then hands it to every handler. */
  private attach(event: string): void {
    if (!this.socket) return;
    const shape: Shape = serverEvents[event as ServerEventName];
    this.socket.on(event, (payload: unknown) => {
      const wrong = mismatch(shape, payload);
      if (wrong) {
        console.warn('Dropped a malformed socket event', event, wrong);
        return;
      }
      for (const handler of this.handlers.get(event) ?? []) handler(payload);
    });
  }

  /** Remembers why the server is about to end the socket, so the disconnect that follows is understood. */
  private listenForErrors(): void {
    this.socket?.on('error', (payload: unknown) => {
      const code = conforms(ConnectRefusal, payload) ? payload.code : null;
      if (code && credentialCodes.has(code)) this.lastCredentialCode = code;
    });
  }
}

// The part of the socket.io-client 4.8 browser bundle this client uses. The bundle is loaded by
// its own <script> before the application and defines the global `io`.

interface SocketIOOptions {
  path?: string;
  transports?: ('websocket' | 'polling')[];
  /** Called on every (re)connect: what to send in the CONNECT packet. */
  auth?: (callback: (data: Record<string, unknown>) => void) => void;
  reconnection?: boolean;
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  randomizationFactor?: number;
  timeout?: number;
  autoConnect?: boolean;
  withCredentials?: boolean;
}

interface SocketIOManager {
  on(event: 'reconnect_attempt', listener: (attempt: number) => void): this;
  on(event: 'reconnect', listener: (attempt: number) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  off(event?: string, listener?: (...args: never[]) => void): this;
}

/** `connect_error`: `data` is the server's refusal for a connection its middleware turned down. */
interface SocketIOConnectError extends Error {
  data?: unknown;
}

type SocketIODisconnectReason =
  | 'io server disconnect'
  | 'io client disconnect'
  | 'ping timeout'
  | 'transport close'
  | 'transport error'
  | 'parse error';

interface SocketIOSocket {
  readonly id: string | undefined;
  readonly connected: boolean;
  /** Whether the socket will (re)connect on its own. */
  readonly active: boolean;
  readonly io: SocketIOManager;
  on(event: 'connect', listener: () => void): this;
  on(event: 'disconnect', listener: (reason: SocketIODisconnectReason) => void): this;
  on(event: 'connect_error', listener: (error: SocketIOConnectError) => void): this;
  on(event: string, listener: (payload: unknown) => void): this;
  off(event?: string, listener?: (...args: never[]) => void): this;
  emit(event: string, payload: unknown): this;
  /** An emit whose ack callback gets an Error on timeout, or when the socket disconnects first. */
  timeout(ms: number): { emit(event: string, payload: unknown, ack: (error: Error | null, response: unknown) => void): void };
  connect(): this;
  disconnect(): this;
}

declare function io(uri: string, options?: SocketIOOptions): SocketIOSocket;

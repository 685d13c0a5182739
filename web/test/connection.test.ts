import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection, SocketRequestError } from '../src/realtime/connection';
import { FakeClock, settle } from './fake-clock';
import { message } from './fixtures';

type Listener = (payload: unknown) => void;

/** The socket.io-client surface the connection uses, driven by the test. */
class FakeSocket {
  connected = false;
  active = true;
  id: string | undefined;
  connects = 0;
  emitted: { event: string; payload: unknown; ack?: (error: Error | null, response: unknown) => void }[] = [];
  private listeners = new Map<string, Listener[]>();
  readonly io = { on: () => this.io, off: () => this.io };

  constructor(readonly options: SocketIOOptions) {}

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  off(): this {
    this.listeners.clear();
    return this;
  }
  emit(event: string, payload: unknown): this {
    this.emitted.push({ event, payload });
    return this;
  }
  timeout() {
    return { emit: (event: string, payload: unknown, ack: (error: Error | null, response: unknown) => void) => this.emitted.push({ event, payload, ack }) };
  }
  connect(): this {
    this.connects += 1;
    return this;
  }
  disconnect(): this {
    this.connected = false;
    return this;
  }
  fire(event: string, payload?: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(payload);
  }
  up(): void {
    this.connected = true;
    this.fire('connect');
  }
  authToken(): unknown {
    let sent: unknown;
    this.options.auth?.((data) => (sent = data));
    return sent;
  }
}

function harness(token = 't1') {
  const clock = new FakeClock();
  const seen = { connects: [] as boolean[], disconnects: 0, rejected: [] as string[] };
  let socket: FakeSocket | undefined;
  let current = token;
  const connection = new Connection({
    factory: (_url, options) => (socket = new FakeSocket(options)) as unknown as SocketIOSocket,
    url: 'http://edge',
    token: () => current,
    clock,
    onConnect: (again) => seen.connects.push(again),
    onDisconnect: () => (seen.disconnects += 1),
    onCredentialsRejected: (code) => seen.rejected.push(code),
  });
  connection.start();
  return { clock, seen, connection, socket: () => socket!, setToken: (t: string) => (current = t) };
}

test('every (re)connect authenticates with the token of the moment', () => {
  const h = harness();
  assert.deepEqual(h.socket().authToken(), { token: 't1' });
  h.setToken('t2');
  assert.deepEqual(h.socket().authToken(), { token: 't2' });
  assert.equal(h.socket().options.path, '/socket.io/');
  assert.deepEqual(h.socket().options.transports, ['websocket', 'polling']);
});

test('connects are told apart from reconnects', () => {
  const h = harness();
  h.socket().up();
  h.socket().connected = false;
  h.socket().fire('disconnect', 'transport close');
  h.socket().up();
  assert.deepEqual(h.seen.connects, [false, true]);
  assert.equal(h.seen.disconnects, 1);
});

test('a refused token is reported; another refusal is retried later, with growing waits', async () => {
  const h = harness();
  const socket = h.socket();
  socket.active = false;
  socket.fire('connect_error', Object.assign(new Error('refused'), { data: { code: 'TOKEN_EXPIRED' } }));
  assert.deepEqual(h.seen.rejected, ['TOKEN_EXPIRED']);
  socket.fire('connect_error', Object.assign(new Error('busy'), { data: { code: 'SERVICE_UNAVAILABLE' } }));
  assert.equal(socket.connects, 0, 'not at once');
  await h.clock.advance(1250);
  assert.equal(socket.connects, 1);
  socket.fire('connect_error', new Error('busy'));
  await h.clock.advance(1250);
  assert.equal(socket.connects, 1, 'the second wait is longer');
  await h.clock.advance(1750);
  assert.equal(socket.connects, 2);
});

test('the server ending the socket over its credentials is reported after the disconnect', () => {
  const h = harness();
  h.socket().up();
  h.socket().fire('error', { code: 'SESSION_ENDED', message: 'signed out' });
  h.socket().fire('disconnect', 'io server disconnect');
  assert.deepEqual(h.seen.rejected, ['SESSION_ENDED']);
});

test('acks resolve typed; {error} acks, timeouts and disconnects reject with their kind', async () => {
  const h = harness();
  h.socket().up();
  const ok = h.connection.request('message:send', { roomId: 'r', content: 'hi' });
  const refused = h.connection.request('message:send', { roomId: 'r', content: 'no' });
  const late = h.connection.request('typing:start', { roomId: 'r' });
  const cut = h.connection.request('typing:stop', { roomId: 'r' });
  await settle();
  const [a, b, c, d] = h.socket().emitted;
  a!.ack!(null, { message: message(1) });
  b!.ack!(null, { error: { code: 'RATE_LIMITED', message: 'Slow down' } });
  c!.ack!(new Error('operation has timed out'), undefined);
  d!.ack!(new Error('socket has been disconnected'), undefined);
  assert.equal((await ok).message.seq, 1);
  await assert.rejects(refused, (e: unknown) => e instanceof SocketRequestError && e.kind === 'refused' && e.code === 'RATE_LIMITED');
  await assert.rejects(late, (e: unknown) => e instanceof SocketRequestError && e.kind === 'timeout');
  await assert.rejects(cut, (e: unknown) => e instanceof SocketRequestError && e.kind === 'disconnected');
});

test('a request while disconnected fails at once, without queueing in the socket', async () => {
  const h = harness();
  await assert.rejects(h.connection.request('room:join', { roomId: 'r' }), (e: unknown) => e instanceof SocketRequestError && e.kind === 'disconnected');
  assert.deepEqual(h.socket().emitted, []);
});

test('server events reach handlers typed; malformed ones are dropped', () => {
  const h = harness();
  const got: number[] = [];
  h.connection.on('message:received', (m) => got.push(m.seq ?? -1));
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    h.socket().fire('message:received', message(7));
    h.socket().fire('message:received', { id: 'x', roomId: 'r' });
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(got, [7]);
});

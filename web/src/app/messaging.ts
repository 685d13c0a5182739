// Writing in rooms: sends go through the outbox (shown at once, emitted one at a time per room
// once the room is open on the socket, kept while offline), edits and deletions over REST,
// typing notices, file uploads.

import type { Api } from '../api/rest';
import type { FileInfo, Message } from '../protocol';
import { Connection, SocketRequestError } from '../realtime/connection';
import type { Action, AppState } from '../state/app-state';
import { nextToSend, Outgoing, outgoing } from '../state/outbox';
import type { Store } from '../state/store';
import { newId } from './ids';

export interface MessagingDependencies {
  store: Store<AppState, Action>;
  api: Api;
  connection: Connection;
  /** Whether the room is open on the socket. */
  isJoined: (roomId: string) => boolean;
}

/** How long a sent message may wait for its ack before it counts as failed. */
const sendTimeoutMs = 15_000;
/** How often a typing notice is renewed while the user keeps typing (the gateway ends it after 5 s). */
const typingRenewMs = 3000;

export class Messaging {
  private readonly typingSentAt = new Map<string, number>();

  constructor(private readonly deps: MessagingDependencies) {}

  private dispatch(action: Action): void {
    this.deps.store.dispatch(action);
  }

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

  /** Emits what may go now: called after each send, ack and room join. */
  flush(): void {
    const ready = (roomId: string) => this.deps.connection.connected && this.deps.isJoined(roomId);
    for (const item of nextToSend(this.deps.store.getState().outbox, ready)) void this.emit(item);
  }

  private async emit(item: Outgoing): Promise<void> {
    this.dispatch({ type: 'outbox/sending', clientId: item.clientId });
    const payload = item.fileId
      ? { roomId: item.roomId, content: item.content, type: 'file' as const, fileId: item.fileId }
      : { roomId: item.roomId, content: item.content };
    try {
      const ack = await this.deps.connection.request('message:send', payload, sendTimeoutMs);
      this.dispatch({ type: 'outbox/sent', clientId: item.clientId, message: ack.message });
    } catch (error) {
      if (error instanceof SocketRequestError && error.kind === 'disconnected') {
        // Sent again once the room is rejoined, unless the catch-up shows it arrived.
        this.dispatch({ type: 'outbox/interrupted', clientId: item.clientId });
      } else {
        const reason = error instanceof SocketRequestError && error.kind === 'refused' ? error.message : 'No answer from the server.';
        this.dispatch({ type: 'outbox/failed', clientId: item.clientId, error: reason });
      }
    }
    this.flush();
  }

  async edit(message: Message, content: string): Promise<void> {
    this.dispatch({ type: 'message/changed', message: await this.deps.api.messages.edit(message.id, content) });
  }

  async remove(message: Message): Promise<void> {
    await this.deps.api.messages.remove(message.id);
    // The tombstone the server keeps (and sends as message:deleted).
    this.dispatch({ type: 'message/changed', message: { ...message, content: '', deletedAt: new Date().toISOString() } });
  }

  /** The user typed in a room's composer. */
  typing(roomId: string): void {
    const now = Date.now();
    const last = this.typingSentAt.get(roomId);
    if (last !== undefined && now - last < typingRenewMs) return;
    this.typingSentAt.set(roomId, now);
    this.deps.connection.send('typing:start', { roomId });
  }

  stopTyping(roomId: string): void {
    if (!this.typingSentAt.delete(roomId)) return;
    this.deps.connection.send('typing:stop', { roomId });
  }

  upload(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<FileInfo> {
    return this.deps.api.files.upload(file, onProgress, signal);
  }
}

// What the user wrote and the server has not confirmed outlives a reload: the outbox is kept in
// the tab's sessionStorage, per user, and taken up again when that user's session comes back in
// the same tab. sessionStorage (not localStorage) because it belongs to one tab: two tabs never
// take up, and send, each other's messages.

import { Outbox, Outgoing, restorable } from '../state/outbox';

export class SavedOutbox {
  private readonly key: string;
  private saved: Outbox = [];

  constructor(userId: string) {
    this.key = `voiceflow:outbox:${userId}`;
  }

  /** What an earlier page of this tab left unsent, made safe to take up (see `restorable`). */
  load(): Outgoing[] {
    try {
      const text = sessionStorage.getItem(this.key);
      return text ? restorable(JSON.parse(text)) : [];
    } catch {
      return [];
    }
  }

  save(outbox: Outbox): void {
    if (outbox === this.saved) return;
    this.saved = outbox;
    try {
      if (outbox.length === 0) sessionStorage.removeItem(this.key);
      else sessionStorage.setItem(this.key, JSON.stringify(outbox));
    } catch {
      // Storage full or disabled: the outbox lasts for this page only.
    }
  }

  /** Signing out drops what was unsent, as it drops everything else of the session. */
  clear(): void {
    this.saved = [];
    try {
      sessionStorage.removeItem(this.key);
    } catch {
      // Nothing was kept.
    }
  }
}

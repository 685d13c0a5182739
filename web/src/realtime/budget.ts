// A token bucket for what one socket sends: the gateway allows so many events per second (with a
// burst) and refuses the rest, so the client spaces them out itself rather than see them refused.

import type { Clock } from '../auth/clock';

export class EventBudget {
  private tokens: number;
  private updatedAt: number;
  private readonly waiting: (() => void)[] = [];
  private timer: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
    this.updatedAt = clock.now();
  }

  /** Resolves when one event may go: at once within the burst, else in turn. */
  take(): Promise<void> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Events waiting for their turn. */
  get backlog(): number {
    return this.waiting.length;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.refill();
      while (this.waiting.length && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiting.shift()!();
      }
      if (this.waiting.length) this.schedule();
    }, wait);
  }
}

import type { Clock } from '../src/auth/clock';

/** A clock that moves only when told to, firing due timers in order. */
export class FakeClock implements Clock {
  private time: number;
  private nextHandle = 1;
  private timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2026, 0, 31, 12)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), callback });
    return handle;
  }

  clearTimeout(handle: number): void {
    this.timers.delete(handle);
  }

  /** When the next timer is due, if any. */
  get nextAt(): number | undefined {
    const times = [...this.timers.values()].map((timer) => timer.at);
    return times.length ? Math.min(...times) : undefined;
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running each timer due meanwhile (and what those schedule). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [handle, timer] = due;
      this.timers.delete(handle);
      this.time = timer.at;
      timer.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /** Jumps forward without running timers (a laptop asleep: timers fire late, on waking). */
  sleep(ms: number): void {
    this.time += ms;
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

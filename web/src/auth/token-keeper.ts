import type { Clock } from './clock';

/** A fresh access token, as the auth service grants it (`expiresIn` in seconds). */
export interface Grant<U> {
  token: string;
  expiresIn: number;
  user: U;
}

/** What a refresh came to. */
export type RefreshOutcome<U> =
  | { kind: 'granted'; grant: Grant<U> }
  /** The session is over: no valid refresh cookie (`expired`), or a rotated one was presented again (`reused`). */
  | { kind: 'ended'; reason: SessionEndReason }
  /** The auth service could not answer (network, 5xx, 429): try again later. */
  | { kind: 'unavailable'; retryAfterMs?: number };

export type SessionEndReason = 'expired' | 'reused' | 'signedOut';

export interface TokenKeeperOptions<U> {
  clock: Clock;
  /** Asks the auth service for a new token (the refresh token travels in its cookie). */
  refresh: () => Promise<RefreshOutcome<U>>;
  /** A new token was granted (also after `accept`): hand it to the socket (`auth:refresh`). */
  onGrant: (grant: Grant<U>) => void;
  /** The session ended: show the sign-in screen. */
  onEnded: (reason: SessionEndReason) => void;
}

/** How long after it is granted a token of `expiresIn` seconds is refreshed, in ms. */
export function refreshDelay(expiresIn: number): number {
  const lifetime = expiresIn * 1000;
  const lead = Math.min(60_000, lifetime / 5);
  return Math.max(1000, lifetime - lead);
}

/** How long to wait before retrying a refresh that failed `failures` times in a row, in ms. */
export function retryDelay(failures: number, retryAfterMs?: number): number {
  const backoff = Math.min(30_000, 1000 * 2 ** Math.min(failures, 5));
  return Math.max(backoff, retryAfterMs ?? 0);
}

/**
 * Keeps the access token, in memory only, and refreshes it shortly before it expires. One refresh
 * at a time: callers that need a token while a refresh is under way get its result, because the
 * refresh token rotates and presenting it twice ends the session.
 *
 *   const keeper = new TokenKeeper({ clock: systemClock, refresh, onGrant, onEnded });
 *   keeper.accept(sessionFromLogin);
 *   fetch(url, { headers: { Authorization: `Bearer ${keeper.token}` } });
 */
export class TokenKeeper<U> {
  private current: Grant<U> | null = null;
  private refreshAt = 0;
  private expiresAt = 0;
  private timer: number | null = null;
  private inFlight: Promise<string | null> | null = null;
  private failures = 0;

  constructor(private readonly options: TokenKeeperOptions<U>) {}

  /** The access token, or null when signed out. */
  get token(): string | null {
    return this.current?.token ?? null;
  }

  /** Whether the token in hand has outlived its lifetime (a refresh is due or failing). */
  get isExpired(): boolean {
    return this.current === null || this.options.clock.now() >= this.expiresAt;
  }

  /** Takes a grant from sign-in, registration or a guest session. */
  accept(grant: Grant<U>): void {
    this.failures = 0;
    this.install(grant);
    this.options.onGrant(grant);
  }

  /** Refreshes now (or joins the refresh under way). Resolves to the new token, or null if the session ended. */
  refreshNow(): Promise<string | null> {
    if (!this.inFlight) {
      this.cancelTimer();
      this.inFlight = this.runRefresh().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  /** Refreshes if it is due: for a page woken from sleep, whose timers ran late. */
  checkDue(): void {
    if (this.current && !this.inFlight && this.options.clock.now() >= this.refreshAt) void this.refreshNow();
  }

  /** Forgets the token (signing out); nothing is scheduled afterwards. */
  clear(): void {
    this.cancelTimer();
    this.current = null;
    this.failures = 0;
  }

  private install(grant: Grant<U>): void {
    const now = this.options.clock.now();
    this.current = grant;
    this.expiresAt = now + grant.expiresIn * 1000;
    this.schedule(refreshDelay(grant.expiresIn));
  }

  private async runRefresh(): Promise<string | null> {
    let outcome: RefreshOutcome<U>;
    try {
      outcome = await this.options.refresh();
    } catch {
      outcome = { kind: 'unavailable' };
    }
    switch (outcome.kind) {
      case 'granted':
        this.failures = 0;
        this.install(outcome.grant);
        this.options.onGrant(outcome.grant);
        return outcome.grant.token;
      case 'ended':
        this.clear();
        this.options.onEnded(outcome.reason);
        return null;
      case 'unavailable':
        this.failures += 1;
        this.schedule(retryDelay(this.failures, outcome.retryAfterMs));
        return this.isExpired ? null : this.token;
    }
  }

  private schedule(delay: number): void {
    this.cancelTimer();
    this.refreshAt = this.options.clock.now() + delay;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.refreshNow();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

// The browser's side of the session: the refresh token never reaches JavaScript. The auth service
// sets it as the HttpOnly cookie `vf_refresh` (Path=/api/v1/auth, SameSite=Strict, Secure over
// https) with every session it grants, and reads it when a refresh or logout body names none.

import type { Grant, RefreshOutcome } from '../auth/token-keeper';
import { errorOf } from './http';
import type { SessionBody, User } from './types';

const refreshPath = '/api/v1/auth/refresh';
const logoutPath = '/api/v1/auth/logout';

/** Tabs of one browser share the cookie: their refreshes take turns, or the second would present a spent token. */
const lockName = 'voiceflow-session-refresh';

export function grantOf(body: SessionBody): Grant<User> {
  return { token: body.token, expiresIn: body.expiresIn, user: body.user };
}

function cookiePost(path: string): Promise<Response> {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: '{}',
  });
}

async function refreshOnce(): Promise<RefreshOutcome<User>> {
  let response: Response;
  try {
    response = await cookiePost(refreshPath);
  } catch {
    return { kind: 'unavailable' };
  }
  if (response.ok) return { kind: 'granted', grant: grantOf((await response.json()) as SessionBody) };
  const error = await errorOf(response);
  if (error.code === 'REFRESH_TOKEN_REUSED') return { kind: 'ended', reason: 'reused' };
  if (response.status === 429 || response.status >= 500) {
    return error.retryAfterMs === undefined ? { kind: 'unavailable' } : { kind: 'unavailable', retryAfterMs: error.retryAfterMs };
  }
  // 401 (no cookie, expired, revoked) or 400 (an auth service that reads no cookie): no session.
  return { kind: 'ended', reason: 'expired' };
}

/** Exchanges the refresh cookie for a new access token (and a rotated cookie). */
export function refreshWithCookie(): Promise<RefreshOutcome<User>> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? locks.request(lockName, refreshOnce) : refreshOnce();
}

/** Ends the login the cookie belongs to, everywhere; the server clears the cookie. */
export async function logoutWithCookie(): Promise<void> {
  try {
    await cookiePost(logoutPath);
  } catch {
    // Offline: the in-memory token is forgotten anyway, and the refresh token expires on its own.
  }
}

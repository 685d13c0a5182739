import { DependencyList, RefObject, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/http';

/** Moves focus to an element when `key` changes (a new route or view), for keyboard and screen reader users. */
export function useFocusOn<T extends HTMLElement>(key: unknown): RefObject<T> {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, [key]);
  return ref;
}

/** What to tell the user about a failed call. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'Cannot reach the server. Check your connection.';
    if (error.code === 'RATE_LIMITED' && error.retryAfterMs) return `Too many attempts. Try again in ${Math.ceil(error.retryAfterMs / 1000)} s.`;
    const details = error.details ? Object.values(error.details).filter(Boolean) : [];
    return details.length ? `${error.message} (${details.join('; ')})` : error.message;
  }
  return error instanceof Error ? error.message : 'Something went wrong.';
}

/** Runs an async action from a form or button: busy while it runs, its error as text. */
export function useAction(): {
  busy: boolean;
  error: string | null;
  setError: (error: string | null) => void;
  run: (action: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      if (mounted.current) setError(describeError(caught));
      return false;
    } finally {
      if (mounted.current) setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** Calls `handler` on Escape while `active`. */
export function useEscape(active: boolean, handler: () => void, deps: DependencyList = []): void {
  useEffect(() => {
    if (!active) return;
    const listener = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) handler();
    };
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, [active, ...deps]);
}

/** Whether a media query matches, live. */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const listener = () => setMatches(list.matches);
    list.addEventListener('change', listener);
    listener();
    return () => list.removeEventListener('change', listener);
  }, [query]);
  return matches;
}

// How components reach the client and read the store: `useAppState(selector)` re-renders a
// component only when what it selects changes.

import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { Client } from '../app/client';
import type { Preferences } from '../app/preferences';
import type { Route, Router } from '../app/router';
import type { AppState } from '../state/app-state';

export interface Services {
  client: Client;
  router: Router;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesContext');
  return services;
}

export function useClient(): Client {
  return useServices().client;
}

export function useAppState<T>(select: (state: AppState) => T): T {
  const { store } = useClient();
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

export function usePreferences(): Preferences {
  const { preferences } = useClient();
  return useSyncExternalStore(preferences.subscribe, preferences.getState);
}

export function useRoute(): Route {
  const { router } = useServices();
  return useSyncExternalStore(
    (listener) => router.subscribe(listener),
    () => router.route,
  );
}

/** Navigates within the app (no page load). */
export function useNavigate(): (path: string, options?: { replace?: boolean }) => void {
  const { router } = useServices();
  return useCallback((path, options) => router.navigate(path, options), [router]);
}

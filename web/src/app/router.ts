// The client's routes, in the address bar (the edge serves index.html for each of them):
// `/` (sign in, or the home screen), `/rooms/:id` and `/join/:code` (joins, then opens the room).

export type Route =
  | { name: 'home' }
  | { name: 'room'; roomId: string }
  | { name: 'join'; code: string }
  | { name: 'notFound'; path: string };

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'home' };
  const room = /^\/rooms\/([^/]+)$/.exec(path);
  if (room) return { name: 'room', roomId: decodeURIComponent(room[1]!) };
  const join = /^\/join\/([^/]+)$/.exec(path);
  if (join) return { name: 'join', code: decodeURIComponent(join[1]!) };
  return { name: 'notFound', path };
}

export function pathOf(route: Route): string {
  switch (route.name) {
    case 'home':
      return '/';
    case 'room':
      return `/rooms/${encodeURIComponent(route.roomId)}`;
    case 'join':
      return `/join/${encodeURIComponent(route.code)}`;
    case 'notFound':
      return route.path;
  }
}

/** The browser history as a store of the current route. */
export class Router {
  private current: Route;
  private readonly listeners = new Set<() => void>();

  constructor() {
    this.current = parseRoute(location.pathname);
    window.addEventListener('popstate', () => this.update());
  }

  get route(): Route {
    return this.current;
  }

  navigate(path: string, options: { replace?: boolean } = {}): void {
    if (path === location.pathname) return;
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    this.update();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(): void {
    this.current = parseRoute(location.pathname);
    for (const listener of [...this.listeners]) listener();
  }
}

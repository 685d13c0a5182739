// The signed-in layout: the rooms sidebar, the view of the route, the connection banner and
// notices. At phone widths the sidebar and the member list become drawers.

import { useEffect, useMemo, useRef, useState } from 'react';
import { tabTitle } from '../app/notifier';
import type { Route } from '../app/router';
import { totalUnread } from '../state/timeline';
import { ConnectionBanner } from './ConnectionBanner';
import { useAppState } from './context';
import { Home } from './Home';
import { useEscape, useMediaQuery } from './hooks';
import { JoinView } from './JoinView';
import { NotFound } from './NotFound';
import { RoomView } from './RoomView';
import { Drawer, ShellContext } from './shell-context';
import { Sidebar } from './Sidebar';
import { Toasts } from './Toasts';

export function Shell({ route }: { route: Route }) {
  const isPhone = useMediaQuery('(max-width: 760px)');
  const [drawer, setDrawer] = useState<Drawer>(null);
  const channels = useAppState((state) => state.channels);
  const viewRoomId = useAppState((state) => state.session.viewRoomId);
  const viewRoomName = useAppState((state) => (viewRoomId ? state.rooms.mine[viewRoomId]?.name ?? null : null));
  const unread = useMemo(() => totalUnread(channels), [channels]);

  useEffect(() => {
    document.title = tabTitle(unread, viewRoomName);
  }, [unread, viewRoomName]);

  // A new route closes the drawers.
  useEffect(() => setDrawer(null), [route]);
  useEffect(() => {
    if (!isPhone) setDrawer(null);
  }, [isPhone]);
  useEscape(drawer !== null, () => setDrawer(null));

  // An open drawer takes the focus (and the rest of the page is inert); closing it gives the focus back.
  const main = useRef<HTMLElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    // The member list is inside the room view: there, the rest of the room goes inert instead.
    const behind: (Element | null)[] =
      drawer === 'rooms'
        ? [main.current]
        : drawer === 'members'
        ? [...document.querySelectorAll('#main .room-header, #main .voice-bar, #main .room-chat')]
        : [];
    for (const element of behind) element?.setAttribute('inert', '');
    if (drawer) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      const panel = document.getElementById(drawer === 'rooms' ? 'sidebar' : 'members');
      const target = panel?.querySelector<HTMLElement>('a[aria-current="page"]') ?? panel?.querySelector<HTMLElement>('a[href], button');
      target?.focus();
    } else if (opener.current?.isConnected) {
      opener.current.focus();
      opener.current = null;
    }
    return () => {
      for (const element of behind) element?.removeAttribute('inert');
    };
  }, [drawer]);

  const controls = useMemo(() => ({ drawer, isPhone, openDrawer: setDrawer }), [drawer, isPhone]);

  return (
    <ShellContext.Provider value={controls}>
      <div className="shell" data-drawer={drawer ?? 'none'} data-layout={isPhone ? 'phone' : 'desktop'}>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <ConnectionBanner />
        <Sidebar />
        {drawer && <div className="drawer-backdrop" aria-hidden="true" onClick={() => setDrawer(null)} />}
        <main id="main" className="main" tabIndex={-1} ref={main}>
          {route.name === 'home' && <Home />}
          {route.name === 'room' && <RoomView key={route.roomId} roomId={route.roomId} />}
          {route.name === 'join' && <JoinView key={route.code} code={route.code} />}
          {route.name === 'notFound' && <NotFound />}
        </main>
        <Toasts />
      </div>
    </ShellContext.Provider>
  );
}

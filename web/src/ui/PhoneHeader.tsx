import type { ReactNode } from 'react';
import { Icon } from './icons';
import { useShell } from './shell-context';

/** The menu button that opens the rooms drawer, at phone widths. */
export function MenuButton() {
  const { isPhone, drawer, openDrawer } = useShell();
  if (!isPhone) return null;
  return (
    <button
      type="button"
      className="icon-button"
      aria-label="Open rooms"
      aria-expanded={drawer === 'rooms'}
      aria-controls="sidebar"
      onClick={() => openDrawer('rooms')}
    >
      <Icon name="menu" />
    </button>
  );
}

export function ViewHeader({ children }: { children: ReactNode }) {
  return (
    <header className="view-header">
      <MenuButton />
      {children}
    </header>
  );
}

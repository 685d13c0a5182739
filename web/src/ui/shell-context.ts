import { createContext, useContext } from 'react';

export type Drawer = 'rooms' | 'members' | null;

/** The phone layout's drawers, opened from the views' headers. */
export interface ShellControls {
  drawer: Drawer;
  isPhone: boolean;
  openDrawer: (drawer: Drawer) => void;
}

export const ShellContext = createContext<ShellControls>({ drawer: null, isPhone: false, openDrawer: () => undefined });

export function useShell(): ShellControls {
  return useContext(ShellContext);
}

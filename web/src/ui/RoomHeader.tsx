// The room's name and description, its join code with "Copy invite link", and the room's actions.

import { RefObject, useState } from 'react';
import type { Room } from '../protocol';
import { useAppState, useClient } from './context';
import { describeError } from './hooks';
import { Icon } from './icons';
import { MenuButton } from './PhoneHeader';
import { RoomSettingsDialog } from './RoomSettingsDialog';
import { useShell } from './shell-context';

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard access (not a secure context, or refused): select it for the user instead.
    return false;
  }
}

export function RoomHeader({ room, heading }: { room: Room; heading: RefObject<HTMLHeadingElement> }) {
  const client = useClient();
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const isAdmin = useAppState((state) => (selfId ? state.members[room.id]?.[selfId]?.role === 'admin' : false));
  const { isPhone, drawer, openDrawer } = useShell();
  const [settings, setSettings] = useState(false);
  const [manualLink, setManualLink] = useState<string | null>(null);
  const invite = `${location.origin}/join/${encodeURIComponent(room.code)}`;

  const copy = async () => {
    if (await copyText(invite)) client.toast('Invite link copied.');
    else setManualLink(invite);
  };

  const leave = async () => {
    if (!window.confirm(`Leave ${room.name}?`)) return;
    try {
      await client.rooms.leave(room.id);
    } catch (error) {
      client.toast(describeError(error), 'error');
    }
  };

  return (
    <header className="room-header">
      <MenuButton />
      <div className="room-title">
        <h1 ref={heading} tabIndex={-1}>
          <Icon name="hash" />
          {room.name}
        </h1>
        {room.description && <p className="room-description">{room.description}</p>}
      </div>
      <div className="room-code">
        <span className="room-code-label">Code</span>
        <code className="room-code-value">{room.code}</code>
        <button type="button" className="button small" onClick={() => void copy()}>
          <Icon name="copy" />
          Copy invite link
        </button>
      </div>
      <div className="room-actions">
        {isPhone && (
          <button
            type="button"
            className="icon-button"
            aria-label="Show members"
            aria-expanded={drawer === 'members'}
            aria-controls="members"
            onClick={() => openDrawer('members')}
          >
            <Icon name="people" />
          </button>
        )}
        {isAdmin && (
          <button type="button" className="icon-button" aria-label="Room settings" onClick={() => setSettings(true)}>
            <Icon name="settings" />
          </button>
        )}
        <button type="button" className="icon-button" aria-label="Leave room" onClick={() => void leave()}>
          <Icon name="leave" />
        </button>
      </div>
      {manualLink && (
        <p className="invite-manual">
          <label>
            Invite link
            <input readOnly value={manualLink} onFocus={(e) => e.target.select()} autoFocus />
          </label>
        </p>
      )}
      {settings && <RoomSettingsDialog room={room} onClose={() => setSettings(false)} />}
    </header>
  );
}

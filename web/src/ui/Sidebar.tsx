// The rooms of the user with their unread counts, room creation, and the user's own panel.

import { useMemo, useState } from 'react';
import { sortedRooms } from '../state/rooms';
import { Avatar } from './Avatar';
import { useAppState, useClient, useRoute } from './context';
import { CreateRoomDialog } from './CreateRoomDialog';
import { Icon } from './icons';
import { Link } from './Link';
import { SettingsDialog } from './SettingsDialog';
import { useShell } from './shell-context';

export function Sidebar() {
  const rooms = useAppState((state) => state.rooms);
  const isGuest = useAppState((state) => state.session.isGuest);
  const channels = useAppState((state) => state.channels);
  const voiceRooms = useAppState((state) => state.voice.rooms);
  const route = useRoute();
  const { isPhone, drawer, openDrawer } = useShell();
  const [creating, setCreating] = useState(false);
  const list = useMemo(() => sortedRooms(rooms), [rooms]);
  const currentId = route.name === 'room' ? route.roomId : null;

  return (
    <aside className="sidebar" id="sidebar" data-open={drawer === 'rooms' ? 'true' : 'false'}>
      <div className="sidebar-header">
        <Link href="/" className="brand" aria-label="VoiceFlow home">
          <span className="brand-mark" aria-hidden="true" />
          <span aria-hidden="true">VoiceFlow</span>
        </Link>
        {isPhone && (
          <button type="button" className="icon-button" aria-label="Close menu" onClick={() => openDrawer(null)}>
            <Icon name="close" />
          </button>
        )}
      </div>
      <nav className="room-nav" aria-label="Rooms">
        <div className="room-nav-title">
          <h2>Rooms</h2>
          {!isGuest && (
            <button type="button" className="button small" onClick={() => setCreating(true)}>
              <Icon name="plus" />
              Create room
            </button>
          )}
        </div>
        {rooms.loaded && list.length === 0 && (
          <p className="sidebar-empty">{isGuest ? 'No rooms yet. Join one with its code or invite link.' : 'No rooms yet. Create one, or join with a code.'}</p>
        )}
        <ul className="room-list">
          {list.map((room) => {
            const unread = channels[room.id]?.unread ?? 0;
            const inVoice = Object.keys(voiceRooms[room.id] ?? {}).length;
            const label = [room.name, inVoice > 0 && `${inVoice} in voice`, unread > 0 && `${unread} unread`]
              .filter(Boolean)
              .join(', ');
            return (
              <li key={room.id}>
                <Link
                  href={`/rooms/${room.id}`}
                  className="room-link"
                  aria-current={room.id === currentId ? 'page' : undefined}
                  data-unread={unread > 0 ? 'true' : undefined}
                  aria-label={label}
                >
                  <Icon name="hash" />
                  <span className="room-link-name">{room.name}</span>
                  {inVoice > 0 && (
                    <span className="room-link-voice" title={`${inVoice} in voice`}>
                      <Icon name="speaker" />
                      <span aria-hidden="true">{inVoice}</span>
                    </span>
                  )}
                  {unread > 0 && (
                    <span className="unread-badge">
                      <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
                    </span>
                  )}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <UserPanel />
      {creating && <CreateRoomDialog onClose={() => setCreating(false)} />}
    </aside>
  );
}

function UserPanel() {
  const client = useClient();
  const user = useAppState((state) => state.session.user);
  const isGuest = useAppState((state) => state.session.isGuest);
  const local = useAppState((state) => state.voice.local);
  const voiceRoomName = useAppState((state) => (local ? state.rooms.mine[local.roomId]?.name ?? null : null));
  const [settings, setSettings] = useState(false);
  if (!user) return null;
  return (
    <div className="user-panel">
      {local && (
        <Link href={`/rooms/${local.roomId}`} className="voice-status">
          <span className="voice-status-dot" aria-hidden="true" />
          {local.status === 'joining' ? 'Joining voice…' : 'Voice connected'}
          {voiceRoomName && <span className="voice-status-room"> · {voiceRoomName}</span>}
        </Link>
      )}
      <div className="user-row">
        <Avatar userId={user.id} name={user.username} status={local ? 'in_call' : 'online'} />
        <div className="user-name">
          <strong>{user.username}</strong>
          <small>{isGuest ? 'Guest' : user.email}</small>
        </div>
        <button type="button" className="icon-button" aria-label="Settings" onClick={() => setSettings(true)}>
          <Icon name="settings" />
        </button>
        <button type="button" className="icon-button" aria-label="Sign out" onClick={() => void client.signOut()}>
          <Icon name="leave" />
        </button>
      </div>
      {settings && <SettingsDialog onClose={() => setSettings(false)} />}
    </div>
  );
}

// Creating a room: name, description, size and the four settings.

import { FormEvent, useState } from 'react';
import type { RoomSettings } from '../protocol';
import { useClient, useNavigate } from './context';
import { Dialog } from './Dialog';
import { useAction } from './hooks';

export const settingLabels: Record<keyof RoomSettings, { label: string; hint: string }> = {
  isPublic: { label: 'Public', hint: 'Listed in the public rooms.' },
  allowGuests: { label: 'Allow guests', hint: 'People without an account may join.' },
  requireApproval: { label: 'Require approval', hint: 'An admin approves each person who joins.' },
  recordMessages: { label: 'Record messages', hint: 'Keep the history; otherwise messages are live only.' },
};

export const defaultSettings: RoomSettings = { isPublic: true, allowGuests: false, requireApproval: false, recordMessages: true };

export function SettingsFields({ settings, onChange }: { settings: RoomSettings; onChange: (settings: RoomSettings) => void }) {
  return (
    <fieldset className="fieldset">
      <legend>Settings</legend>
      {(Object.keys(settingLabels) as (keyof RoomSettings)[]).map((key) => (
        <label key={key} className="check">
          <input type="checkbox" checked={settings[key]} onChange={(e) => onChange({ ...settings, [key]: e.target.checked })} />
          <span>
            {settingLabels[key].label}
            <small>{settingLabels[key].hint}</small>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

export function CreateRoomDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const navigate = useNavigate();
  const { busy, error, run } = useAction();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [maxUsers, setMaxUsers] = useState(100);
  const [settings, setSettings] = useState<RoomSettings>(defaultSettings);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const room = await client.rooms.create({
        name: name.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
        maxUsers,
        settings,
      });
      onClose();
      navigate(`/rooms/${room.id}`);
    });
  };

  return (
    <Dialog title="Create a room" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Room name</span>
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
        <label className="field">
          <span>Description</span>
          <textarea rows={2} maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="field">
          <span>Max users</span>
          <input type="number" min={2} max={500} required value={maxUsers} onChange={(e) => setMaxUsers(Number(e.target.value))} />
        </label>
        <SettingsFields settings={settings} onChange={setSettings} />
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

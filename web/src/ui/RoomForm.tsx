// The form a room is created and edited with: name, description, size and the four settings.

import { FormEvent } from 'react';
import type { RoomSettings } from '../protocol';

/** What the form edits. */
export interface RoomDraft {
  readonly name: string;
  readonly description: string;
  readonly maxUsers: number;
  readonly settings: RoomSettings;
}

const settingLabels: Record<keyof RoomSettings, { label: string; hint: string }> = {
  isPublic: { label: 'Public', hint: 'Listed in the public rooms.' },
  allowGuests: { label: 'Allow guests', hint: 'People without an account may join.' },
  requireApproval: { label: 'Require approval', hint: 'An admin approves each person who joins.' },
  recordMessages: { label: 'Record messages', hint: 'Keep the history; otherwise messages are live only.' },
};

/** A new room's fields before the user changes them. */
export const newRoomDraft: RoomDraft = {
  name: '',
  description: '',
  maxUsers: 100,
  settings: { isPublic: true, allowGuests: false, requireApproval: false, recordMessages: true },
};

function SettingsFields({ settings, onChange }: { settings: RoomSettings; onChange: (settings: RoomSettings) => void }) {
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

export function RoomForm(props: {
  draft: RoomDraft;
  onChange: (draft: RoomDraft) => void;
  onSubmit: () => void;
  submitLabel: string;
  busy: boolean;
  error: string | null;
  autoFocus?: boolean;
}) {
  const { draft, onChange, busy, error } = props;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
  };
  return (
    <form className="form" onSubmit={submit}>
      <label className="field">
        <span>Room name</span>
        <input required maxLength={100} value={draft.name} onChange={(e) => onChange({ ...draft, name: e.target.value })} autoFocus={props.autoFocus} />
      </label>
      <label className="field">
        <span>Description</span>
        <textarea rows={2} maxLength={1000} value={draft.description} onChange={(e) => onChange({ ...draft, description: e.target.value })} />
      </label>
      <label className="field">
        <span>Max users</span>
        <input type="number" min={2} max={500} required value={draft.maxUsers} onChange={(e) => onChange({ ...draft, maxUsers: Number(e.target.value) })} />
      </label>
      <SettingsFields settings={draft.settings} onChange={(settings) => onChange({ ...draft, settings })} />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy}>
          {props.submitLabel}
        </button>
      </div>
    </form>
  );
}

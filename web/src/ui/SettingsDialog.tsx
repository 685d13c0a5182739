// The user's settings: desktop notifications (permission asked from this click only), sounds, theme.

import { useState } from 'react';
import type { Theme } from '../app/preferences';
import { useClient, usePreferences } from './context';
import { Dialog } from './Dialog';

const permissionText: Record<NotificationPermission | 'unsupported', string> = {
  granted: 'Allowed by the browser.',
  denied: 'Blocked in the browser’s site settings.',
  default: 'The browser will ask when you turn them on.',
  unsupported: 'This browser has no desktop notifications.',
};

export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const preferences = usePreferences();
  const [permission, setPermission] = useState(client.notifier.permission);
  const notificationsOn = preferences.notifications && permission === 'granted';

  const toggleNotifications = async () => {
    if (notificationsOn) client.notifier.disableNotifications();
    else setPermission(await client.notifier.enableNotifications());
  };

  return (
    <Dialog title="Settings" onClose={onClose}>
      <section className="settings-section">
        <h3>Notifications</h3>
        <p className="form-hint">Desktop notifications for messages in rooms you are not looking at. {permissionText[permission]}</p>
        <button
          type="button"
          className="button"
          disabled={permission === 'unsupported' || (permission === 'denied' && !notificationsOn)}
          onClick={() => void toggleNotifications()}
        >
          {notificationsOn ? 'Turn off desktop notifications' : 'Enable desktop notifications'}
        </button>
      </section>
      <section className="settings-section">
        <h3>Sounds</h3>
        <label className="check">
          <input
            type="checkbox"
            checked={preferences.messageSounds}
            onChange={(e) => {
              client.notifier.unlock();
              client.preferences.dispatch({ messageSounds: e.target.checked });
            }}
          />
          <span>Message sounds</span>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={preferences.voiceSounds}
            onChange={(e) => {
              client.notifier.unlock();
              client.preferences.dispatch({ voiceSounds: e.target.checked });
            }}
          />
          <span>Voice join and leave sounds</span>
        </label>
      </section>
      <section className="settings-section">
        <h3>Theme</h3>
        <label className="field">
          <span>Appearance</span>
          <select value={preferences.theme} onChange={(e) => client.preferences.dispatch({ theme: e.target.value as Theme })}>
            <option value="system">Follow the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
      </section>
    </Dialog>
  );
}

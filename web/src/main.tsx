// The browser entry point: wires the preferences, the router and the client, renders the app,
// then restores the session from the refresh cookie.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { systemClock } from './auth/clock';
import { Client } from './app/client';
import { createPreferences, PreferenceStore } from './app/preferences';
import { Router } from './app/router';
import { App } from './ui/App';
import { ServicesContext } from './ui/context';
import './styles.css';

function applyTheme(preferences: PreferenceStore): void {
  const apply = () => {
    const { theme } = preferences.getState();
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  };
  apply();
  preferences.subscribe(apply);
}

const preferences = createPreferences();
applyTheme(preferences);
const router = new Router();
const client = new Client({
  clock: systemClock,
  socketFactory: (url, options) => io(url, options),
  origin: location.origin,
  preferences,
  navigate: (path) => router.navigate(path),
});

// Sounds need a page the user has interacted with: a click or key press unlocks them.
const unlock = () => {
  if (!client.notifier.unlock()) return;
  window.removeEventListener('pointerdown', unlock);
  window.removeEventListener('keydown', unlock);
};
window.addEventListener('pointerdown', unlock);
window.addEventListener('keydown', unlock);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ServicesContext.Provider value={{ client, router }}>
      <App />
    </ServicesContext.Provider>
  </StrictMode>,
);
void client.restore();

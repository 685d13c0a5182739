// The user's choices, kept in localStorage (never a credential): notifications, sounds, theme,
// voice devices and volumes, and how far each room was read.

import { createStore, Store } from '../state/store';

export type Theme = 'system' | 'light' | 'dark';

export interface Preferences {
  /** Desktop notifications, once the browser's permission is granted. */
  readonly notifications: boolean;
  readonly messageSounds: boolean;
  readonly voiceSounds: boolean;
  readonly theme: Theme;
  readonly volumes: Readonly<Record<string, number>>;
  readonly inputId: string | null;
  readonly outputId: string | null;
}

export const defaultPreferences: Preferences = {
  notifications: false,
  messageSounds: true,
  voiceSounds: true,
  theme: 'system',
  volumes: {},
  inputId: null,
  outputId: null,
};

const preferencesKey = 'voiceflow:preferences';
const readMarksKey = (userId: string) => `voiceflow:read:${userId}`;

function load<T>(key: string): Partial<T> {
  try {
    const text = localStorage.getItem(key);
    const value: unknown = text ? JSON.parse(text) : {};
    return typeof value === 'object' && value !== null ? (value as Partial<T>) : {};
  } catch {
    return {};
  }
}

function save(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the choice lasts for this page only.
  }
}

export type PreferenceStore = Store<Preferences, Partial<Preferences>>;

/** The preferences, loaded now and saved on every change. */
export function createPreferences(): PreferenceStore {
  const store = createStore<Preferences, Partial<Preferences>>(
    (state, patch) => ({ ...state, ...patch }),
    { ...defaultPreferences, ...load<Preferences>(preferencesKey) },
  );
  store.subscribe(() => save(preferencesKey, store.getState()));
  return store;
}

/** Per user: roomId → the newest seq read. */
export class ReadMarks {
  private marks: Record<string, number>;
  private timer: number | null = null;

  constructor(private readonly userId: string) {
    const loaded = load<Record<string, number>>(readMarksKey(userId));
    this.marks = Object.fromEntries(Object.entries(loaded).filter(([, seq]) => typeof seq === 'number')) as Record<string, number>;
  }

  get(roomId: string): number | null {
    return this.marks[roomId] ?? null;
  }

  set(roomId: string, seq: number): void {
    if ((this.marks[roomId] ?? -1) >= seq) return;
    this.marks = { ...this.marks, [roomId]: seq };
    if (this.timer === null) {
      this.timer = window.setTimeout(() => {
        this.timer = null;
        save(readMarksKey(this.userId), this.marks);
      }, 1000);
    }
  }

  forget(roomId: string): void {
    const { [roomId]: _gone, ...rest } = this.marks;
    this.marks = rest;
    save(readMarksKey(this.userId), this.marks);
  }
}

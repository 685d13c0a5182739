// What gets the user's attention: short sounds (synthesised, no audio files), desktop
// notifications for rooms not in view (permission asked only from a click), the tab title.

import type { PreferenceStore } from './preferences';

export type Sound = 'message' | 'voiceJoin' | 'voiceLeave';

/** Notes (Hz) and their length (s), played one after another. */
const tunes: Record<Sound, [number, number][]> = {
  message: [[880, 0.07], [1175, 0.09]],
  voiceJoin: [[523, 0.08], [784, 0.12]],
  voiceLeave: [[784, 0.08], [523, 0.12]],
};

export class Notifier {
  private context: AudioContext | null = null;
  private lastMessageSound = 0;

  constructor(
    private readonly preferences: PreferenceStore,
    private readonly openRoom: (roomId: string) => void,
  ) {}

  /** Whether the browser has desktop notifications at all, and what it allows. */
  get permission(): NotificationPermission | 'unsupported' {
    return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  }

  /** Asks for permission: only ever from a click in the settings. */
  async enableNotifications(): Promise<NotificationPermission | 'unsupported'> {
    if (typeof Notification === 'undefined') return 'unsupported';
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    this.preferences.dispatch({ notifications: permission === 'granted' });
    return permission;
  }

  disableNotifications(): void {
    this.preferences.dispatch({ notifications: false });
  }

  /** A message arrived in a room the user is not looking at. */
  message(roomId: string, roomName: string, author: string, text: string): void {
    const now = Date.now();
    if (this.preferences.getState().messageSounds && now - this.lastMessageSound > 1500) {
      this.lastMessageSound = now;
      this.play('message');
    }
    if (!this.preferences.getState().notifications || this.permission !== 'granted') return;
    try {
      const notification = new Notification(`${author} in ${roomName}`, { body: text.slice(0, 200), tag: `room:${roomId}` });
      notification.onclick = () => {
        window.focus();
        this.openRoom(roomId);
        notification.close();
      };
    } catch {
      // Some browsers only notify from a service worker: the sound and the title still say it.
    }
  }

  voice(sound: 'voiceJoin' | 'voiceLeave'): void {
    if (this.preferences.getState().voiceSounds) this.play(sound);
  }

  /**
   * Unlocks audio, from a click or key press: browsers start audio only after the user interacted
   * with the page. Whether sounds can play now.
   */
  unlock(): boolean {
    if (this.context?.state === 'running') return true;
    const activation = (navigator as Navigator & { userActivation?: { isActive: boolean } }).userActivation;
    if (activation && !activation.isActive) return false;
    if (!this.context && typeof AudioContext !== 'undefined') this.context = new AudioContext();
    void this.context?.resume();
    return this.context?.state === 'running';
  }

  play(sound: Sound): void {
    const context = this.context;
    if (!context || context.state !== 'running') return;
    let at = context.currentTime + 0.01;
    for (const [frequency, length] of tunes[sound]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.12, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + length + 0.02);
      at += length;
    }
  }
}

/** The tab title: "(3) general · VoiceFlow" while messages are unread. */
export function tabTitle(unread: number, roomName: string | null): string {
  const base = roomName ? `${roomName} · VoiceFlow` : 'VoiceFlow';
  if (unread <= 0) return base;
  return `(${unread > 99 ? '99+' : unread}) ${base}`;
}

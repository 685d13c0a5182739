// Browser APIs newer than the DOM types of Debian's TypeScript 4.8.

interface HTMLMediaElement {
  /** Plays through the audio output `sinkId` (Chromium, Firefox 116+; absent in Safari). */
  setSinkId?(sinkId: string): Promise<void>;
}

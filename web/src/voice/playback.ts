// The peers' audio: one <audio> element per remote session (not in the page), at the volume the
// user chose for that person, through the chosen output device, silent while deafened.

export class Playback {
  private readonly elements = new Map<string, { userId: string; element: HTMLAudioElement }>();
  private deafened = false;
  private sinkId: string | null = null;

  /** Plays a session's stream (again, when the peer's stream changes). */
  play(sessionId: string, userId: string, stream: MediaStream, volume: number): void {
    let entry = this.elements.get(sessionId);
    if (!entry) {
      const element = new Audio();
      element.autoplay = true;
      entry = { userId, element };
      this.elements.set(sessionId, entry);
    }
    const { element } = entry;
    element.srcObject = stream;
    element.volume = volume;
    element.muted = this.deafened;
    void this.applySink(element);
    void element.play().catch(() => undefined);
  }

  setVolume(userId: string, volume: number): void {
    for (const entry of this.elements.values()) if (entry.userId === userId) entry.element.volume = volume;
  }

  setDeafened(deafened: boolean): void {
    this.deafened = deafened;
    for (const { element } of this.elements.values()) element.muted = deafened;
  }

  /** Where audio plays (null: the system default). */
  async setOutput(sinkId: string | null): Promise<void> {
    this.sinkId = sinkId;
    await Promise.all([...this.elements.values()].map(({ element }) => this.applySink(element)));
  }

  /** Whether the browser can choose where audio plays (no Safari). */
  static get canChooseOutput(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  stop(sessionId: string): void {
    const entry = this.elements.get(sessionId);
    if (!entry) return;
    entry.element.pause();
    entry.element.srcObject = null;
    this.elements.delete(sessionId);
  }

  stopAll(): void {
    for (const sessionId of [...this.elements.keys()]) this.stop(sessionId);
    this.deafened = false;
  }

  private async applySink(element: HTMLAudioElement): Promise<void> {
    if (!element.setSinkId) return;
    try {
      await element.setSinkId(this.sinkId ?? '');
    } catch {
      // The device went away meanwhile: the default plays.
    }
  }
}

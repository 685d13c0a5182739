// Voice activity detection: a level (0…1) sampled every few tens of milliseconds becomes
// "speaking" after it stays above a threshold for a moment, and "silent" once it has stayed below
// for a little while (the hangover keeps the ring from flickering between words). The same rule
// serves the local microphone (an AnalyserNode) and received audio (RTCRtpReceiver levels).

export interface VadSettings {
  /** The level that counts as voice. */
  threshold: number;
  /** How many samples in a row above the threshold start speech. */
  startSamples: number;
  /** How long below the threshold ends it, in ms. */
  hangoverMs: number;
}

export const microphoneVad: VadSettings = { threshold: 0.015, startSamples: 2, hangoverMs: 400 };
/** Received levels (RFC 6464, converted to linear 0…1 by the browser) run higher than RMS. */
export const receivedVad: VadSettings = { threshold: 0.02, startSamples: 1, hangoverMs: 500 };

export interface VadState {
  readonly speaking: boolean;
  readonly loudSamples: number;
  readonly lastLoudAt: number;
}

export const silent: VadState = { speaking: false, loudSamples: 0, lastLoudAt: Number.NEGATIVE_INFINITY };

export function vadStep(state: VadState, level: number, now: number, settings: VadSettings): VadState {
  if (level >= settings.threshold) {
    const loudSamples = state.loudSamples + 1;
    return { speaking: state.speaking || loudSamples >= settings.startSamples, loudSamples, lastLoudAt: now };
  }
  const speaking = state.speaking && now - state.lastLoudAt < settings.hangoverMs;
  return { speaking, loudSamples: 0, lastLoudAt: state.lastLoudAt };
}

/** The root mean square of a block of samples (−1…1). */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < samples.length; index += 1) sum += samples[index]! * samples[index]!;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** Watches a microphone stream and reports when its user starts and stops speaking. */
export class MicrophoneActivity {
  private readonly source: MediaStreamAudioSourceNode;
  private readonly analyser: AnalyserNode;
  private readonly samples: Float32Array;
  private readonly timer: number;
  private state = silent;

  constructor(context: AudioContext, stream: MediaStream, onChange: (speaking: boolean) => void, intervalMs = 50) {
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    this.timer = window.setInterval(() => {
      this.analyser.getFloatTimeDomainData(this.samples);
      const next = vadStep(this.state, rms(this.samples), performance.now(), microphoneVad);
      if (next.speaking !== this.state.speaking) onChange(next.speaking);
      this.state = next;
    }, intervalMs);
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.source.disconnect();
    this.analyser.disconnect();
  }
}

/** The level of a peer's audio as received: the loudest synchronization source heard lately (0…1). */
export function receivedLevel(receivers: readonly RTCRtpReceiver[]): number {
  let level = 0;
  for (const receiver of receivers) {
    for (const source of receiver.getSynchronizationSources()) level = Math.max(level, source.audioLevel ?? 0);
  }
  return level;
}

/** Polls each peer's received audio level and reports when a peer starts and stops speaking. */
export class ReceivedActivity {
  private readonly states = new Map<string, VadState>();
  private timer: number | null = null;

  constructor(
    private readonly peers: () => Iterable<[string, { receivers(): RTCRtpReceiver[] }]>,
    private readonly onChange: (sessionId: string, speaking: boolean) => void,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    this.timer = window.setInterval(() => {
      const now = performance.now();
      for (const [sessionId, peer] of this.peers()) {
        const before = this.states.get(sessionId) ?? silent;
        const after = vadStep(before, receivedLevel(peer.receivers()), now, receivedVad);
        this.states.set(sessionId, after);
        if (after.speaking !== before.speaking) this.onChange(sessionId, after.speaking);
      }
    }, this.intervalMs);
  }

  forget(sessionId: string): void {
    this.states.delete(sessionId);
  }

  stop(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.states.clear();
  }
}

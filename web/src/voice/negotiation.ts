// One WebRTC connection to one peer of the voice mesh, negotiated with the "perfect negotiation"
// pattern (https://developer.mozilla.org/docs/Web/API/WebRTC_API/Perfect_negotiation): either
// side may (re)negotiate at any time; when two offers cross, the impolite peer ignores the one it
// receives and the polite peer rolls its own back and answers. Of two sessions the polite one is
// the one whose sessionId is the greater (compared as strings), as the server documents.
// The newcomer offers first, to every participant its `voice:join` acknowledgement lists.

import type { JsonValue } from '../schema';
import type { LinkState } from '../state/voice';

/** Whether this session is the polite one towards `remoteSessionId`. */
export function isPolite(localSessionId: string, remoteSessionId: string): boolean {
  return localSessionId > remoteSessionId;
}

/** Whether an incoming description collides with negotiation under way here. */
export function isOfferCollision(type: RTCSdpType, makingOffer: boolean, signalingState: RTCSignalingState): boolean {
  return type === 'offer' && (makingOffer || signalingState !== 'stable');
}

/** An SDP description or an ICE candidate, as `voice:signal` carries them. */
export type Signal =
  | { kind: 'description'; description: RTCSessionDescriptionInit }
  | { kind: 'candidate'; candidate: RTCIceCandidateInit };

const sdpTypes: readonly string[] = ['offer', 'answer', 'pranswer', 'rollback'];

/** Reads a signal off the wire; anything else (or malformed) is null. */
export function parseSignal(data: JsonValue): Signal | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const record = data as Readonly<Record<string, JsonValue>>;
  const type = record.type;
  if (typeof type === 'string' && sdpTypes.includes(type)) {
    const sdp = record.sdp;
    const description: RTCSessionDescriptionInit = { type: type as RTCSdpType };
    if (typeof sdp === 'string') description.sdp = sdp;
    return { kind: 'description', description };
  }
  if (typeof record.candidate === 'string') {
    const candidate: RTCIceCandidateInit = {
      candidate: record.candidate,
      sdpMid: typeof record.sdpMid === 'string' ? record.sdpMid : null,
      sdpMLineIndex: typeof record.sdpMLineIndex === 'number' ? record.sdpMLineIndex : null,
    };
    if (typeof record.usernameFragment === 'string') candidate.usernameFragment = record.usernameFragment;
    return { kind: 'candidate', candidate };
  }
  return null;
}

export interface PeerLinkOptions {
  localSessionId: string;
  remoteSessionId: string;
  /** Creates the connection (`new RTCPeerConnection(config)`; a fake in tests). */
  createPeer: (config: RTCConfiguration) => RTCPeerConnection;
  iceServers: RTCIceServer[];
  /** The local microphone track, or null to listen only. */
  track: MediaStreamTrack | null;
  /** Whether this side makes the first offer (the newcomer does). */
  initiate: boolean;
  /** Sends `data` to the peer with `voice:signal`. */
  send: (data: JsonValue) => void;
  onRemoteStream: (stream: MediaStream) => void;
  onState: (state: LinkState) => void;
  onError?: (error: unknown) => void;
}

export class PeerLink {
  readonly polite: boolean;
  readonly peer: RTCPeerConnection;
  private makingOffer = false;
  private ignoreOffer = false;
  private track: MediaStreamTrack | null;
  private closed = false;

  constructor(private readonly options: PeerLinkOptions) {
    this.polite = isPolite(options.localSessionId, options.remoteSessionId);
    this.track = options.track;
    const peer = options.createPeer({ iceServers: options.iceServers });
    this.peer = peer;
    peer.onnegotiationneeded = () => void this.negotiate();
    peer.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      const data: Record<string, JsonValue> = {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      };
      if (candidate.usernameFragment) data.usernameFragment = candidate.usernameFragment;
      options.send(data);
    };
    peer.ontrack = ({ track, streams }) => options.onRemoteStream(streams[0] ?? new MediaStream([track]));
    peer.oniceconnectionstatechange = () => {
      // A path that stopped working: gather new candidates and renegotiate (either side may).
      if (peer.iceConnectionState === 'failed') peer.restartIce();
    };
    peer.onconnectionstatechange = () => options.onState(peer.connectionState as LinkState);
    options.onState('new');
    if (options.initiate) {
      // Adding the track (or a receive-only transceiver) fires negotiationneeded: the first offer.
      if (this.track) peer.addTrack(this.track, new MediaStream([this.track]));
      else peer.addTransceiver('audio', { direction: 'recvonly' });
    }
  }

  /** Takes a signal from the peer. */
  async receive(signal: Signal): Promise<void> {
    if (this.closed) return;
    const peer = this.peer;
    try {
      if (signal.kind === 'description') {
        const { description } = signal;
        const collision = isOfferCollision(description.type, this.makingOffer, peer.signalingState);
        this.ignoreOffer = !this.polite && collision;
        if (this.ignoreOffer) return;
        // On a collision the polite side's own offer is rolled back by setRemoteDescription itself.
        await peer.setRemoteDescription(description);
        if (description.type === 'offer') {
          this.sendOnOfferedTransceiver();
          await peer.setLocalDescription();
          this.sendDescription();
        }
      } else {
        try {
          await peer.addIceCandidate(signal.candidate);
        } catch (error) {
          // A candidate of an offer this side ignored is expected to fail.
          if (!this.ignoreOffer) throw error;
        }
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Switches the microphone (another device) without renegotiating. */
  async replaceTrack(track: MediaStreamTrack | null): Promise<void> {
    this.track = track;
    const sender = this.peer.getSenders().find((s) => s.track?.kind === 'audio' || s.track === null);
    if (sender) await sender.replaceTrack(track);
    else if (track) this.peer.addTrack(track, new MediaStream([track]));
  }

  /** The receivers of the peer's audio, for its level. */
  receivers(): RTCRtpReceiver[] {
    return this.peer.getReceivers().filter((receiver) => receiver.track.kind === 'audio');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.onnegotiationneeded = null;
    this.peer.onicecandidate = null;
    this.peer.ontrack = null;
    this.peer.oniceconnectionstatechange = null;
    this.peer.onconnectionstatechange = null;
    this.peer.close();
    this.options.onState('closed');
  }

  private async negotiate(): Promise<void> {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.peer.setLocalDescription();
      this.sendDescription();
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.makingOffer = false;
    }
  }

  /**
   * The answering side sends its microphone on the audio transceiver the offer created, so the
   * answer carries it and no second negotiation is needed.
   */
  private sendOnOfferedTransceiver(): void {
    if (!this.track) return;
    if (this.peer.getSenders().some((sender) => sender.track === this.track)) return;
    const transceiver = this.peer
      .getTransceivers()
      .find((t) => t.receiver.track.kind === 'audio' && !t.sender.track && t.currentDirection !== 'stopped');
    if (transceiver) {
      void transceiver.sender.replaceTrack(this.track);
      transceiver.direction = 'sendrecv';
    } else {
      this.peer.addTrack(this.track, new MediaStream([this.track]));
    }
  }

  private sendDescription(): void {
    const description = this.peer.localDescription;
    if (description) this.options.send({ type: description.type, sdp: description.sdp });
  }
}

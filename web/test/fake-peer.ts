// A stand-in for RTCPeerConnection with just its signaling state machine: offers and answers,
// rollback (explicit, or implicit when an offer arrives over one's own), candidates refused
// before a remote description. Enough to run the negotiation logic of two peers in Node.

type Handler<E> = ((event: E) => void) | null;

export class FakePeer {
  signalingState: RTCSignalingState = 'stable';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  iceConnectionState: RTCIceConnectionState = 'new';
  connectionState: RTCPeerConnectionState = 'new';
  onnegotiationneeded: Handler<Event> = null;
  onicecandidate: Handler<{ candidate: RTCIceCandidate | null }> = null;
  ontrack: Handler<unknown> = null;
  oniceconnectionstatechange: Handler<Event> = null;
  onconnectionstatechange: Handler<Event> = null;
  readonly events: string[] = [];
  readonly candidates: RTCIceCandidateInit[] = [];
  closed = false;
  restarts = 0;
  private offers = 0;

  constructor(readonly name: string) {}

  addTransceiver(): void {
    this.needNegotiation();
  }

  addTrack(): void {
    this.needNegotiation();
  }

  getSenders(): RTCRtpSender[] {
    return [];
  }

  getReceivers(): RTCRtpReceiver[] {
    return [];
  }

  getTransceivers(): RTCRtpTransceiver[] {
    return [];
  }

  restartIce(): void {
    this.restarts += 1;
    this.needNegotiation();
  }

  close(): void {
    this.closed = true;
  }

  async setLocalDescription(description?: RTCSessionDescriptionInit): Promise<void> {
    await Promise.resolve();
    if (description?.type === 'rollback') {
      this.rollback();
      return;
    }
    if (this.signalingState === 'have-remote-offer') {
      this.localDescription = { type: 'answer', sdp: `${this.name}:answer` };
      this.signalingState = 'stable';
      this.events.push('answered');
    } else {
      this.offers += 1;
      this.localDescription = { type: 'offer', sdp: `${this.name}:offer${this.offers}` };
      this.signalingState = 'have-local-offer';
      this.events.push('offered');
    }
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    await Promise.resolve();
    if (description.type === 'offer') {
      if (this.signalingState === 'have-local-offer') this.rollback();
      this.remoteDescription = description;
      this.signalingState = 'have-remote-offer';
      this.events.push(`took ${description.sdp}`);
    } else if (description.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      this.remoteDescription = description;
      this.signalingState = 'stable';
      this.events.push(`took ${description.sdp}`);
    }
  }

  async addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    await Promise.resolve();
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.candidates.push(candidate);
  }

  /** Pretends ICE gathered a candidate. */
  gather(candidate: string): void {
    this.onicecandidate?.({ candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } as RTCIceCandidate });
  }

  private rollback(): void {
    this.events.push('rolled back');
    this.localDescription = null;
    this.signalingState = 'stable';
  }

  private needNegotiation(): void {
    queueMicrotask(() => this.onnegotiationneeded?.(new Event('negotiationneeded')));
  }
}

import type { IceCandidate, SignalData } from './protocol.js';

/** Where a connection stands, recovery included. */
export type PeerStatus = 'connected' | 'reconnecting' | 'failed';

export interface RecoveryOptions {
  /** A first connection not up after this long is treated as lost, in ms. */
  connectTimeoutMs: number;
  /** How long `disconnected` may last before we restart ICE, in ms. */
  disconnectGraceMs: number;
  /** Time given to each ICE restart before the next, in ms. */
  restartIntervalMs: number;
  /** After this long without a connection, give up (`failed`), in ms. */
  giveUpMs: number;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  connectTimeoutMs: 10000,
  disconnectGraceMs: 2500,
  restartIntervalMs: 5000,
  giveUpMs: 30000,
};

export interface PeerCallbacks {
  /** Send a description or candidate to the remote side. */
  signal(data: SignalData): void;
  /** A remote stream started (once per stream). */
  stream(stream: MediaStream): void;
  status(status: PeerStatus): void;
  /** The call's data channel: made by the polite side (which offers first), announced to the other. */
  channel(channel: RTCDataChannel): void;
  /** Negotiation broke in a way perfect negotiation cannot absorb. */
  error(error: unknown): void;
}

/**
 * One RTCPeerConnection to one remote peer, negotiated with the W3C "perfect negotiation"
 * pattern so that either side may (re)negotiate at any time, even both at once:
 * https://w3c.github.io/webrtc-pc/#perfect-negotiation-example
 * The polite peer yields (rolls back its own offer) on a collision; the impolite one ignores
 * the colliding offer. `isSettingRemoteAnswerPending` keeps an offer that arrives while we
 * apply an answer from being taken for a collision.
 */
export class Peer {
  readonly connection: RTCPeerConnection;
  readonly #polite: boolean;
  readonly #callbacks: PeerCallbacks;
  readonly #streams = new Set<string>();
  #makingOffer = false;
  #ignoreOffer = false;
  #isSettingRemoteAnswerPending = false;
  #closed = false;
  #streamOnOffer: MediaStream | undefined;
  readonly #recovery: RecoveryOptions;
  #recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  #lostSince: number | undefined;

  constructor(
    polite: boolean,
    configuration: RTCConfiguration,
    callbacks: PeerCallbacks,
    recovery: RecoveryOptions = DEFAULT_RECOVERY,
  ) {
    this.#polite = polite;
    this.#callbacks = callbacks;
    this.#recovery = recovery;
    const pc = new RTCPeerConnection(configuration);
    this.connection = pc;

    pc.onnegotiationneeded = async () => {
      try {
        this.#makingOffer = true;
        await pc.setLocalDescription();
        if (pc.localDescription) this.#sendDescription(pc.localDescription);
      } catch (error) {
        this.#fail(error);
      } finally {
        this.#makingOffer = false;
      }
    };
    // Trickle ICE: each candidate goes out as soon as it is found.
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.#callbacks.signal({ candidate: toCandidate(candidate) });
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] ?? new MediaStream([track]);
      if (this.#streams.has(stream.id)) return;
      this.#streams.add(stream.id);
      this.#callbacks.stream(stream);
    };
    if (polite) callbacks.channel(pc.createDataChannel('rtc-call'));
    else pc.ondatachannel = ({ channel }) => callbacks.channel(channel);
    pc.onconnectionstatechange = () => {
      if (this.#closed) return;
      switch (pc.connectionState) {
        case 'connected':
          clearTimeout(this.#recoveryTimer);
          this.#recoveryTimer = undefined;
          this.#lostSince = undefined;
          this.#callbacks.status('connected');
          break;
        case 'disconnected':
          // Often passes by itself (a brief loss of consent checks); restart only if it lasts.
          // Chromium never reports `failed` when a TURN relay dies, so this is the path then.
          this.#recoveryTimer ??= setTimeout(() => this.#restart(), this.#recovery.disconnectGraceMs);
          break;
        case 'failed':
          this.#restart();
          break;
      }
    };
  }

  /**
   * The remote side is known and hears our signals from now on: the time a first connection may
   * take starts. (A connection prepared ahead, while we wait alone in the room, begins later.)
   */
  begin(): void {
    if (this.#closed || this.#recoveryTimer || this.connection.connectionState === 'connected') return;
    // Nothing reports a negotiation that never got going (no offer arrived, no candidate found).
    this.#recoveryTimer = setTimeout(() => this.#restart(), this.#recovery.connectTimeoutMs);
  }

  /** ICE restart through perfect negotiation, again every interval, until connected or given up. */
  #restart(): void {
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    if (this.#closed || this.connection.connectionState === 'connected') return;
    const now = performance.now();
    if (this.#lostSince === undefined) {
      this.#lostSince = now;
      this.#callbacks.status('reconnecting');
    } else if (now - this.#lostSince >= this.#recovery.giveUpMs) {
      this.#callbacks.status('failed');
      return;
    }
    if (this.#streamOnOffer) {
      // No offer came: send our media in our own offer.
      this.addStream(this.#streamOnOffer);
      this.#streamOnOffer = undefined;
    }
    this.connection.restartIce();
    this.#recoveryTimer = setTimeout(() => this.#restart(), this.#recovery.restartIntervalMs);
  }

  /** Send these tracks to the peer (negotiation follows by itself). */
  addStream(stream: MediaStream): void {
    for (const track of stream.getTracks()) this.connection.addTrack(track, stream);
  }

  /** Our senders carry `stream`'s tracks as they are now (a device may have been switched meanwhile). */
  useTracksOf(stream: MediaStream): void {
    for (const sender of this.connection.getSenders()) {
      const current = stream.getTracks().find((track) => track.kind === sender.track?.kind);
      if (current && current !== sender.track) void sender.replaceTrack(current).catch(() => {});
    }
  }

  /**
   * Send these tracks in the answer to the first offer, not in an offer of our own. The impolite
   * peer does this so a call starts with one offer instead of two colliding ones: Chromium can
   * leave a rolled-back side with no ICE candidates at all when the remote offer follows its own
   * offer at once (seen in about one call in five).
   */
  addStreamOnOffer(stream: MediaStream): void {
    this.#streamOnOffer = stream;
  }

  /** Apply a description or candidate from the remote side. */
  async receive(data: SignalData): Promise<void> {
    const pc = this.connection;
    try {
      if ('description' in data) {
        const description = data.description;
        // An answer that finds us stable answers an offer already settled (a glare leftover).
        if (description.type === 'answer' && pc.signalingState === 'stable') return;
        const readyForOffer =
          !this.#makingOffer && (pc.signalingState === 'stable' || this.#isSettingRemoteAnswerPending);
        const offerCollision = description.type === 'offer' && !readyForOffer;
        this.#ignoreOffer = !this.#polite && offerCollision;
        if (this.#ignoreOffer) return;
        this.#isSettingRemoteAnswerPending = description.type === 'answer';
        await pc.setRemoteDescription(description);
        this.#isSettingRemoteAnswerPending = false;
        if (description.type === 'offer') {
          if (this.#streamOnOffer) {
            // addTrack takes the transceivers the offer just made, so the answer carries our media.
            this.addStream(this.#streamOnOffer);
            this.#streamOnOffer = undefined;
          }
          await pc.setLocalDescription();
          if (pc.localDescription) this.#sendDescription(pc.localDescription);
        }
      } else if (data.candidate) {
        try {
          await pc.addIceCandidate(data.candidate);
        } catch {
          // A candidate of an offer we ignored, or one trickled from a description that was
          // rolled back, has nowhere to go. The spec's example only logs it: one candidate less
          // is one path less, never a reason to end the call.
        }
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#recoveryTimer);
    this.connection.close();
  }

  #sendDescription(description: RTCSessionDescription): void {
    if (description.type === 'offer' || description.type === 'answer') {
      this.#callbacks.signal({ description: { type: description.type, sdp: description.sdp } });
    }
  }

  #fail(error: unknown): void {
    if (!this.#closed) this.#callbacks.error(error);
  }
}

function toCandidate(candidate: RTCIceCandidate): IceCandidate {
  const { candidate: line, sdpMid, sdpMLineIndex, usernameFragment } = candidate.toJSON();
  return {
    candidate: line ?? '',
    sdpMid: sdpMid ?? null,
    sdpMLineIndex: sdpMLineIndex ?? null,
    usernameFragment: usernameFragment ?? null,
  };
}

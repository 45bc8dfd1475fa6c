import { MediaWatch, readArrivals, DEFAULT_WATCH, type MediaKind, type WatchOptions } from './media-watch.js';
import type { IceCandidate, SignalData } from './protocol.js';
import { pathOf, selectedPair, type PathKind } from './stats.js';

/** How long the impolite side waits for the polite one's restart after a freeze, in ms. */
const FREEZE_DEFER_MS = 1000;

/** Where a connection stands, recovery included. */
export type PeerStatus = 'connected' | 'reconnecting' | 'failed';

export interface RecoveryOptions {
  /** A first connection not up after this long is restarted, in ms. */
  connectTimeoutMs: number;
  /** How long `disconnected` may last before we restart ICE, in ms. */
  disconnectGraceMs: number;
  /** Time given to each ICE restart before the next, in ms. */
  restartIntervalMs: number;
  /**
   * After this long without a connection, give up (`failed`), in ms: from `begin()` for a first
   * connection, from the loss for a later one.
   */
  giveUpMs: number;
  /** How often the peer's media is looked at while connected, in ms. */
  watchIntervalMs: number;
  watch: WatchOptions;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  connectTimeoutMs: 8000,
  disconnectGraceMs: 2500,
  restartIntervalMs: 5000,
  // With the time to join, a verdict within 30 s of Call when no path works.
  giveUpMs: 24000,
  watchIntervalMs: 500,
  watch: DEFAULT_WATCH,
};

export interface PeerCallbacks {
  /** Send a description or candidate to the remote side. */
  signal(data: SignalData): void;
  /** A remote stream started (once per stream). */
  stream(stream: MediaStream): void;
  /** With `failed`: whether a TURN relay was among the ICE servers (and failed too). */
  status(status: PeerStatus, detail: { relay: boolean }): void;
  /** The call's data channel: made by the polite side (which offers first), announced to the other. */
  channel(channel: RTCDataChannel): void;
  /** Negotiation broke in a way perfect negotiation cannot absorb. */
  error(error: unknown): void;
  /**
   * The same kind of path froze again and a TURN server is at hand: this connection should give
   * way to one that uses relays only (recovery stops here meanwhile).
   */
  relayOnly(): void;
}

/**
 * One RTCPeerConnection to one remote peer, negotiated with the W3C "perfect negotiation"
 * pattern so that either side may (re)negotiate at any time, even both at once:
 * https://w3c.github.io/webrtc-pc/#perfect-negotiation-example
 * The polite peer yields (rolls back its own offer) on a collision; the impolite one ignores
 * the colliding offer. `isSettingRemoteAnswerPending` keeps an offer that arrives while we
 * apply an answer from being taken for a collision.
 *
 * It also keeps the connection alive: ICE restarts while the path is lost, and while it is
 * `connected` but the peer's media stopped arriving (a frozen path); a path of the same kind
 * that freezes again makes both sides retry over TURN relays only.
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
  #giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  /** Since when we have been without a working path (or, before the first, trying for one). */
  #lostSince: number | undefined;
  #everConnected = false;
  /** Connected, but the peer's media stopped arriving: a path only ICE restarts may mend. */
  #frozen = false;
  /** The kinds of path that broke on this connection: froze, or were lost while connected. */
  readonly #brokenPaths = new Set<PathKind | 'unknown'>();
  readonly #watch: MediaWatch;
  #watchTimer: ReturnType<typeof setInterval> | undefined;
  #looking = false;
  /** The kind of path in use at the last look. */
  #path: PathKind | 'unknown' = 'unknown';
  /** Recovery gave up: the next loss of the connection ends the call. */
  #gaveUp = false;

  /** What the peer says it sends (its camera or microphone may be off). */
  #remoteSends: Record<MediaKind, boolean> = { audio: true, video: true };

  constructor(
    polite: boolean,
    configuration: RTCConfiguration,
    callbacks: PeerCallbacks,
    recovery: RecoveryOptions = DEFAULT_RECOVERY,
  ) {
    this.#polite = polite;
    this.#callbacks = callbacks;
    this.#recovery = recovery;
    this.#watch = new MediaWatch(recovery.watch);
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
      if (!this.#closed) this.#onConnectionState();
    };
  }

  /**
   * The remote side is known and hears our signals from now on: the time a first connection may
   * take starts. (A connection prepared ahead, while we wait alone in the room, begins later.)
   */
  begin(): void {
    if (this.#closed || this.#lostSince !== undefined || this.connection.connectionState === 'connected') return;
    // Nothing reports a negotiation that never got going (no offer arrived, no candidate found).
    this.#lost();
    this.#recoveryTimer = setTimeout(() => this.#restart(), this.#recovery.connectTimeoutMs);
  }

  /** What the peer says it sends now: a kind it does not send is not waited for. */
  expectMedia(sends: Record<MediaKind, boolean>): void {
    const turnedOn = (['audio', 'video'] as const).some((kind) => sends[kind] && !this.#remoteSends[kind]);
    this.#remoteSends = { ...sends };
    if (turnedOn) this.#watch.reset();
  }

  #onConnectionState(): void {
    switch (this.connection.connectionState) {
      case 'connected':
        this.#everConnected = true;
        // A new window for the media: the first frames after a restart take a moment.
        this.#watch.reset();
        this.#watchTimer ??= setInterval(() => void this.#look(), this.#recovery.watchIntervalMs);
        // A frozen path is mended when media flows again, whatever ICE says.
        if (!this.#frozen) this.#recovered();
        break;
      case 'disconnected':
        if (this.#gaveUp) return this.#report('failed');
        // A path of this kind that an ICE restart finds again, and that then freezes, is the
        // second failure of its kind (a TURN allocation the relay dropped goes this way).
        if (this.#everConnected) this.#brokenPaths.add(this.#path);
        // Often passes by itself (a brief loss of consent checks); restart only if it lasts.
        // Chromium never reports `failed` when a TURN relay dies, so this is the path then.
        this.#recoveryTimer ??= setTimeout(() => this.#restart(), this.#recovery.disconnectGraceMs);
        break;
      case 'failed':
        if (this.#gaveUp) return this.#report('failed');
        this.#restart();
        break;
    }
  }

  /** A recovery starts (or, before the first connection, the time for one): give-up counts from now. */
  #lost(): void {
    if (this.#lostSince !== undefined) return;
    this.#lostSince = performance.now();
    if (this.#everConnected) this.#report('reconnecting');
    this.#giveUpTimer = setTimeout(() => this.#giveUp(), this.#recovery.giveUpMs);
  }

  #recovered(): void {
    clearTimeout(this.#recoveryTimer);
    clearTimeout(this.#giveUpTimer);
    this.#recoveryTimer = this.#giveUpTimer = this.#lostSince = undefined;
    this.#gaveUp = false;
    this.#report('connected');
  }

  #giveUp(): void {
    this.#giveUpTimer = undefined;
    if (this.#closed) return;
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    this.#gaveUp = true;
    // The peer still answers, only its media does not come: wait for it rather than end the
    // call (if it is gone in all but name, the server says so). The connection dropping ends it.
    if (this.#frozen && this.connection.connectionState === 'connected') return;
    this.#report('failed');
  }

  #report(status: PeerStatus): void {
    this.#callbacks.status(status, { relay: this.relayAvailable });
  }

  /** ICE restart through perfect negotiation, again every interval, until mended or given up. */
  #restart(): void {
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    const connected = this.connection.connectionState === 'connected';
    if (this.#closed || this.#gaveUp || (connected && !this.#frozen)) return;
    if (this.#frozen && connected && this.#watch.carrying(this.#expected(), performance.now())) {
      // Packets get through again: the picture waits for a keyframe, not for another path.
      this.#recoveryTimer = setTimeout(() => this.#restart(), this.#recovery.watchIntervalMs);
      return;
    }
    this.#lost();
    if (this.#frozen) {
      // The same kind of path broke before: the direct ways through these networks do not
      // hold. TURN relays on both sides, then.
      if (this.#relayNext) {
        // Changing the policy of this connection (setConfiguration) is not enough: Chromium 156
        // keeps the old pair, and the relay pairs of later ICE generations never get answers.
        // A new connection that is relay-only from the start does work.
        this.#callbacks.relayOnly();
        this.#nextRestart();
        return;
      }
      this.#brokenPaths.add(this.#path);
    }
    if (this.#streamOnOffer) {
      // No offer came: send our media in our own offer.
      this.addStream(this.#streamOnOffer);
      this.#streamOnOffer = undefined;
    }
    this.#watch.reset();
    this.connection.restartIce();
    this.#nextRestart();
  }

  /**
   * The next try, once this one had its chance: a frozen path's media should be back within a
   * second for the restart and a keyframe more; a lost connection gets longer.
   */
  #nextRestart(): void {
    clearTimeout(this.#recoveryTimer);
    const interval = this.#frozen ? this.#recovery.watch.freezeMs + 500 : this.#recovery.restartIntervalMs;
    this.#recoveryTimer = setTimeout(() => this.#restart(), interval);
  }

  /** One look at the media while connected (getStats): has it frozen, or is it flowing again? */
  async #look(): Promise<void> {
    const pc = this.connection;
    if (this.#closed || this.#looking || pc.connectionState !== 'connected') return;
    this.#looking = true;
    try {
      const report = await pc.getStats();
      if (this.#closed || pc.connectionState !== 'connected') return;
      const now = performance.now();
      const expected = this.#expected();
      const frozen = this.#watch.update(readArrivals(report), expected, now);
      const pair = selectedPair(report);
      if (pair) this.#path = pathOf(pair.local, pair.remote);
      if (this.#frozen && this.#watch.flowing(expected, now)) {
        this.#frozen = false;
        this.#recovered();
      } else if (!this.#frozen && frozen.length > 0) {
        this.#frozen = true;
        this.#lost();
        clearTimeout(this.#recoveryTimer);
        // Both sides see a frozen path at about the same moment: the polite one restarts, the
        // other gives it a second first (two restart offers at once collide, and cost one more).
        this.#recoveryTimer = setTimeout(() => this.#restart(), this.#polite ? 0 : FREEZE_DEFER_MS);
      }
    } catch {
      // Closed meanwhile: nothing to watch.
    } finally {
      this.#looking = false;
    }
  }

  /** The kinds the peer sends us now: received on a transceiver, and on by the peer's word. */
  #expected(): MediaKind[] {
    const kinds = new Set<MediaKind>();
    for (const transceiver of this.connection.getTransceivers()) {
      const direction = transceiver.currentDirection;
      const kind = transceiver.receiver.track.kind;
      if ((direction === 'sendrecv' || direction === 'recvonly') && (kind === 'audio' || kind === 'video'))
        if (this.#remoteSends[kind]) kinds.add(kind);
    }
    return [...kinds];
  }

  /** Whether this kind of path broke before and relays are at hand: relays only, then. */
  get #relayNext(): boolean {
    return this.#brokenPaths.has(this.#path) && this.relayAvailable && !this.relayOnly;
  }

  /** Whether a TURN server is among this connection's ICE servers. */
  get relayAvailable(): boolean {
    const servers = this.connection.getConfiguration().iceServers ?? [];
    return servers.some((server) => [server.urls].flat().some((url) => /^turns?:/.test(url)));
  }

  /** Whether this connection uses TURN relays only. */
  get relayOnly(): boolean {
    return this.connection.getConfiguration().iceTransportPolicy === 'relay';
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
        // The peer restarts too: one restart at a time, whoever's turn came first. Not when our
        // next step is the move to relays only: a restart of its own does not hold that up.
        if (data.description.type === 'offer' && this.#frozen && this.#recoveryTimer && !this.#relayNext)
          this.#nextRestart();
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
      } else if ('candidate' in data && data.candidate) {
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
    clearTimeout(this.#giveUpTimer);
    clearInterval(this.#watchTimer);
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

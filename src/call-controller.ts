import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { canTransition, isActive, type CallState } from './call-state.js';
import { readConstraints, readIceServers, readIceTransportPolicy, readSignalingUrl } from './config.js';
import { adapterReady } from './adapter.js';
import { RtcCallError, loadPart, mediaError, toRtcCallError } from './errors.js';
import { emit } from './events.js';
import type { InCall, InCallHost } from './in-call.js';
import { formatLabel, type LabelKey, type RtcCallLabels } from './labels.js';
import type { RoomListener, RoomSession } from './room-session.js';

// What a call may never need is fetched when the camera is asked for, beside the bundle, not
// with the page: the in-call features (data channel, files, devices, screen share, stats), and
// the WebSocket client, which a loopback self-test does without. The camera prompt takes longer.
const loadInCall = () => loadPart(() => import('./in-call.js'), 'the in-call features');
const loadWebSocket = () => loadPart(() => import('./signaling/websocket.js'), 'the signaling client');
const loadSession = () => loadPart(() => import('./session.js'), 'the call');
type Session = Awaited<ReturnType<typeof loadSession>>;

/** What the controller reads from its element: the attributes, as properties. */
export interface CallHost extends ReactiveControllerHost, InCallHost {
  room: string;
  signalingUrl: string | undefined;
  loopback: boolean;
  iceServers: RTCIceServer[] | undefined;
  iceTransportPolicy: RTCIceTransportPolicy | undefined;
  constraints: MediaStreamConstraints | undefined;
  name: string;
  token: string | undefined;
  lobby: boolean;
}

/** A status line other than the state's own: a label, and what fills it in. */
interface StatusLine {
  key: LabelKey;
  params?: Record<string, string>;
}

/**
 * Owns a call's lifecycle: camera, signaling, peer connections, and the one state they add
 * up to. The element renders what this holds; every change goes through `#setState`.
 */
export class CallController implements ReactiveController {
  readonly #host: CallHost;
  readonly #scriptUrl: string;
  #state: CallState = 'idle';
  #status: StatusLine | undefined;
  #error: RtcCallError | undefined;
  #localStream: MediaStream | undefined;
  #remoteStream: MediaStream | undefined;
  #remotePeerId: string | undefined;
  #sessions: RoomSession[] = [];
  /** Display names of the peers in the room, by peer id. */
  readonly #names = new Map<string, string>();
  #starting: Promise<MediaStream> | undefined;
  #cancelJoin: (() => void) | undefined;
  /** The signaling socket, opened when the camera starts so that Call does not wait for it. */
  #earlySocket: WebSocket | undefined;
  /** Bumped on every release, so work that finishes after a hang-up knows it is stale. */
  #generation = 0;
  /** When this call's setup began: Call, or the peer's arrival if we waited for one (performance.now()). */
  #setupFrom: number | undefined;
  /** Setup began → the first remote video frame shown, in ms. */
  #setupTime: number | undefined;

  /** Chat, files, mute, devices, screen share and quality, inside the call: there once media starts. */
  inCall: InCall | undefined;

  constructor(host: CallHost, scriptUrl: string) {
    this.#host = host;
    this.#scriptUrl = scriptUrl;
    host.addController(this);
  }

  async #loadInCall(): Promise<InCall> {
    const { InCall } = await loadInCall();
    this.inCall ??= new InCall(this.#host, {
      localStream: () => this.#localStream,
      // The first session sends our media; the last receives the peer's (in loopback they differ).
      connections: () => this.#connectionsOf(this.#sessions[0]),
      receiving: () => this.#connectionsOf(this.#sessions.at(-1))[0],
      setupTime: () => this.#setupTime,
      peerMedia: (peerId, sends) => {
        for (const session of this.#sessions) session.expectMedia(peerId, sends);
      },
    });
    return this.inCall;
  }

  #connectionsOf(session: RoomSession | undefined): RTCPeerConnection[] {
    return session ? [...session.peers.values()].map((peer) => peer.connection) : [];
  }

  get state(): CallState {
    return this.#state;
  }
  /** The line the element shows, in the page's `labels`: what is happening, or what went wrong and what to do. */
  statusText(labels: Partial<RtcCallLabels>): string {
    if (this.#state === 'failed' && this.#error) return labels.errors?.[this.#error.code] ?? this.#error.message;
    const { key, params = {} } = this.#status ?? { key: stateLabel(this.#state, this.#host.loopback) };
    const name = params['name']?.trim() || formatLabel(labels, 'someone');
    return formatLabel(labels, key, { room: this.#host.room, ...params, name });
  }
  get error(): RtcCallError | undefined {
    return this.#error;
  }
  get localStream(): MediaStream | undefined {
    return this.#localStream;
  }
  get remoteStream(): MediaStream | undefined {
    return this.#remoteStream;
  }
  /**
   * Call → the first remote video frame of this call, in ms; from the peer's arrival when we were
   * waiting alone for one. Undefined until that frame is shown (and in calls without video).
   */
  get setupTime(): number | undefined {
    return this.#setupTime;
  }

  /** The element showed a first frame of `stream`: the setup time, if it is this call's. */
  remoteFrameShown(stream: MediaStream): void {
    if (stream !== this.#remoteStream || this.#setupTime !== undefined || this.#setupFrom === undefined) return;
    if (stream.getVideoTracks().length === 0) return;
    this.#setupTime = Math.round(performance.now() - this.#setupFrom);
    this.#host.requestUpdate();
  }

  /** The display name of the peer whose video is shown (plain text, as the peer chose it). */
  get remoteName(): string | undefined {
    return this.#remotePeerId === undefined ? undefined : this.#names.get(this.#remotePeerId);
  }
  /** Who waits in the lobby to be let in, in the order they knocked. */
  get knocks(): { peerId: string; name: string }[] {
    return (this.#sessions[0]?.knocks ?? []).map(({ id, name }) => ({ peerId: id, name }));
  }

  /** Lets someone in from the lobby (`admit`) or turns them away. */
  async decide(peerId: string, admit: boolean): Promise<void> {
    if (!this.#sessions[0]?.decide(peerId, admit)) {
      throw new RtcCallError('bad-config', `No one with the id "${peerId}" is waiting in the lobby.`);
    }
  }

  /** The open peer connections (loopback: both ends). */
  get connections(): RTCPeerConnection[] {
    return this.#sessions.flatMap((session) => [...session.peers.values()].map((peer) => peer.connection));
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    // Removing the element must not leave the camera on or a connection open.
    if (isActive(this.#state)) {
      this.#release();
      this.#setState('ended');
    }
  }

  /** Turns on camera and microphone and shows the preview. */
  async start(): Promise<MediaStream> {
    if (this.#localStream && isActive(this.#state)) return this.#localStream;
    if (this.#starting) return this.#starting;
    this.#starting = this.#startMedia().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Starts media if needed, then joins the room (or, in loopback, calls itself). */
  async call(): Promise<void> {
    if (this.#sessions.length > 0) return;
    const calledAt = performance.now();
    let configuration: RTCConfiguration;
    try {
      // Check the configuration before the camera prompt, not after.
      configuration = {
        iceServers: readIceServers(this.#host.iceServers),
        iceTransportPolicy: readIceTransportPolicy(this.#host.iceTransportPolicy),
      };
      // Before the camera prompt too: there is no call to make in a browser without WebRTC.
      if (typeof RTCPeerConnection !== 'function') {
        throw new RtcCallError(
          'unsupported',
          'This browser cannot make video calls (it has no WebRTC) — open the page in a recent Chrome, Edge, Firefox or Safari.',
        );
      }
    } catch (error) {
      const failure = toRtcCallError(error, 'bad-config');
      this.#fail(failure);
      throw failure;
    }
    const stream = await this.start();
    if (this.#sessions.length > 0) return;
    const generation = this.#generation;
    try {
      const parts = await loadSession();
      if (generation !== this.#generation || this.#sessions.length > 0) return;
      this.#setupFrom = calledAt;
      this.#setupTime = undefined;
      const { RoomSession } = parts;
      if (this.#host.loopback) {
        this.#callLoopback(parts, stream, configuration);
        return;
      }
      const room = this.#host.room.trim();
      if (!room)
        throw new RtcCallError('bad-config', 'The room attribute is empty — set room="…" to say which room to join.');
      const url = this.#signalingUrl();
      const { WebSocketSignaling } = await loadWebSocket();
      if (generation !== this.#generation) return;
      const socket = this.#earlySocket;
      this.#earlySocket = undefined;
      const signaling = new WebSocketSignaling(
        url,
        { room, name: this.#host.name, token: this.#host.token, lobby: this.#host.lobby },
        { socket },
      );
      await new Promise<void>((resolve, reject) => {
        // Hang-up or removal while joining settles the call quietly.
        this.#cancelJoin = resolve;
        const session = new RoomSession(
          signaling,
          { stream, configuration },
          {
            ...this.#listener(),
            joined: (peers) => {
              this.#listener().joined(peers);
              resolve();
            },
            error: (error) => {
              reject(error);
              this.#fail(error);
            },
          },
        );
        this.#sessions = [session];
        session.join();
      });
    } catch (error) {
      const failure = toRtcCallError(error, 'bad-config');
      if (generation === this.#generation && this.#state !== 'failed') this.#fail(failure);
      throw failure;
    } finally {
      this.#cancelJoin = undefined;
    }
  }

  /** Ends the call: stops every local track, closes the connections, tells the peer. */
  async hangup(): Promise<void> {
    if (!isActive(this.#state)) return;
    this.#release();
    this.#setState('ended');
  }

  async #startMedia(): Promise<MediaStream> {
    const generation = ++this.#generation;
    this.#error = undefined;
    this.#setState('starting');
    try {
      // getUserMedia exists only in secure contexts (https or localhost).
      if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
        throw new RtcCallError(
          'insecure-context',
          'The camera needs a secure page — open it over https:// (or on localhost).',
        );
      }
      const constraints = readConstraints(this.#host.constraints);
      const features = this.#loadInCall();
      // Awaited below, once the camera is on; whatever fails first is the failure reported.
      features.catch(() => {});
      // Loaded now, and the socket opened, so Call does not wait for them; a failure shows at Call.
      loadSession().catch(() => {});
      if (!this.#host.loopback) loadWebSocket().catch(() => {});
      if (!this.#host.loopback) this.#openEarly();
      await loadPart(adapterReady, "webrtc-adapter's shims for this browser");
      let stream: MediaStream;
      try {
        stream = await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        throw mediaError(error, [
          ...(constraints.video ? (['camera'] as const) : []),
          ...(constraints.audio ? (['microphone'] as const) : []),
        ]);
      }
      let inCall: InCall;
      try {
        inCall = await features;
      } catch (error) {
        stopTracks(stream);
        throw error;
      }
      if (generation !== this.#generation) {
        // Hung up (or removed) while the prompt was open.
        stopTracks(stream);
        throw new RtcCallError('media-denied', 'The call was ended before the camera started.');
      }
      this.#localStream = stream;
      inCall.applyMediaState();
      void inCall.refreshDevices().catch(() => {});
      this.#setState('ready');
      emit(this.#host, 'rtc-call-local-stream', { stream });
      return stream;
    } catch (error) {
      const failure = toRtcCallError(error);
      if (generation === this.#generation) this.#fail(failure);
      throw failure;
    }
  }

  #signalingUrl(): string {
    return readSignalingUrl(this.#host.signalingUrl, this.#host.signalingUrl ? document.baseURI : this.#scriptUrl);
  }

  #openEarly(): void {
    if (this.#earlySocket) return;
    try {
      this.#earlySocket = new WebSocket(this.#signalingUrl());
      // Joining reports what went wrong with the server; an unused socket's error says nothing more.
      this.#earlySocket.onerror = () => {};
    } catch {
      // A bad signaling-url is reported by call(), with the attribute named.
    }
  }

  /** The codelab's pc1/pc2, through the same room session a signaled call uses. */
  #callLoopback(
    { RoomSession, createLoopbackPair }: Session,
    stream: MediaStream,
    configuration: RTCConfiguration,
  ): void {
    const [near, far] = createLoopbackPair();
    const quiet: RoomListener = {
      joined() {},
      peerJoined() {},
      peerLeft() {},
      knock() {},
      knockGone() {},
      knocking() {},
      warning() {},
      remoteStream() {},
      peerStatus() {},
      // The other end of the self-test sends back what it gets, so chat and files test themselves.
      channel: (_peerId, channel, connection) => this.inCall?.echo(channel, connection),
      signaling() {},
      error: (error) => this.#fail(error),
    };
    // The near end sends the camera; the far end receives it and drives what the element shows.
    this.#sessions = [
      new RoomSession(near, { stream, configuration }, quiet),
      new RoomSession(far, { configuration }, this.#listener()),
    ];
    for (const session of this.#sessions) session.join();
  }

  #listener(): RoomListener {
    return {
      joined: (peers) => {
        for (const peer of peers) this.#names.set(peer.id, peer.name);
        for (const peer of peers) emit(this.#host, 'rtc-call-peer-joined', { peerId: peer.id, name: peer.name });
        this.#setState(peers.length > 0 ? 'connecting' : 'waiting');
      },
      peerJoined: (peer) => {
        // Waiting alone is not setting up: this call's setup starts now.
        if (!this.#remoteStream) this.#setupFrom = performance.now();
        this.#names.set(peer.id, peer.name);
        emit(this.#host, 'rtc-call-peer-joined', { peerId: peer.id, name: peer.name });
        this.#setState('connecting', { key: 'peerJoined', params: { name: peer.name } });
      },
      peerLeft: (peer) => {
        this.#names.delete(peer.id);
        this.inCall?.detach(peer.id);
        emit(this.#host, 'rtc-call-peer-left', { peerId: peer.id, name: peer.name });
        if (peer.id === this.#remotePeerId) {
          this.#remoteStream = undefined;
          this.#remotePeerId = undefined;
          this.#setupTime = undefined;
        }
        this.#setState('waiting', { key: 'peerLeft', params: { name: peer.name } });
      },
      knock: (peer) => {
        this.#host.requestUpdate();
        emit(this.#host, 'rtc-call-knock', { peerId: peer.id, name: peer.name });
      },
      knockGone: (peer, admitted) => {
        this.#host.requestUpdate();
        // Let in, they join (peer-joined follows); otherwise the page hears they are gone.
        if (!admitted) emit(this.#host, 'rtc-call-peer-left', { peerId: peer.id, name: peer.name });
      },
      knocking: () => {
        if (this.#state === 'waiting') this.#setState('waiting', { key: 'knocking' });
      },
      warning: (error) => emit(this.#host, 'rtc-call-error', { code: error.code, message: error.message }),
      remoteStream: (peerId, stream, replaces) => {
        // Only the first stream is shown, or the first of the connection that replaced its own
        // (moved to relays only); later ones (a transceiver added) are not the camera.
        if (this.#remoteStream && !(replaces && peerId === this.#remotePeerId)) return;
        this.#remoteStream = stream;
        this.#remotePeerId = peerId;
        this.#host.requestUpdate();
        emit(this.#host, 'rtc-call-remote-stream', { stream, peerId });
      },
      peerStatus: (_peerId, status, { relay }) => {
        if (status === 'failed') {
          this.#fail(
            new RtcCallError(
              'ice-failed',
              relay
                ? 'Could not reach the other side, not even through the TURN relay — check that the relay is reachable from both networks (UDP and TCP 3478; turns: on 443 where only TLS gets out) and that its credentials are valid.'
                : 'Could not reach the other side — these two networks let no direct connection through. A TURN relay would: set TURN_SECRET and TURN_URLS on the rtc-call server, or add a turn: server to the ice-servers attribute.',
            ),
          );
        } else this.#setState(status);
      },
      channel: (peerId, channel, connection) => this.inCall?.attach(peerId, channel, connection),
      signaling: (status) => {
        // The call itself is peer to peer and carries on; only the status line says so.
        this.#setState(this.#state, status === 'reconnecting' ? { key: 'signalingLost' } : undefined);
      },
      error: (error) => this.#fail(error),
    };
  }

  #fail(error: RtcCallError): void {
    this.#release();
    this.#error = error;
    this.#setState('failed');
    emit(this.#host, 'rtc-call-error', { code: error.code, message: error.message });
  }

  /** Stops every local track and closes every connection. */
  #release(): void {
    this.#generation++;
    this.#cancelJoin?.();
    this.#earlySocket?.close(1000, 'unused');
    this.#earlySocket = undefined;
    this.inCall?.release();
    for (const session of this.#sessions) session.close();
    this.#sessions = [];
    if (this.#localStream) stopTracks(this.#localStream);
    this.#localStream = undefined;
    this.#remoteStream = undefined;
    this.#remotePeerId = undefined;
    this.#setupFrom = this.#setupTime = undefined;
    this.#names.clear();
  }

  /** The one place state changes: refuses illegal moves, re-renders, emits one event. */
  #setState(next: CallState, status?: StatusLine): void {
    const previous = this.#state;
    if (previous === next) {
      if (JSON.stringify(status) !== JSON.stringify(this.#status)) {
        this.#status = status;
        this.#host.requestUpdate();
      }
      return;
    }
    if (!canTransition(previous, next)) return;
    this.#state = next;
    this.#status = status;
    if (next !== 'failed') this.#error = undefined;
    // Numbers while there is a path: through a reconnect, they show it is gone.
    if (next === 'connected') this.inCall?.startStats();
    else if (next !== 'reconnecting') this.inCall?.stopStats();
    this.#host.requestUpdate();
    emit(this.#host, 'rtc-call-state-change', { state: next, previous });
  }
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}

/** The status line of each state. */
function stateLabel(state: CallState, loopback: boolean): LabelKey {
  if (loopback && state === 'idle') return 'idleLoopback';
  if (loopback && state === 'ready') return 'readyLoopback';
  return state;
}

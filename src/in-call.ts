import { PeerChannel, type MediaState } from './data-channel.js';
import { DEFAULT_MAX_FILE_SIZE, readMaxFileSize } from './config.js';
import { RtcCallError, mediaError } from './errors.js';
import { emit } from './events.js';
import { summarizeStats, type CallStats, type StatsSample } from './stats.js';

import * as view from './in-call-view.js';

/** What the in-call features need from the element and the call. */
export interface InCallHost extends HTMLElement {
  muted: boolean;
  cameraOff: boolean;
  /** The largest file taken from the peer, in bytes (the default if not a whole number ≥ 0). */
  maxFileSize: number;
  requestUpdate(): void;
}

export interface CallAccess {
  /** The camera and microphone stream (the one the call started with, devices switched in place). */
  localStream(): MediaStream | undefined;
  /** Every peer connection that sends our media (loopback: the near end). */
  connections(): RTCPeerConnection[];
  /** The connection that receives the peer's media (loopback: the far end), for its numbers. */
  receiving(): RTCPeerConnection | undefined;
  /** Call → the first remote video frame, in ms, once known. */
  setupTime(): number | undefined;
  /** What the peer says it sends (the call watches that it arrives). */
  peerMedia(peerId: string, sends: MediaState): void;
}

/** How often `rtc-call-stats` is sent while connected, in ms. */
const STATS_INTERVAL = 2000;

export interface ChatLine {
  from: 'me' | 'peer';
  text: string;
}

/**
 * What happens inside a connected call: the data channel (chat, JSON, files, mute state),
 * mute and camera off, device switching and screen share without renegotiation (replaceTrack),
 * and call quality. One peer at a time: the call is 1:1.
 */
export class InCall {
  readonly #host: InCallHost;
  readonly #call: CallAccess;
  #channel: PeerChannel | undefined;
  #peerId: string | undefined;
  #screen: MediaStreamTrack | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #sample: StatsSample | undefined;
  #stats: CallStats | undefined;
  #remoteMedia: MediaState = { audio: true, video: true };
  #devices: MediaDeviceInfo[] = [];
  readonly #watched = new WeakSet<MediaStreamTrack>();
  /** How the element shows these features: fetched with them. */
  readonly view = view;
  /** The last lines of the built-in chat (the `chat` attribute shows them). */
  readonly chat: ChatLine[] = [];

  constructor(host: InCallHost, call: CallAccess) {
    this.#host = host;
    this.#call = call;
  }

  get stats(): CallStats | undefined {
    return this.#stats;
  }
  get remoteMedia(): MediaState {
    return this.#remoteMedia;
  }
  get sharingScreen(): boolean {
    return this.#screen !== undefined;
  }
  get devices(): MediaDeviceInfo[] {
    return this.#devices;
  }
  get channelOpen(): boolean {
    return this.#channel?.open ?? false;
  }

  /** The data channel to the peer shown in the call. */
  attach(peerId: string, channel: RTCDataChannel, connection: RTCPeerConnection): void {
    if (this.#channel && this.#peerId !== peerId) return;
    this.#channel?.close();
    this.#peerId = peerId;
    this.#channel = new PeerChannel(
      channel,
      {
        open: () => {
          this.#sendMedia();
          this.#host.requestUpdate();
        },
        message: (data) => {
          if (typeof data === 'string') this.#chatLine({ from: 'peer', text: data });
          emit(this.#host, 'rtc-call-message', { data, peerId });
        },
        media: (state) => {
          this.#remoteMedia = { audio: state.audio, video: state.video };
          this.#call.peerMedia(peerId, state);
          this.#host.requestUpdate();
          emit(this.#host, 'rtc-call-peer-media', { peerId, audio: state.audio, video: state.video });
        },
        fileProgress: (progress) => emit(this.#host, 'rtc-call-file-progress', progress),
        file: (file) => emit(this.#host, 'rtc-call-file', { file, peerId }),
        error: (error) => emit(this.#host, 'rtc-call-error', { code: error.code, message: error.message }),
      },
      {
        maxMessageSize: () => connection.sctp?.maxMessageSize,
        maxFileSize: () => {
          try {
            return readMaxFileSize(this.#host.maxFileSize);
          } catch {
            // The element reported it (bad-config).
            return DEFAULT_MAX_FILE_SIZE;
          }
        },
      },
    );
  }

  /** The far end of the loopback self-test: it sends back what it gets, so chat and files test themselves. */
  echo(channel: RTCDataChannel, connection: RTCPeerConnection): void {
    const echo: PeerChannel = new PeerChannel(
      channel,
      {
        open() {},
        message: (data) => echo.send(data),
        media() {},
        fileProgress() {},
        file: (file) => void echo.sendFile(file).catch(() => {}),
        error() {},
      },
      { maxMessageSize: () => connection.sctp?.maxMessageSize, maxFileSize: () => DEFAULT_MAX_FILE_SIZE },
    );
  }

  /** The peer is gone (left, or the call ended). */
  detach(peerId?: string): void {
    if (peerId !== undefined && peerId !== this.#peerId) return;
    this.#channel?.close();
    this.#channel = undefined;
    this.#peerId = undefined;
    this.#remoteMedia = { audio: true, video: true };
    this.stopStats();
  }

  send(data: unknown): void {
    this.#open().send(data);
    if (typeof data === 'string') this.#chatLine({ from: 'me', text: data });
  }

  sendFile(file: Blob): Promise<void> {
    return this.#open().sendFile(file);
  }

  /** The `muted` / `camera-off` properties onto the tracks (disabled, not removed), and to the peer. */
  applyMediaState(): void {
    const stream = this.#call.localStream();
    for (const track of stream?.getAudioTracks() ?? []) track.enabled = !this.#host.muted;
    for (const track of stream?.getVideoTracks() ?? []) track.enabled = !this.#host.cameraOff;
    for (const track of stream?.getTracks() ?? []) this.#watchTrack(track);
    this.#sendMedia();
  }

  async shareScreen(): Promise<void> {
    if (this.#screen) return;
    if (this.#call.connections().length === 0) {
      throw new RtcCallError('not-connected', 'Share the screen during a call — press Call first.');
    }
    if (!navigator.mediaDevices?.getDisplayMedia) {
      throw new RtcCallError('media-not-found', 'This browser cannot share the screen.');
    }
    let display: MediaStream;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      throw mediaError(error, ['display-capture']);
    }
    const [track] = display.getVideoTracks();
    if (!track) throw new RtcCallError('media-not-found', 'The screen share has no video.');
    this.#screen = track;
    // The browser's own "Stop sharing" button ends the track: back to the camera.
    track.addEventListener('ended', () => void this.stopScreenShare(), { once: true });
    await this.#replace('video', track);
    this.#sendMedia();
    this.#host.requestUpdate();
  }

  async stopScreenShare(): Promise<void> {
    const screen = this.#screen;
    if (!screen) return;
    this.#screen = undefined;
    screen.stop();
    await this.#replace('video', this.#call.localStream()?.getVideoTracks()[0] ?? null);
    this.#sendMedia();
    this.#host.requestUpdate();
  }

  /** Cameras and microphones, as `enumerateDevices` lists them (labels once permission is given). */
  async refreshDevices(): Promise<void> {
    const all = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
    this.#devices = all.filter((device) => device.kind === 'videoinput' || device.kind === 'audioinput');
    this.#host.requestUpdate();
  }

  /** The device in use for `kind`, as its id. */
  currentDevice(kind: 'audio' | 'video'): string | undefined {
    const track = this.#call
      .localStream()
      ?.getTracks()
      .find((t) => t.kind === kind);
    return track?.getSettings().deviceId;
  }

  /** Switches camera or microphone in place: the peer gets the new track without renegotiation. */
  async selectDevice(kind: 'audio' | 'video', deviceId: string): Promise<void> {
    const stream = this.#call.localStream();
    if (!stream) throw new RtcCallError('not-connected', 'Start the camera before choosing a device.');
    const old = stream.getTracks().find((t) => t.kind === kind);
    if (old?.getSettings().deviceId === deviceId) return;
    let fresh: MediaStream;
    try {
      fresh = await navigator.mediaDevices.getUserMedia({ [kind]: { deviceId: { exact: deviceId } } });
    } catch (error) {
      throw mediaError(error, [kind === 'audio' ? 'microphone' : 'camera']);
    }
    const [track] = fresh.getTracks();
    if (!track) return;
    track.enabled = kind === 'audio' ? !this.#host.muted : !this.#host.cameraOff;
    // While the screen is shared, the new camera waits for the share to end.
    if (kind === 'audio' || !this.#screen) await this.#replace(kind, track);
    // Only then let go of the old one: Chromium's sender stops taking frames for good when its
    // track is stopped under it, even once replaced.
    if (old) {
      stream.removeTrack(old);
      old.stop();
    }
    stream.addTrack(track);
    this.#watchTrack(track);
    this.#sendMedia();
    this.#host.requestUpdate();
  }

  /** `rtc-call-stats` every 2 s from now until the call leaves `connected`. */
  startStats(): void {
    if (this.#statsTimer) return;
    const poll = async () => {
      const connection = this.#call.receiving();
      if (!connection) return;
      const { sample, stats } = summarizeStats(await connection.getStats(), this.#sample);
      this.#sample = sample;
      if (!stats || !this.#statsTimer) return;
      const setupTime = this.#call.setupTime();
      if (setupTime !== undefined) stats.setupTime = setupTime;
      this.#stats = stats;
      this.#host.requestUpdate();
      emit(this.#host, 'rtc-call-stats', stats);
    };
    this.#statsTimer = setInterval(() => void poll().catch(() => {}), STATS_INTERVAL);
    void poll().catch(() => {});
  }

  stopStats(): void {
    clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    this.#sample = undefined;
    this.#stats = undefined;
  }

  /** Everything the call ended: the channel, the share, the numbers. */
  release(): void {
    this.detach();
    this.#screen?.stop();
    this.#screen = undefined;
    this.chat.length = 0;
  }

  #open(): PeerChannel {
    const channel = this.#channel;
    if (!channel?.open) {
      throw new RtcCallError('not-connected', 'Not connected to a peer yet — wait for the call to connect.');
    }
    return channel;
  }

  #sendMedia(): void {
    // A track the system paused (muted: a phone app in the background) sends nothing either: the
    // peer must not take the silence for a broken connection.
    const tracks = this.#call.localStream()?.getTracks() ?? [];
    const live = (kind: string) => tracks.some((track) => track.kind === kind && !track.muted);
    this.#channel?.sendMedia({
      audio: !this.#host.muted && live('audio'),
      video: (!this.#host.cameraOff && live('video')) || this.#screen !== undefined,
      screen: this.#screen !== undefined,
    });
  }

  /** Tells the peer when the system pauses or resumes one of our tracks. */
  #watchTrack(track: MediaStreamTrack): void {
    if (this.#watched.has(track)) return;
    this.#watched.add(track);
    track.addEventListener('mute', () => this.#sendMedia());
    track.addEventListener('unmute', () => this.#sendMedia());
  }

  async #replace(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const senders = this.#call
      .connections()
      .flatMap((pc) => pc.getTransceivers())
      .filter((t) => t.receiver.track.kind === kind && t.sender.track !== track && t.currentDirection !== 'stopped')
      .map((t) => t.sender)
      .filter((sender) => sender.track);
    await Promise.all(senders.map((sender) => sender.replaceTrack(track)));
  }

  #chatLine(line: ChatLine): void {
    this.chat.push(line);
    // A chat panel, not an archive.
    if (this.chat.length > 200) this.chat.shift();
    this.#host.requestUpdate();
  }
}

import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
// Lit re-sets object values on every render; `live` compares with the element's own srcObject, so
// a status change does not reload the videos.
import { live } from 'lit/directives/live.js';
import { CallController } from './call-controller.js';
import { isActive, isInCall, type CallState } from './call-state.js';
import { jsonAttribute, readLabels, readMaxFileSize } from './config.js';
import { RtcCallError, toRtcCallError } from './errors.js';
import { emit } from './events.js';
import { formatLabel, type LabelKey, type RtcCallLabels } from './labels.js';
import { styles } from './rtc-call.styles.js';

/**
 * A 1:1 video call in one tag: local and remote video, Start / Call / Hang-up, a status line.
 *
 * @summary Drop-in WebRTC video call, signaled through the rtc-call server or in-page (loopback).
 * @tag rtc-call
 *
 * @attr {"idle"|"starting"|"ready"|"waiting"|"connecting"|"connected"|"reconnecting"|"ended"|"failed"} state - Reflected, read-only: the current call state. Setting it from outside is ignored.
 *
 * @fires {CustomEvent<{state: CallState, previous: CallState}>} rtc-call-state-change - The call state changed.
 * @fires {CustomEvent<{stream: MediaStream}>} rtc-call-local-stream - Camera and microphone are on.
 * @fires {CustomEvent<{stream: MediaStream, peerId: string}>} rtc-call-remote-stream - The peer's media arrived.
 * @fires {CustomEvent<{peerId: string, name: string}>} rtc-call-peer-joined - A peer is in the room (also fired, on joining, for each peer already there).
 * @fires {CustomEvent<{peerId: string, name: string}>} rtc-call-peer-left - A peer left the room or hung up; also someone who knocked and is gone (turned away, timed out, or left).
 * @fires {CustomEvent<{peerId: string, name: string}>} rtc-call-knock - With `lobby`: someone waits to be let in; `admit(peerId)` or `decline(peerId)`. Until then they get nothing of yours.
 * @fires {CustomEvent<{code: RtcCallErrorCode, message: string}>} rtc-call-error - Something failed; `code` is stable, `message` readable.
 * @fires {CustomEvent<{data: unknown, peerId: string}>} rtc-call-message - The peer sent text or JSON with `send()`; `data` is that string or value.
 * @fires {CustomEvent<{name: string, size: number, bytes: number, direction: "send"|"receive"}>} rtc-call-file-progress - A file transfer moved on (at most once per percent, always at the end).
 * @fires {CustomEvent<{file: File, peerId: string}>} rtc-call-file - A file from the peer arrived whole, its name kept; its type is the announced one if on a short list of safe types (images, audio, video, PDF, plain text), else `application/octet-stream`.
 * @fires {CustomEvent<{peerId: string, audio: boolean, video: boolean}>} rtc-call-peer-media - The peer turned its microphone or camera on or off (a screen share counts as video).
 * @fires {CustomEvent<{rtt: number, bitrate: number, packetLoss: number, quality: "good"|"fair"|"poor", candidateType: string, path: "direct"|"reflexive"|"relayed", setupTime?: number}>} rtc-call-stats - Every 2 s while connected: `rtt` in ms, `bitrate` in bits/s received, `packetLoss` 0–1 since the last, `quality` `good` under 150 ms and 2 % loss, `poor` past 400 ms or 8 %, else `fair`; `candidateType` is `relay` through TURN; `path` is `direct` (host to host), `reflexive` (through NATs) or `relayed` (TURN); `setupTime` is Call → the first remote video frame in ms, once shown.
 *
 * @csspart local-video - Your own camera preview (muted, mirrored).
 * @csspart remote-video - The other side's video.
 * @csspart remote-name - The other side's display name, over their video (always shown as text).
 * @csspart status - The status line.
 * @csspart controls - The row of buttons.
 * @csspart start-button - Start: camera on, preview.
 * @csspart call-button - Call: join the room (or the loopback self-test).
 * @csspart hangup-button - Hang up: end the call and turn the camera off.
 * @csspart mute-button - Microphone off / on (`aria-pressed` while muted).
 * @csspart camera-button - Camera off / on (`aria-pressed` while off).
 * @csspart screen-button - Share the screen / stop sharing (`aria-pressed` while sharing).
 * @csspart device-select - The camera and microphone pickers (also `camera-select`, `mic-select`), shown when there is a choice.
 * @csspart remote-media - What the peer has turned off, over their video.
 * @csspart quality - Call quality, beside the status line: a word, the round-trip time, "relayed" when through TURN.
 * @csspart chat - The chat panel (with the `chat` attribute).
 * @csspart chat-log - The chat messages.
 * @csspart chat-input - The chat text field.
 * @csspart chat-send - The chat Send button.
 * @csspart lobby - With `lobby`: who waits to be let in (shown while someone does).
 * @csspart knock - One person waiting: their name and two buttons.
 * @csspart admit-button - Let this person in.
 * @csspart decline-button - Turn this person away.
 *
 * @slot placeholder - Shown over the remote video until the peer's video arrives (e.g. "Waiting for the host").
 * @slot controls - Your own buttons, at the end of the controls row.
 *
 * @cssprop [--rtc-call-accent=#0b57d0] - Button colour (dark scheme: #a8c7fa).
 * @cssprop [--rtc-call-on-accent=#fff] - Button text colour (dark scheme: #062e6f).
 * @cssprop [--rtc-call-danger=#b3261e] - Hang-up button colour (dark scheme: #f2b8b5).
 * @cssprop [--rtc-call-on-danger=#fff] - Hang-up button text colour (dark scheme: #601410).
 * @cssprop [--rtc-call-radius=8px] - Corner radius of videos, buttons and fields.
 * @cssprop [--rtc-call-gap=8px] - Space between videos and controls.
 * @cssprop [--rtc-call-control-size=40px] - Minimum height of buttons and fields.
 * @cssprop [--rtc-call-video-background=#101418] - Background behind a video with no picture.
 * @cssprop [--rtc-call-font=14px/1.4 system-ui, sans-serif] - Font of the element.
 * @cssprop [--rtc-call-color=#1b1f24] - Text colour (dark scheme: #e3e6ea).
 * @cssprop [--rtc-call-background=transparent] - Background of the element (dark scheme: #16191d).
 * @cssprop [--rtc-call-border-color=#8a949e] - Borders of the chat and the pickers (dark scheme: #6f7882).
 * @cssprop [--rtc-call-field-background=#fff] - Background of the chat field and the pickers (dark scheme: #22272e).
 * @cssprop [--rtc-call-disabled-background=#dde3ea] - A disabled button (dark scheme: #2d333b).
 * @cssprop [--rtc-call-disabled-color=#3c4650] - A disabled button's text (dark scheme: #b8c0c8).
 * @cssprop [--rtc-call-error-color=#b3261e] - Status text colour when failed (dark scheme: #f2b8b5).
 * @cssprop [--rtc-call-focus=#7a4300] - Keyboard focus ring colour (dark scheme: #f6b100).
 */
export class RtcCall extends LitElement {
  static override styles = styles;

  /** Room name: peers in the same room on the same server call each other. */
  @property() room = '';

  /** WebSocket URL of the signaling server. Default: `/signal` on the origin that served the script. */
  @property({ attribute: 'signaling-url' }) signalingUrl: string | undefined;

  /** Self-test: both peers in this page, no server. */
  @property({ type: Boolean, reflect: true }) loopback = false;

  /** JSON array of `RTCIceServer` (STUN/TURN), added to those the server hands out. */
  @property({ attribute: 'ice-servers', converter: jsonAttribute }) iceServers: RTCIceServer[] | undefined;

  /** `all` (default) or `relay` (TURN only). */
  @property({ attribute: 'ice-transport-policy' }) iceTransportPolicy: RTCIceTransportPolicy | undefined;

  /** JSON `MediaStreamConstraints`; default `{"audio":true,"video":true}`. */
  @property({ converter: jsonAttribute }) constraints: MediaStreamConstraints | undefined;

  /** Display name shown to the other peer. */
  @property() name = '';

  /** Join token (an opaque string), for servers that require one. */
  @property() token: string | undefined;

  /**
   * People who join your room after you (or who were there before you) wait in a lobby until you
   * `admit` them (`rtc-call-knock` tells you who): until then, nothing of yours reaches them, not
   * your offer, network addresses, camera or name. Read when Call is pressed.
   */
  @property({ type: Boolean, reflect: true }) lobby = false;

  /**
   * The largest file accepted from the peer, in bytes (default 100 MiB): an announced file above
   * it is refused, and the sender told why. Received files are held in memory until whole.
   */
  // 100 MiB, DEFAULT_MAX_FILE_SIZE, written out so the API reference shows it.
  @property({ type: Number, attribute: 'max-file-size' }) maxFileSize = 104857600;

  /** Microphone off: the track is disabled (not removed), and the peer is told. */
  @property({ type: Boolean, reflect: true }) muted = false;

  /** Camera off: the track is disabled (not removed), and the peer is told. */
  @property({ type: Boolean, reflect: true, attribute: 'camera-off' }) cameraOff = false;

  /** Show the built-in chat panel. */
  @property({ type: Boolean, reflect: true }) chat = false;

  /**
   * The strings the element shows, to replace (JSON in the attribute): e.g.
   * `{"start": "Démarrer", "waiting": "En attente de « {room} »…"}`. Unset keys stay English.
   */
  @property({ converter: jsonAttribute }) labels: Partial<RtcCallLabels> | undefined;

  /**
   * Where the videos go: `auto` (default: side by side when the element is wide, your camera as
   * a picture-in-picture over the other's when narrow), `side-by-side`, `stacked` or `pip`.
   */
  @property({ reflect: true }) layout: 'auto' | 'side-by-side' | 'stacked' | 'pip' = 'auto';

  /** Turn off the keyboard shortcuts (m: mute, c: camera, h: hang up, while focus is in the element). */
  @property({ type: Boolean, attribute: 'no-shortcuts' }) noShortcuts = false;

  /** `labels`, checked: a bad value is reported once (`bad-config`) and the English ones are used. */
  #labels: Partial<RtcCallLabels> = {};

  readonly #call = new CallController(this, import.meta.url);

  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, 'state'];
  }

  /** The current call state (read-only; also reflected on the `state` attribute). */
  get state(): CallState {
    return this.#call.state;
  }

  /** The open peer connections (in loopback, both ends). */
  get connections(): RTCPeerConnection[] {
    return this.#call.connections;
  }

  /** With `lobby`: who waits to be let in (`rtc-call-knock`), in the order they knocked. */
  get knocks(): { peerId: string; name: string }[] {
    return this.#call.knocks;
  }

  /** Lets in someone waiting in the lobby (a `peerId` from `rtc-call-knock`): the call with them starts. */
  admit(peerId: string): Promise<void> {
    return this.#reportAsync(() => this.#call.decide(peerId, true));
  }

  /** Turns away someone waiting in the lobby: their element fails with `declined`. */
  decline(peerId: string): Promise<void> {
    return this.#reportAsync(() => this.#call.decide(peerId, false));
  }

  /** Your camera and microphone, once started. */
  get localStream(): MediaStream | undefined {
    return this.#call.localStream;
  }

  /**
   * Call → the first frame of the peer's video, in ms (from the peer's arrival when you were
   * waiting alone for one), as the WebRTC codelab logs it; `undefined` until that frame is shown.
   * Also in every `rtc-call-stats` once known.
   */
  get setupTime(): number | undefined {
    return this.#call.setupTime;
  }

  /** The peer's media, once it arrives. */
  get remoteStream(): MediaStream | undefined {
    return this.#call.remoteStream;
  }

  /** Turns on camera and microphone and shows the preview; resolves with that stream. Rejects with an `RtcCallError`. */
  start(): Promise<MediaStream> {
    return this.#call.start();
  }

  /** Starts media if needed, then joins the room (or the loopback self-test). Rejects with an `RtcCallError`. */
  call(): Promise<void> {
    return this.#call.call();
  }

  /** Ends the call: stops every local track, closes the connection and tells the peer. */
  hangup(): Promise<void> {
    return this.#call.hangup();
  }

  /** Text or any JSON-serialisable value to the peer (`rtc-call-message` there). Throws `not-connected` before the call connects. */
  send(data: unknown): void {
    this.#report(() => this.#inCall().send(data));
  }

  /** A file to the peer, in chunks, with `rtc-call-file-progress`; resolves once all is sent, rejects with `not-connected` if the call ends first. */
  sendFile(file: Blob): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().sendFile(file));
  }

  /** Sends the screen instead of the camera (the browser asks which screen). */
  shareScreen(): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().shareScreen());
  }

  /** Sends the camera again instead of the screen (as when the browser's own "Stop sharing" ends it). */
  stopScreenShare(): Promise<void> {
    return this.#call.inCall?.stopScreenShare() ?? Promise.resolve();
  }

  /** Switches to this camera (a `deviceId` from `devices`) without renegotiating. */
  selectCamera(deviceId: string): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().selectDevice('video', deviceId));
  }

  /** Switches to this microphone (a `deviceId` from `devices`) without renegotiating. */
  selectMicrophone(deviceId: string): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().selectDevice('audio', deviceId));
  }

  /** Cameras and microphones (named once the camera has been allowed); updated on `devicechange`. */
  get devices(): MediaDeviceInfo[] {
    return this.#call.inCall?.devices ?? [];
  }

  /** Whether the screen is being shared. */
  get sharingScreen(): boolean {
    return this.#call.inCall?.sharingScreen ?? false;
  }

  /**
   * The latest `rtc-call-stats` detail; `undefined` before the first measurement.
   * @type {CallStats | undefined}
   */
  get stats() {
    return this.#call.inCall?.stats;
  }

  /** The in-call features, which arrive with the camera: before that there is no call to act on. */
  #inCall() {
    const inCall = this.#call.inCall;
    if (!inCall) throw new RtcCallError('not-connected', 'Not in a call yet — press Call first.');
    return inCall;
  }

  /** Failures of in-call actions are dispatched too, but leave the call as it is. */
  #report<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw this.#dispatchError(error);
    }
  }

  async #reportAsync(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      throw this.#dispatchError(error);
    }
  }

  #dispatchError(error: unknown): RtcCallError {
    const failure = toRtcCallError(error);
    emit(this, 'rtc-call-error', { code: failure.code, message: failure.message });
    return failure;
  }

  #onDeviceChange = () => void this.#call.inCall?.refreshDevices().catch(() => {});

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.#onKeyDown);
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.#onDeviceChange);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('muted') || changed.has('cameraOff')) this.#call.inCall?.applyMediaState();
    if (changed.has('maxFileSize')) {
      try {
        readMaxFileSize(this.maxFileSize);
      } catch (error) {
        // The default holds meanwhile (in-call.ts).
        this.#dispatchError(error);
      }
    }
    if (changed.has('labels')) {
      try {
        this.#labels = readLabels(this.labels);
      } catch (error) {
        this.#labels = {};
        this.#dispatchError(error);
      }
    }
  }

  #t = (key: LabelKey, params?: Record<string, string | number>): string => formatLabel(this.#labels, key, params);

  /** apprtc's shortcuts: m mutes, c turns the camera off, h hangs up; not while typing. */
  #onKeyDown = (event: KeyboardEvent) => {
    if (this.noShortcuts || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.composedPath()[0];
    if (
      target instanceof HTMLInputElement ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement
    )
      return;
    const key = event.key.toLowerCase();
    if (key === 'm') this.muted = !this.muted;
    else if (key === 'c') this.cameraOff = !this.cameraOff;
    else if (key === 'h' && isActive(this.state)) void this.hangup();
    else return;
    event.preventDefault();
  };

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === 'state') {
      // Read-only: put back what is true.
      if (value !== this.state) this.setAttribute('state', this.state);
      return;
    }
    super.attributeChangedCallback(name, old, value);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.#onKeyDown);
    navigator.mediaDevices?.addEventListener?.('devicechange', this.#onDeviceChange);
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  protected override updated(): void {
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
    this.#timeFirstFrame();
    // `autoplay` alone can leave a call's video paused on its first frame (Firefox, when the
    // stream's tracks start muted and get their media later): play it, at every render until it runs.
    for (const video of this.renderRoot.querySelectorAll('video')) {
      if (video.srcObject && video.paused) video.play().catch(() => {});
    }
  }

  /** The remote stream whose first frame is being waited for. */
  #timed: MediaStream | undefined;

  /** The first frame the remote video shows (presented, or at least decoded) ends the setup time. */
  #timeFirstFrame(): void {
    const stream = this.#call.remoteStream;
    const video = this.renderRoot.querySelector<HTMLVideoElement>('[part~="remote-video"]');
    if (!stream || !video || this.#timed === stream) return;
    this.#timed = stream;
    const shown = () => this.#call.remoteFrameShown(stream);
    video.addEventListener('loadeddata', shown, { once: true });
    video.requestVideoFrameCallback?.(shown);
  }

  protected override render() {
    const state = this.state;
    const canStart = !isActive(state);
    const canCall = !isInCall(state) && state !== 'waiting' && state !== 'starting';
    const sharing = this.sharingScreen;
    // Text, never markup: Lit escapes it (a name is whatever the other side typed).
    const remoteName = this.#call.remoteStream && this.#call.remoteName?.trim();
    const keys = (key: string) => (this.noShortcuts ? nothing : key);
    const { inCall } = this.#call;
    return html`
      <div class="videos">
        <div class="remote">
          <video
            part="remote-video"
            aria-label=${this.#t('remoteVideo')}
            autoplay
            playsinline
            .srcObject=${live(this.#call.remoteStream ?? null)}
          ></video>
          ${this.#call.remoteStream ? nothing : html`<slot name="placeholder"></slot>`}
          ${remoteName ? html`<span part="remote-name">${remoteName}</span>` : nothing}
          ${inCall && this.#call.remoteStream ? inCall.view.remoteMedia(inCall, this.#t) : nothing}
        </div>
        <video
          part="local-video"
          aria-label=${this.#t('localVideo')}
          autoplay
          playsinline
          .muted=${true}
          .srcObject=${live(this.#call.localStream ?? null)}
        ></video>
      </div>
      <div class="status-row">
        <div part="status" role="status" aria-live="polite">${this.#call.statusText(this.#labels)}</div>
        ${inCall && state === 'connected' ? inCall.view.quality(inCall, this.#t) : nothing}
      </div>
      ${this.#renderLobby()}
      <div part="controls" role="group" aria-label=${this.#t('controls')}>
        <button part="start-button" type="button" ?disabled=${!canStart} @click=${this.#onStart}>
          ${this.#t('start')}
        </button>
        <button part="call-button" type="button" ?disabled=${!canCall} @click=${this.#onCall}>
          ${this.#t('call')}
        </button>
        <button
          part="hangup-button"
          type="button"
          aria-keyshortcuts=${keys('h')}
          ?disabled=${!isActive(state)}
          @click=${this.#onHangup}
        >
          ${this.#t('hangup')}
        </button>
        <button
          part="mute-button"
          type="button"
          aria-pressed=${this.muted}
          aria-keyshortcuts=${keys('m')}
          @click=${this.#onMute}
        >
          ${this.#t(this.muted ? 'unmute' : 'mute')}
        </button>
        <button
          part="camera-button"
          type="button"
          aria-pressed=${this.cameraOff}
          aria-keyshortcuts=${keys('c')}
          @click=${this.#onCamera}
        >
          ${this.#t(this.cameraOff ? 'cameraOn' : 'cameraOff')}
        </button>
        <button
          part="screen-button"
          type="button"
          aria-pressed=${sharing}
          ?disabled=${!isInCall(state)}
          @click=${this.#onScreen}
        >
          ${this.#t(sharing ? 'stopSharing' : 'shareScreen')}
        </button>
        ${
          inCall && this.#call.localStream
            ? [
                inCall.view.devicePicker(inCall, 'video', this.#t('camera'), 'camera-select', this.#onDevice),
                inCall.view.devicePicker(inCall, 'audio', this.#t('microphone'), 'mic-select', this.#onDevice),
              ]
            : nothing
        }
        <slot name="controls"></slot>
      </div>
      ${this.chat ? this.#renderChat() : nothing}
    `;
  }

  #renderLobby() {
    const knocks = this.#call.knocks;
    if (knocks.length === 0) return nothing;
    return html`<section part="lobby" aria-label=${this.#t('lobby')}>
      ${knocks.map(({ peerId, name }) => {
        // Text, never markup: the name is whatever the one knocking typed.
        const who = this.#t('knock', { name: name.trim() || this.#t('someone') });
        return html`<div part="knock" role="group" aria-label=${who}>
          <span>${who}</span>
          <button part="admit-button" type="button" @click=${() => this.admit(peerId).catch(() => {})}>
            ${this.#t('admit')}
          </button>
          <button part="decline-button" type="button" @click=${() => this.decline(peerId).catch(() => {})}>
            ${this.#t('decline')}
          </button>
        </div>`;
      })}
    </section>`;
  }

  #renderChat() {
    const open = this.#call.inCall?.channelOpen ?? false;
    return html`<section part="chat" aria-label=${this.#t('chat')}>
      <ol part="chat-log" aria-live="polite">
        ${(this.#call.inCall?.chat ?? []).map(
          (line) =>
            html`<li class=${line.from}>
              <span class="who">${this.#t(line.from === 'me' ? 'you' : 'them')}:</span> ${line.text}
            </li>`,
        )}
      </ol>
      <form @submit=${this.#onChat}>
        <input part="chat-input" name="text" aria-label=${this.#t('message')} autocomplete="off" ?disabled=${!open} />
        <button part="chat-send" type="submit" ?disabled=${!open}>${this.#t('send')}</button>
      </form>
    </section>`;
  }

  // Failures are already shown and dispatched as rtc-call-error; a click has no caller to reject to.
  #onStart = () => this.start().catch(() => {});
  #onCall = () => this.call().catch(() => {});
  #onHangup = () => this.hangup();
  #onMute = () => (this.muted = !this.muted);
  #onCamera = () => (this.cameraOff = !this.cameraOff);
  #onScreen = () => (this.sharingScreen ? this.stopScreenShare() : this.shareScreen()).catch(() => {});
  #onDevice = (kind: 'audio' | 'video', id: string) =>
    (kind === 'video' ? this.selectCamera(id) : this.selectMicrophone(id)).catch(() => {});
  #onChat = (event: SubmitEvent) => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('text') as HTMLInputElement;
    const text = input.value.trim();
    if (!text) return;
    try {
      this.send(text);
      input.value = '';
    } catch {
      // Shown and dispatched by send().
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'rtc-call': RtcCall;
  }
}

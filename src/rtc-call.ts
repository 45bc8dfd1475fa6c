import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
// Lit re-sets object values on every render; `live` compares with the element's own srcObject, so
// a status change does not reload the videos.
import { live } from 'lit/directives/live.js';
import { CallController } from './call-controller.js';
import { isActive, isInCall, type CallState } from './call-state.js';
import { jsonAttribute } from './config.js';
import { RtcCallError, toRtcCallError } from './errors.js';
import { emit } from './events.js';
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
 * @fires {CustomEvent<{peerId: string, name: string}>} rtc-call-peer-left - A peer left the room or hung up.
 * @fires {CustomEvent<{code: RtcCallErrorCode, message: string}>} rtc-call-error - Something failed; `code` is stable, `message` readable.
 * @fires {CustomEvent<{data: unknown, peerId: string}>} rtc-call-message - The peer sent text or JSON with `send()`.
 * @fires {CustomEvent<{name: string, size: number, bytes: number, direction: "send"|"receive"}>} rtc-call-file-progress - A file transfer moved on (at most once per percent, always at the end).
 * @fires {CustomEvent<{file: File, peerId: string}>} rtc-call-file - A file from the peer arrived whole.
 * @fires {CustomEvent<{peerId: string, audio: boolean, video: boolean}>} rtc-call-peer-media - The peer turned its microphone or camera on or off.
 * @fires {CustomEvent<{rtt: number, bitrate: number, packetLoss: number, quality: "good"|"fair"|"poor", candidateType: string}>} rtc-call-stats - Call quality, every 2 s while connected.
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
 * @csspart device-select - The camera and microphone pickers (also `camera-select`, `mic-select`).
 * @csspart remote-media - What the peer has turned off, over their video.
 * @csspart quality - Call quality: a word, the round-trip time and the path type.
 * @csspart chat - The chat panel (with the `chat` attribute).
 * @csspart chat-log - The chat messages.
 * @csspart chat-input - The chat text field.
 * @csspart chat-send - The chat Send button.
 *
 * @cssprop --rtc-call-accent - Button colour.
 * @cssprop --rtc-call-on-accent - Button text colour.
 * @cssprop --rtc-call-danger - Hang-up button colour.
 * @cssprop --rtc-call-radius - Corner radius of videos and buttons.
 * @cssprop --rtc-call-gap - Space between videos and controls.
 * @cssprop --rtc-call-control-size - Minimum button height.
 * @cssprop --rtc-call-video-background - Background behind a video with no picture.
 * @cssprop --rtc-call-font - Font of the element.
 * @cssprop --rtc-call-color - Text colour.
 * @cssprop --rtc-call-error-color - Status text colour when failed.
 * @cssprop --rtc-call-focus - Keyboard focus ring colour.
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

  /** Microphone off: the track is disabled (not removed), and the peer is told. */
  @property({ type: Boolean, reflect: true }) muted = false;

  /** Camera off: the track is disabled (not removed), and the peer is told. */
  @property({ type: Boolean, reflect: true, attribute: 'camera-off' }) cameraOff = false;

  /** Show the built-in chat panel. */
  @property({ type: Boolean, reflect: true }) chat = false;

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

  /** Your camera and microphone, once started. */
  get localStream(): MediaStream | undefined {
    return this.#call.localStream;
  }

  /** The peer's media, once it arrives. */
  get remoteStream(): MediaStream | undefined {
    return this.#call.remoteStream;
  }

  /** Turns on camera and microphone and shows the preview. Rejects with an `RtcCallError`. */
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

  /** A file to the peer, in chunks, with `rtc-call-file-progress`; resolves once all is sent. */
  sendFile(file: Blob): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().sendFile(file));
  }

  /** Sends the screen instead of the camera (the browser asks which screen). */
  shareScreen(): Promise<void> {
    return this.#reportAsync(async () => this.#inCall().shareScreen());
  }

  /** Back to the camera. */
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

  /** Cameras and microphones (named once the camera has been allowed). */
  get devices(): MediaDeviceInfo[] {
    return this.#call.inCall?.devices ?? [];
  }

  /** Whether the screen is being shared. */
  get sharingScreen(): boolean {
    return this.#call.inCall?.sharingScreen ?? false;
  }

  /** The latest call quality numbers (as in `rtc-call-stats`). */
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
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.#onDeviceChange);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('muted') || changed.has('cameraOff')) this.#call.inCall?.applyMediaState();
  }

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
    navigator.mediaDevices?.addEventListener?.('devicechange', this.#onDeviceChange);
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  protected override updated(): void {
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  protected override render() {
    const state = this.state;
    const canStart = !isActive(state);
    const canCall = !isInCall(state) && state !== 'waiting' && state !== 'starting';
    const sharing = this.sharingScreen;
    // Text, never markup: Lit escapes it (a name is whatever the other side typed).
    const remoteName = this.#call.remoteStream && this.#call.remoteName?.trim();
    return html`
      <div class="videos">
        <div class="remote">
          <video
            part="remote-video"
            aria-label="Remote video"
            autoplay
            playsinline
            .srcObject=${live(this.#call.remoteStream ?? null)}
          ></video>
          ${remoteName ? html`<span part="remote-name">${remoteName}</span>` : nothing} ${this.#renderRemoteMedia()}
        </div>
        <video
          part="local-video"
          aria-label="Your camera"
          autoplay
          playsinline
          .muted=${true}
          .srcObject=${live(this.#call.localStream ?? null)}
        ></video>
      </div>
      <div class="status-row">
        <div part="status" role="status" aria-live="polite">${this.#call.status}</div>
        ${this.#renderQuality()}
      </div>
      <div part="controls" role="group" aria-label="Call controls">
        <button part="start-button" type="button" ?disabled=${!canStart} @click=${this.#onStart}>Start</button>
        <button part="call-button" type="button" ?disabled=${!canCall} @click=${this.#onCall}>Call</button>
        <button part="hangup-button" type="button" ?disabled=${!isActive(state)} @click=${this.#onHangup}>
          Hang up
        </button>
        <button part="mute-button" type="button" aria-pressed=${this.muted} @click=${this.#onMute}>
          ${this.muted ? 'Unmute' : 'Mute'}
        </button>
        <button part="camera-button" type="button" aria-pressed=${this.cameraOff} @click=${this.#onCamera}>
          ${this.cameraOff ? 'Camera on' : 'Camera off'}
        </button>
        <button
          part="screen-button"
          type="button"
          aria-pressed=${sharing}
          ?disabled=${!isInCall(state)}
          @click=${this.#onScreen}
        >
          ${sharing ? 'Stop sharing' : 'Share screen'}
        </button>
        ${this.#renderDevices('video', 'Camera', 'camera-select')}
        ${this.#renderDevices('audio', 'Microphone', 'mic-select')}
      </div>
      ${this.chat ? this.#renderChat() : nothing}
    `;
  }

  #renderRemoteMedia() {
    const media = this.#call.inCall?.remoteMedia;
    if (!this.#call.remoteStream || !media || (media.audio && media.video)) return nothing;
    const { audio, video } = media;
    const off = [audio ? '' : 'Muted', video ? '' : 'Camera off'].filter(Boolean).join(' · ');
    return html`<span part="remote-media">${off}</span>`;
  }

  #renderQuality() {
    const stats = this.stats;
    if (!stats || this.state !== 'connected') return nothing;
    return html`<span part="quality" data-quality=${stats.quality}
      >${stats.quality === 'good' ? 'Good' : stats.quality === 'fair' ? 'Fair' : 'Poor'} connection · ${stats.rtt}
      ms${stats.candidateType === 'relay' ? ' · relayed' : ''}</span
    >`;
  }

  #renderDevices(kind: 'audio' | 'video', label: string, part: string) {
    const inCall = this.#call.inCall;
    if (!inCall) return nothing;
    const devices = inCall.devices.filter((d) => d.kind === (kind === 'video' ? 'videoinput' : 'audioinput'));
    if (devices.length < 2 || !this.#call.localStream) return nothing;
    const current = inCall.currentDevice(kind);
    return html`<select
      part="device-select ${part}"
      aria-label=${label}
      @change=${(event: Event) => this.#onDevice(kind, (event.target as HTMLSelectElement).value)}
    >
      ${devices.map(
        (device, i) =>
          html`<option value=${device.deviceId} ?selected=${device.deviceId === current}>
            ${device.label || `${label} ${i + 1}`}
          </option>`,
      )}
    </select>`;
  }

  #renderChat() {
    const open = this.#call.inCall?.channelOpen ?? false;
    return html`<section part="chat" aria-label="Chat">
      <ol part="chat-log" aria-live="polite">
        ${(this.#call.inCall?.chat ?? []).map(
          (line) =>
            html`<li class=${line.from}>
              <span class="who">${line.from === 'me' ? 'You' : 'Them'}:</span> ${line.text}
            </li>`,
        )}
      </ol>
      <form @submit=${this.#onChat}>
        <input part="chat-input" name="text" aria-label="Message" autocomplete="off" ?disabled=${!open} />
        <button part="chat-send" type="submit" ?disabled=${!open}>Send</button>
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

// Tolerate being loaded twice (e.g. the bundle and an npm copy on one page).
if (!customElements.get('rtc-call')) customElements.define('rtc-call', RtcCall);

declare global {
  interface HTMLElementTagNameMap {
    'rtc-call': RtcCall;
  }
}

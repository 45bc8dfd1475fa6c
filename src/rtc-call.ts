import 'webrtc-adapter';
import { LitElement, html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
// Lit re-sets object values on every render; `live` compares with the element's own srcObject, so
// a status change does not reload the videos.
import { live } from 'lit/directives/live.js';
import { CallController } from './call-controller.js';
import { isActive, isInCall, type CallState } from './call-state.js';
import { jsonAttribute } from './config.js';
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
 *
 * @csspart local-video - Your own camera preview (muted, mirrored).
 * @csspart remote-video - The other side's video.
 * @csspart remote-name - The other side's display name, over their video (always shown as text).
 * @csspart status - The status line.
 * @csspart controls - The row of buttons.
 * @csspart start-button - Start: camera on, preview.
 * @csspart call-button - Call: join the room (or the loopback self-test).
 * @csspart hangup-button - Hang up: end the call and turn the camera off.
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
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  protected override updated(): void {
    if (this.getAttribute('state') !== this.state) this.setAttribute('state', this.state);
  }

  protected override render() {
    const state = this.state;
    const canStart = !isActive(state);
    const canCall = !isInCall(state) && state !== 'waiting' && state !== 'starting';
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
          ${remoteName ? html`<span part="remote-name">${remoteName}</span>` : nothing}
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
      <div part="status" role="status" aria-live="polite">${this.#call.status}</div>
      <div part="controls" role="group" aria-label="Call controls">
        <button part="start-button" type="button" ?disabled=${!canStart} @click=${this.#onStart}>Start</button>
        <button part="call-button" type="button" ?disabled=${!canCall} @click=${this.#onCall}>Call</button>
        <button part="hangup-button" type="button" ?disabled=${!isActive(state)} @click=${this.#onHangup}>
          Hang up
        </button>
      </div>
    `;
  }

  // Failures are already shown and dispatched as rtc-call-error; a click has no caller to reject to.
  #onStart = () => this.start().catch(() => {});
  #onCall = () => this.call().catch(() => {});
  #onHangup = () => this.hangup();
}

// Tolerate being loaded twice (e.g. the bundle and an npm copy on one page).
if (!customElements.get('rtc-call')) customElements.define('rtc-call', RtcCall);

declare global {
  interface HTMLElementTagNameMap {
    'rtc-call': RtcCall;
  }
}

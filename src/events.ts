import type { CallState } from './call-state.js';
import type { RtcCallErrorCode } from './errors.js';

export interface StateChangeDetail {
  state: CallState;
  previous: CallState;
}
export interface LocalStreamDetail {
  stream: MediaStream;
}
export interface RemoteStreamDetail {
  stream: MediaStream;
  peerId: string;
}
export interface PeerDetail {
  peerId: string;
  name: string;
}
export interface ErrorDetail {
  code: RtcCallErrorCode;
  message: string;
}

/** Every event rtc-call dispatches, by name, with its `detail`. */
export interface RtcCallEventDetails {
  'rtc-call-state-change': StateChangeDetail;
  'rtc-call-local-stream': LocalStreamDetail;
  'rtc-call-remote-stream': RemoteStreamDetail;
  'rtc-call-peer-joined': PeerDetail;
  'rtc-call-peer-left': PeerDetail;
  'rtc-call-error': ErrorDetail;
}

export type RtcCallEventName = keyof RtcCallEventDetails;

/** Dispatches a bubbling, composed event, so a listener on `document` hears it through shadow roots. */
export function emit<K extends RtcCallEventName>(target: EventTarget, name: K, detail: RtcCallEventDetails[K]): void {
  target.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    'rtc-call-state-change': CustomEvent<StateChangeDetail>;
    'rtc-call-local-stream': CustomEvent<LocalStreamDetail>;
    'rtc-call-remote-stream': CustomEvent<RemoteStreamDetail>;
    'rtc-call-peer-joined': CustomEvent<PeerDetail>;
    'rtc-call-peer-left': CustomEvent<PeerDetail>;
    'rtc-call-error': CustomEvent<ErrorDetail>;
  }
}

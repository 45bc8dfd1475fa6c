import type { CallState } from './call-state.js';
import type { FileProgress } from './data-channel.js';
import type { RtcCallErrorCode } from './errors.js';
import type { CallStats } from './stats.js';

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

export interface MessageDetail {
  /** A string, or the JSON value the peer sent. */
  data: unknown;
  peerId: string;
}
export type FileProgressDetail = FileProgress;
export interface FileDetail {
  file: File;
  peerId: string;
}
export interface PeerMediaDetail {
  peerId: string;
  audio: boolean;
  video: boolean;
}
export type StatsDetail = CallStats;

/** Every event rtc-call dispatches, by name, with its `detail`. */
export interface RtcCallEventDetails {
  'rtc-call-state-change': StateChangeDetail;
  'rtc-call-local-stream': LocalStreamDetail;
  'rtc-call-remote-stream': RemoteStreamDetail;
  'rtc-call-peer-joined': PeerDetail;
  'rtc-call-peer-left': PeerDetail;
  'rtc-call-knock': PeerDetail;
  'rtc-call-error': ErrorDetail;
  'rtc-call-message': MessageDetail;
  'rtc-call-file-progress': FileProgressDetail;
  'rtc-call-file': FileDetail;
  'rtc-call-peer-media': PeerMediaDetail;
  'rtc-call-stats': StatsDetail;
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
    'rtc-call-knock': CustomEvent<PeerDetail>;
    'rtc-call-error': CustomEvent<ErrorDetail>;
    'rtc-call-message': CustomEvent<MessageDetail>;
    'rtc-call-file-progress': CustomEvent<FileProgressDetail>;
    'rtc-call-file': CustomEvent<FileDetail>;
    'rtc-call-peer-media': CustomEvent<PeerMediaDetail>;
    'rtc-call-stats': CustomEvent<StatsDetail>;
  }
}

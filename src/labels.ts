import type { RtcCallErrorCode } from './errors.js';

/**
 * Every string `<rtc-call>` shows, so a page can put it in its own language: set the `labels`
 * property (or the `labels` attribute, as JSON) to the ones to replace; the rest stay English.
 * `{room}`, `{name}`, `{quality}` and `{rtt}` are filled in where they appear.
 */
export interface RtcCallLabels {
  start: string;
  call: string;
  hangup: string;
  mute: string;
  unmute: string;
  cameraOff: string;
  cameraOn: string;
  shareScreen: string;
  stopSharing: string;
  /** The camera picker's name. */
  camera: string;
  /** The microphone picker's name. */
  microphone: string;
  controls: string;
  remoteVideo: string;
  localVideo: string;
  chat: string;
  /** The chat field's name. */
  message: string;
  send: string;
  you: string;
  them: string;
  /** Over the peer's video when they muted. */
  peerMuted: string;
  /** Over the peer's video when they turned their camera off. */
  peerCameraOff: string;
  good: string;
  fair: string;
  poor: string;
  /** The quality indicator: `{quality}` is one of good / fair / poor above. */
  quality: string;
  /** Added to the quality indicator when the call goes through a TURN relay. */
  relayed: string;
  /** Status lines, one per state (`…Loopback` in a self-test). */
  idle: string;
  idleLoopback: string;
  starting: string;
  ready: string;
  readyLoopback: string;
  waiting: string;
  connecting: string;
  connected: string;
  reconnecting: string;
  ended: string;
  failed: string;
  peerJoined: string;
  peerLeft: string;
  /** The name of a peer who gave none. */
  someone: string;
  signalingLost: string;
  /** We wait in someone's lobby. */
  knocking: string;
  /** The lobby's name: who waits to be let in. */
  lobby: string;
  /** Someone waits in our lobby. */
  knock: string;
  admit: string;
  decline: string;
  /** Shown instead of an error's own (English) message, by code; the event keeps the original. */
  errors: Partial<Record<RtcCallErrorCode, string>>;
}

export const DEFAULT_LABELS: RtcCallLabels = {
  start: 'Start',
  call: 'Call',
  hangup: 'Hang up',
  mute: 'Mute',
  unmute: 'Unmute',
  cameraOff: 'Camera off',
  cameraOn: 'Camera on',
  shareScreen: 'Share screen',
  stopSharing: 'Stop sharing',
  camera: 'Camera',
  microphone: 'Microphone',
  controls: 'Call controls',
  remoteVideo: 'Remote video',
  localVideo: 'Your camera',
  chat: 'Chat',
  message: 'Message',
  send: 'Send',
  you: 'You',
  them: 'Them',
  peerMuted: 'Muted',
  peerCameraOff: 'Camera off',
  good: 'Good',
  fair: 'Fair',
  poor: 'Poor',
  quality: '{quality} connection · {rtt} ms',
  relayed: 'relayed',
  idle: 'Press Start to turn on your camera, or Call to join.',
  idleLoopback: 'Press Call to test your camera and connection.',
  starting: 'Requesting camera…',
  ready: 'Camera on. Press Call to join the room.',
  readyLoopback: 'Camera on. Press Call to start the self-test.',
  waiting: 'Waiting for someone to join “{room}”…',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Connection lost — reconnecting…',
  ended: 'Call ended.',
  failed: 'Something went wrong.',
  peerJoined: '{name} joined — connecting…',
  peerLeft: '{name} left. Waiting for someone to join “{room}”…',
  someone: 'Someone',
  signalingLost: 'Signaling connection lost — reconnecting…',
  knocking: 'Waiting for someone in “{room}” to let you in…',
  lobby: 'Waiting to join',
  knock: '{name} wants to join',
  admit: 'Admit',
  decline: 'Decline',
  errors: {},
};

export type LabelKey = Exclude<keyof RtcCallLabels, 'errors'>;

/** The page's label for `key` (or the English one), with its `{placeholders}` filled in. */
export function formatLabel(
  labels: Partial<RtcCallLabels> | undefined,
  key: LabelKey,
  params: Record<string, string | number> = {},
): string {
  const text = typeof labels?.[key] === 'string' ? labels[key] : DEFAULT_LABELS[key];
  return text.replace(/\{(\w+)\}/g, (match, name: string) => (name in params ? String(params[name]) : match));
}

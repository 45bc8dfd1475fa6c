/**
 * The call state machine: a pure transition table, no I/O.
 *
 * idle → starting → ready → waiting → connecting → connected ⇄ reconnecting → ended,
 * and any state → failed. Loopback goes ready → connecting without waiting.
 */
export type CallState =
  'idle' | 'starting' | 'ready' | 'waiting' | 'connecting' | 'connected' | 'reconnecting' | 'ended' | 'failed';

export const CALL_STATES: readonly CallState[] = [
  'idle',
  'starting',
  'ready',
  'waiting',
  'connecting',
  'connected',
  'reconnecting',
  'ended',
  'failed',
];

/** For each state, the states it may move to. `failed` is reachable from everywhere. */
export const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  idle: ['starting', 'failed'],
  // Hang-up while the camera prompt is open ends the call.
  starting: ['ready', 'ended', 'failed'],
  // Signaled calls go to `waiting` (alone) or `connecting` (a peer is already there).
  ready: ['waiting', 'connecting', 'ended', 'failed'],
  waiting: ['connecting', 'ended', 'failed'],
  // A peer who leaves sends us back to `waiting`: we stay in the room.
  connecting: ['connected', 'waiting', 'ended', 'failed'],
  connected: ['reconnecting', 'waiting', 'ended', 'failed'],
  reconnecting: ['connected', 'waiting', 'ended', 'failed'],
  // Start or Call again after hang-up or failure.
  ended: ['starting', 'failed'],
  failed: ['starting', 'ended'],
};

export function canTransition(from: CallState, to: CallState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States in which the camera may be running and a call may be under way. */
export function isActive(state: CallState): boolean {
  return state !== 'idle' && state !== 'ended' && state !== 'failed';
}

/** States that have a peer connection (or are setting one up). */
export function isInCall(state: CallState): boolean {
  return state === 'connecting' || state === 'connected' || state === 'reconnecting';
}

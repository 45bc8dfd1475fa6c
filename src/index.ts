export { RtcCall } from './define.js';
export { RtcCallError, type RtcCallErrorCode } from './errors.js';
export { CALL_STATES, TRANSITIONS, canTransition, type CallState } from './call-state.js';
export type * from './events.js';

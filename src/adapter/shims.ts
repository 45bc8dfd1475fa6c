import {
  shimAddIceCandidateNullOrEmpty,
  shimParameterlessSetLocalDescription,
  shimSendThrowTypeError,
} from 'webrtc-adapter/src/js/common_shim.js';
import { shimGetStats } from 'webrtc-adapter/src/js/firefox/firefox_shim.js';
import { shimGetUserMedia } from 'webrtc-adapter/src/js/safari/safari_shim.js';
import type { Shim } from '../adapter.js';

export { detectBrowser } from 'webrtc-adapter/src/js/utils.js';

/**
 * webrtc-adapter 9.0's `adapterFactory`, branch by branch and in its order, keeping the shims that
 * can change something the element uses in a browser it supports (Chrome and Edge 111+, Firefox
 * 115+, Safari 16.4+). The factory's other shims return at once there, or add legacy APIs
 * (`addStream`, `getLocalStreams`, callbacks) the element never calls: docs/browsers.md names each,
 * and test/node/adapter.test.js fails if the factory changes.
 */
export const SHIMS: Record<string, Shim[]> = {
  chrome: [shimAddIceCandidateNullOrEmpty, shimParameterlessSetLocalDescription, shimSendThrowTypeError],
  firefox: [shimAddIceCandidateNullOrEmpty, shimParameterlessSetLocalDescription, shimGetStats],
  safari: [
    shimAddIceCandidateNullOrEmpty,
    shimParameterlessSetLocalDescription,
    shimGetUserMedia,
    shimSendThrowTypeError,
  ],
};

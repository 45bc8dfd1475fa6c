import * as common from 'webrtc-adapter/src/js/common_shim.js';
import * as safari from 'webrtc-adapter/src/js/safari/safari_shim.js';
import type { Shim } from '../adapter.js';

/** The Safari branch of webrtc-adapter's `adapterFactory`, in its order. */
export const shims: Shim[] = [
  // These two before shimCallbacksAPI.
  common.shimAddIceCandidateNullOrEmpty,
  common.shimParameterlessSetLocalDescription,
  safari.shimRTCIceServerUrls,
  safari.shimCreateOfferLegacy,
  safari.shimCallbacksAPI,
  safari.shimLocalStreamsAPI,
  safari.shimRemoteStreamsAPI,
  safari.shimTrackEventTransceiver,
  safari.shimGetUserMedia,
  safari.shimAudioContext,
  common.shimRTCIceCandidate,
  common.shimRTCIceCandidateRelayProtocol,
  common.shimMaxMessageSize,
  common.shimSendThrowTypeError,
  common.removeExtmapAllowMixed,
];

import * as common from 'webrtc-adapter/src/js/common_shim.js';
import * as chrome from 'webrtc-adapter/src/js/chrome/chrome_shim.js';
import type { Shim } from '../adapter.js';

/** The Chrome branch of webrtc-adapter's `adapterFactory`, in its order. */
export const shims: Shim[] = [
  // These two before shimPeerConnection.
  common.shimAddIceCandidateNullOrEmpty,
  common.shimParameterlessSetLocalDescription,
  chrome.shimGetUserMedia,
  chrome.shimMediaStream,
  chrome.shimPeerConnection,
  chrome.shimOnTrack,
  chrome.shimAddTrackRemoveTrack,
  chrome.shimGetSendersWithDtmf,
  chrome.shimSenderReceiverGetStats,
  chrome.fixNegotiationNeeded,
  common.shimRTCIceCandidate,
  common.shimRTCIceCandidateRelayProtocol,
  common.shimConnectionState,
  common.shimMaxMessageSize,
  common.shimSendThrowTypeError,
  common.removeExtmapAllowMixed,
];

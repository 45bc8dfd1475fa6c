import * as common from 'webrtc-adapter/src/js/common_shim.js';
import * as firefox from 'webrtc-adapter/src/js/firefox/firefox_shim.js';
import type { Shim } from '../adapter.js';

/** The Firefox branch of webrtc-adapter's `adapterFactory`, in its order. */
export const shims: Shim[] = [
  // These two before shimPeerConnection.
  common.shimAddIceCandidateNullOrEmpty,
  common.shimParameterlessSetLocalDescription,
  firefox.shimGetUserMedia,
  firefox.shimPeerConnection,
  firefox.shimGetStats,
  firefox.shimOnTrack,
  firefox.shimRemoveStream,
  firefox.shimSenderGetStats,
  firefox.shimReceiverGetStats,
  firefox.shimRTCDataChannel,
  firefox.shimAddTransceiver,
  firefox.shimGetParameters,
  firefox.shimCreateOffer,
  firefox.shimCreateAnswer,
  common.shimRTCIceCandidate,
  common.shimConnectionState,
  common.shimMaxMessageSize,
  common.shimSendThrowTypeError,
];

// Types for the webrtc-adapter modules that src/adapter.ts loads one by one (the package types
// only its default export).

type AdapterBrowserDetails = import('./adapter.js').BrowserDetails;
type AdapterShim = import('./adapter.js').Shim;

declare module 'webrtc-adapter/src/js/utils.js' {
  export function detectBrowser(window: Window): AdapterBrowserDetails;
}

declare module 'webrtc-adapter/src/js/common_shim.js' {
  export const shimAddIceCandidateNullOrEmpty: AdapterShim;
  export const shimParameterlessSetLocalDescription: AdapterShim;
  export const shimRTCIceCandidate: AdapterShim;
  export const shimRTCIceCandidateRelayProtocol: AdapterShim;
  export const shimConnectionState: AdapterShim;
  export const shimMaxMessageSize: AdapterShim;
  export const shimSendThrowTypeError: AdapterShim;
  export const removeExtmapAllowMixed: AdapterShim;
}

declare module 'webrtc-adapter/src/js/firefox/firefox_shim.js' {
  export const shimGetUserMedia: AdapterShim;
  export const shimPeerConnection: AdapterShim;
  export const shimGetStats: AdapterShim;
  export const shimOnTrack: AdapterShim;
  export const shimRemoveStream: AdapterShim;
  export const shimSenderGetStats: AdapterShim;
  export const shimReceiverGetStats: AdapterShim;
  export const shimRTCDataChannel: AdapterShim;
  export const shimAddTransceiver: AdapterShim;
  export const shimGetParameters: AdapterShim;
  export const shimCreateOffer: AdapterShim;
  export const shimCreateAnswer: AdapterShim;
}

declare module 'webrtc-adapter/src/js/safari/safari_shim.js' {
  export const shimRTCIceServerUrls: AdapterShim;
  export const shimCreateOfferLegacy: AdapterShim;
  export const shimCallbacksAPI: AdapterShim;
  export const shimLocalStreamsAPI: AdapterShim;
  export const shimRemoteStreamsAPI: AdapterShim;
  export const shimTrackEventTransceiver: AdapterShim;
  export const shimGetUserMedia: AdapterShim;
  export const shimAudioContext: AdapterShim;
}

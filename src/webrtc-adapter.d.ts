// Types for the webrtc-adapter modules that src/adapter/shims.ts imports shim by shim (the
// package types only its default export).

type AdapterBrowserDetails = import('./adapter.js').BrowserDetails;
type AdapterShim = import('./adapter.js').Shim;

declare module 'webrtc-adapter/src/js/utils.js' {
  export function detectBrowser(window: Window): AdapterBrowserDetails;
}

declare module 'webrtc-adapter/src/js/common_shim.js' {
  export const shimAddIceCandidateNullOrEmpty: AdapterShim;
  export const shimParameterlessSetLocalDescription: AdapterShim;
  export const shimSendThrowTypeError: AdapterShim;
}

declare module 'webrtc-adapter/src/js/firefox/firefox_shim.js' {
  export const shimGetStats: AdapterShim;
}

declare module 'webrtc-adapter/src/js/safari/safari_shim.js' {
  export const shimGetUserMedia: AdapterShim;
}

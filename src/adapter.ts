import { detectBrowser } from 'webrtc-adapter/src/js/utils.js';

/** What webrtc-adapter's `detectBrowser` tells its shims. */
export interface BrowserDetails {
  browser: string | null;
  version: number | null;
  supportsUnifiedPlan?: boolean;
}

/** One of webrtc-adapter's shims: patches `window` for the browser described. */
export type Shim = (window: Window, details: BrowserDetails) => void;

/**
 * webrtc-adapter applied the way its own `adapter_factory.js` does it, shim for shim and in the
 * same order, except that only this browser's shims are loaded: the factory imports Chrome's,
 * Firefox's and Safari's together, while a page needs one of them. Each is a chunk beside the
 * bundle (`src/adapter/`).
 *
 * Resolves once the shims are in place; nothing may touch getUserMedia or RTCPeerConnection before.
 */
export const adapterReady: Promise<void> = (async () => {
  const details = detectBrowser(window);
  const { shims } =
    details.browser === 'chrome' && details.version !== null // the factory leaves an unknown Chrome alone
      ? await import('./adapter/chrome.js')
      : details.browser === 'firefox'
        ? await import('./adapter/firefox.js')
        : details.browser === 'safari'
          ? await import('./adapter/safari.js')
          : { shims: [] };
  for (const shim of shims) shim(window, details);
})();

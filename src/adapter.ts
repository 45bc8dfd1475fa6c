/** What webrtc-adapter's `detectBrowser` tells its shims. */
export interface BrowserDetails {
  browser: string | null;
  version: number | null;
  supportsUnifiedPlan?: boolean;
}

/** One of webrtc-adapter's shims: patches `window` for the browser described. */
export type Shim = (window: Window, details: BrowserDetails) => void;

let ready: Promise<void> | undefined;

/**
 * webrtc-adapter's shims for this browser (`src/adapter/shims.ts`), applied once, on first use and
 * never at import, so that importing rtc-call where there is no `window` (SSR) does nothing.
 * Anything that touches getUserMedia or RTCPeerConnection awaits this first.
 */
export function adapterReady(): Promise<void> {
  return (ready ??= import('./adapter/shims.js').then(({ detectBrowser, SHIMS }) => {
    const details = detectBrowser(window);
    // The factory leaves a Chrome of unknown version alone.
    if (details.browser === 'chrome' && details.version === null) return;
    for (const shim of SHIMS[details.browser ?? ''] ?? []) shim(window, details);
  }));
}

/** Stable error codes: pages switch on these, so they never change meaning. */
export type RtcCallErrorCode =
  | 'insecure-context'
  | 'media-denied'
  | 'media-not-found'
  | 'media-in-use'
  | 'signaling-unreachable'
  | 'room-full'
  | 'unauthorized'
  | 'ice-failed'
  | 'bad-config'
  | 'protocol'
  | 'not-connected'
  | 'load-failed'
  /** We knocked in the room's lobby and were not let in (turned away, or nobody answered). */
  | 'declined'
  /** The peer refused a file we sent (too big for it, or it was receiving another). */
  | 'file-refused'
  /** This browser cannot make WebRTC calls (no `RTCPeerConnection`); Start and the preview still work. */
  | 'unsupported';

/** The one error type of rtc-call: a readable `message`, a stable `code`, the original `cause`. */
export class RtcCallError extends Error {
  override readonly name = 'RtcCallError';
  readonly code: RtcCallErrorCode;

  constructor(code: RtcCallErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The permissions policy features an iframe's `allow` attribute grants. */
type Feature = 'camera' | 'microphone' | 'display-capture';

/**
 * Whether this document may not use `wanted` because the page that frames it left them out of
 * its iframe's `allow` attribute: `true` where the browser says so (Chromium's
 * `document.featurePolicy`), `undefined` inside a frame of a browser that does not say, where a
 * refusal by the frame looks like a person's.
 */
function blockedByFrame(wanted: Feature[]): boolean | undefined {
  if (window.self === window.top) return false;
  const policy = (document as { featurePolicy?: { allowsFeature(feature: string): boolean } }).featurePolicy;
  return policy ? wanted.some((feature) => !policy.allowsFeature(feature)) : undefined;
}

/** Maps a `getUserMedia` (or, with `display-capture`, `getDisplayMedia`) rejection to an error a person can act on. */
export function mediaError(error: unknown, wanted: Feature[] = ['camera', 'microphone']): RtcCallError {
  const name = error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError': {
      const screen = wanted.includes('display-capture');
      const allow = screen
        ? 'the page that embeds it must add allow="display-capture" to its <iframe>'
        : 'the page that embeds it must add allow="camera; microphone" to its <iframe> (and display-capture for screen sharing)';
      const blocked = blockedByFrame(wanted);
      const denied = screen
        ? 'Screen sharing was not allowed — press Share screen again and pick a screen or window.'
        : 'Camera permission was denied — allow it in the address bar and press Start again.';
      const message =
        blocked === true
          ? `This page is inside an iframe that may not use the ${screen ? 'screen' : 'camera or microphone'}: ${allow}.`
          : blocked === undefined
            ? `${denied} If this page is inside an iframe, ${allow}.`
            : denied;
      return new RtcCallError('media-denied', message, { cause: error });
    }
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new RtcCallError(
        'media-not-found',
        'No camera or microphone matches the request — connect one (or change the constraints) and press Start again.',
        { cause: error },
      );
    case 'NotReadableError':
    case 'AbortError':
      return new RtcCallError(
        'media-in-use',
        'The camera or microphone is in use by another program — close it and press Start again.',
        { cause: error },
      );
    case 'TypeError':
      return new RtcCallError('bad-config', `The constraints attribute asks for no media: ${String(error)}`, {
        cause: error,
      });
    default:
      return new RtcCallError('media-not-found', `The camera could not be started: ${String(error)}`, {
        cause: error,
      });
  }
}

export function toRtcCallError(error: unknown, fallback: RtcCallErrorCode = 'protocol'): RtcCallError {
  if (error instanceof RtcCallError) return error;
  return new RtcCallError(fallback, error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * The parts of rtc-call that the npm entry points load on demand (a bundler splits them off; the
 * single-file `rtc-call.js` has them inside), with a failure a person can act on.
 */
export async function loadPart<T>(load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new RtcCallError(
      'load-failed',
      `Could not load ${what}, a part of rtc-call that this page's build splits off — check that the build's other files are served beside it. (${String(error)})`,
      { cause: error },
    );
  }
}

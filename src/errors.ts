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
  | 'file-refused';

/** The one error type of rtc-call: a readable `message`, a stable `code`, the original `cause`. */
export class RtcCallError extends Error {
  override readonly name = 'RtcCallError';
  readonly code: RtcCallErrorCode;

  constructor(code: RtcCallErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Maps a `getUserMedia` rejection to an error a person can act on. */
export function mediaError(error: unknown): RtcCallError {
  const name = error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new RtcCallError(
        'media-denied',
        'Camera permission was denied — allow it in the address bar and press Start again.',
        { cause: error },
      );
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
 * The parts of rtc-call fetched on demand (`chunks/` beside `rtc-call.js`), with a failure a
 * person can act on: a site that copied only `rtc-call.js` gets told so.
 */
export async function loadPart<T>(load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new RtcCallError(
      'load-failed',
      `Could not load ${what} — serve the chunks/ folder next to rtc-call.js. (${String(error)})`,
      { cause: error },
    );
  }
}

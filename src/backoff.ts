/**
 * Reconnect delays: capped exponential backoff with "full jitter" (a random delay between 0
 * and the capped exponential), so that clients cut off together do not return together.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface BackoffOptions {
  /** Delay bound of the first retry, in ms. */
  baseMs: number;
  /** No delay exceeds this, in ms. */
  capMs: number;
  /** Stop retrying once this long has passed since the connection was lost, in ms. */
  giveUpMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, capMs: 6000, giveUpMs: 60000 };

/** The bound of the `attempt`-th delay (0-based): base·2^attempt, at most the cap. */
export function backoffBound(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
}

/** The `attempt`-th delay: uniformly random in [0, bound). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  return Math.floor(random() * backoffBound(attempt, options));
}

/** A rate as a token bucket: `burst` at once, then `perSecond` on average. */
export interface RateLimit {
  /** How many may come at once (the bucket's size). */
  burst: number;
  /** How fast the bucket refills, per second. */
  perSecond: number;
}

/** `limit`, if it is one: a bad option fails at start, not at the first connection. */
export function checkRateLimit(limit: RateLimit, what: string): RateLimit {
  if (!(limit.burst >= 1) || !(limit.perSecond > 0)) {
    throw new RangeError(`${what} needs burst ≥ 1 and perSecond > 0, not ${JSON.stringify(limit)}`);
  }
  return limit;
}

/** The default clock, one for every bucket (not a function bound for each). */
const monotonicNow = (): number => performance.now();

/**
 * A token bucket rather than a fixed window, so a burst (a peer
 * trickling its ICE candidates) passes while a steady flood does not.
 */
export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(limit: RateLimit, now: () => number = monotonicNow) {
    this.#limit = checkRateLimit(limit, 'a rate limit');
    this.#now = now;
    this.#tokens = limit.burst;
    this.#last = now();
  }

  /** How long until a token is there, in ms (0 if one is). */
  waitMs(): number {
    const tokens = this.#tokens + ((this.#now() - this.#last) / 1000) * this.#limit.perSecond;
    return tokens >= 1 ? 0 : ((1 - tokens) / this.#limit.perSecond) * 1000;
  }

  /** Takes one token; `false` when the bucket is empty (the caller is over its rate). */
  take(): boolean {
    const now = this.#now();
    const refill = ((now - this.#last) / 1000) * this.#limit.perSecond;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + refill);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

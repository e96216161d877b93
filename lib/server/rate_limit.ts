/**
 * A token bucket: `rate` tokens a second, at most `burst` saved up.
 *
 * @module
 */

/** The default clock, one function for every bucket (not a closure per bucket). */
const monotonicNow = (): number => performance.now();

/**
 * Admits events at `rate` per second on average and `burst` at once.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./rate_limit.ts";
 * const bucket = new TokenBucket(50, 100);
 * if (!bucket.take()) console.log("slow down");
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #updated: number;

  /**
   * @param rate Tokens added per second.
   * @param burst Most tokens held at once; the bucket starts full.
   * @param now The clock, in milliseconds. @default performance.now
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.#tokens = burst;
    this.#updated = now();
  }

  /** Takes one token; false when none is left (the event must be refused). */
  take(): boolean {
    const now = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updated) / 1000) * this.rate);
    this.#updated = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Exponential backoff with full jitter (a random delay between 0 and the exponential bound): after a
 * server restart every client would otherwise come back in the same instant.
 */

export interface BackoffOptions {
  /** The bound of the first retry, in ms. Default 500. */
  initialMs?: number;
  /** The largest bound, in ms. Default 30 000. */
  maxMs?: number;
  /** A connection that stays up this long (ms) resets the backoff. Default 10 000. */
  stableMs?: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  // 2 ** attempt overflows to Infinity long after the cap is reached; Math.min copes with that.
  const bound = Math.min(max, initial * 2 ** attempt);
  return Math.floor(random() * bound);
}

/**
 * Exponential backoff for the agent's retries: the server connection (with full jitter, so a fleet of
 * cameras that lost the server together does not come back in lockstep) and the stream's restarts.
 *
 * Full jitter is AWS's "sleep = random(0, min(cap, base · 2^attempt))": the spread that best avoids
 * herds, at the price of sometimes retrying almost at once, which is harmless for one socket.
 */

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Pick uniformly in [0, delay] instead of using the delay itself. */
  jitter: boolean;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions) {}

  /** The delay before the next retry; every call counts as one more failure. */
  next(): number {
    // 2^attempt stops growing once it passes the cap, so the exponent is clamped to avoid Infinity.
    const ceiling = Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    if (!this.opts.jitter) return ceiling;
    return Math.floor((this.opts.random ?? Math.random)() * ceiling);
  }

  /** After a success that lasted: the next failure starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

import type { LimiterApi, LoginLimits, LoginOutcome } from '../contract.ts';
import { Room } from '../room.ts';

/**
 * The login throttle for one key (`user:<name>` or `client:<address>`). An attempt is reserved before
 * the password is hashed, so parallel guesses cannot all pass the check first: one still being checked
 * counts as a failure until it is known not to be one. Besides failures in a sliding window, it bounds
 * the hashes running at once and the attempts of any outcome per minute (a correct password costs the
 * same hash as a wrong one). Failures and attempts are stored, so an attacker cannot reset them by
 * waiting for the room to be evicted; an alarm deletes them once their windows have passed.
 */

const MINUTE_MS = 60_000;

export class LimiterRoom extends Room implements LimiterApi {
  /** Memory only: a restart ends the hashes too. */
  private checking = 0;

  private recent(key: 'failures' | 'attempts', windowMs: number): number[] {
    const since = this.ctx.services.clock.now() - windowMs;
    return (this.ctx.storage.get<number[]>(key) ?? []).filter((at) => at > since);
  }

  begin(limits: LoginLimits): number {
    const now = this.ctx.services.clock.now();
    const failures = this.recent('failures', limits.windowMs);
    if (failures.length >= limits.maxFailures) {
      // Allowed again when enough of the oldest failures have left the window.
      return this.seconds((failures[failures.length - limits.maxFailures] as number) + limits.windowMs - now);
    }
    // Attempts still being checked may all turn out wrong: they take their places in the count now.
    if (failures.length + this.checking >= limits.maxFailures || this.checking >= limits.maxConcurrent) return 1;
    const attempts = this.recent('attempts', MINUTE_MS);
    if (attempts.length >= limits.maxPerMinute) {
      return this.seconds((attempts[attempts.length - limits.maxPerMinute] as number) + MINUTE_MS - now);
    }
    attempts.push(now);
    // Bounded: the count never needs more than the largest limit.
    this.ctx.storage.put('attempts', attempts.slice(-1000));
    this.checking++;
    this.keepUntil(now + MINUTE_MS, limits.windowMs);
    return 0;
  }

  end(outcome: LoginOutcome, windowMs: number): void {
    this.checking = Math.max(0, this.checking - 1);
    const now = this.ctx.services.clock.now();
    if (outcome === 'cancelled') {
      const attempts = this.recent('attempts', MINUTE_MS);
      attempts.pop();
      this.ctx.storage.put('attempts', attempts);
    }
    if (outcome !== 'failure') return;
    const failures = this.recent('failures', windowMs);
    failures.push(now);
    this.ctx.storage.put('failures', failures.slice(-100));
    this.keepUntil(now + windowMs, windowMs);
  }

  override onAlarm(): void {
    const windowMs = this.ctx.storage.get<number>('window') ?? 0;
    const failures = this.recent('failures', windowMs);
    const attempts = this.recent('attempts', MINUTE_MS);
    if (failures.length === 0 && attempts.length === 0) return this.ctx.storage.deleteAll();
    const next = Math.min(
      failures.length ? (failures[0] as number) + windowMs : Number.POSITIVE_INFINITY,
      attempts.length ? (attempts[0] as number) + MINUTE_MS : Number.POSITIVE_INFINITY,
    );
    this.ctx.setAlarm(next);
  }

  /** The alarm that clears this room comes no earlier than `at`. */
  private keepUntil(at: number, windowMs: number): void {
    this.ctx.storage.put('window', windowMs);
    this.ctx.setAlarm(at);
  }

  private seconds(ms: number): number {
    return Math.max(1, Math.ceil(ms / 1000));
  }
}

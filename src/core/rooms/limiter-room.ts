import { Room } from '../room.ts';

/**
 * Counts failed logins for one key (`user:<name>` or `client:<address>`) in a sliding window.
 * Failures are stored, so an attacker cannot reset the count by waiting for the room to be evicted;
 * an alarm deletes them once the window has passed.
 */
export interface LimiterApi {
  /** Seconds until another attempt is allowed; 0 when it is allowed now. */
  retryAfter(limit: number, windowMs: number): number;
  fail(windowMs: number): void;
}

export class LimiterRoom extends Room implements LimiterApi {
  private failures(windowMs: number): number[] {
    const since = this.ctx.services.clock.now() - windowMs;
    return (this.ctx.storage.get<number[]>('failures') ?? []).filter((at) => at > since);
  }

  retryAfter(limit: number, windowMs: number): number {
    const failures = this.failures(windowMs);
    if (failures.length < limit) return 0;
    // Allowed again when enough of the oldest failures have left the window.
    const freedAt = (failures[failures.length - limit] as number) + windowMs;
    return Math.max(1, Math.ceil((freedAt - this.ctx.services.clock.now()) / 1000));
  }

  fail(windowMs: number): void {
    const failures = this.failures(windowMs);
    failures.push(this.ctx.services.clock.now());
    // Keep the list bounded: the count never needs more than the largest limit.
    this.ctx.storage.put('failures', failures.slice(-100));
    this.ctx.setAlarm((failures[0] as number) + windowMs);
    this.ctx.storage.put('window', windowMs);
  }

  override onAlarm(): void {
    const windowMs = this.ctx.storage.get<number>('window') ?? 0;
    const failures = this.failures(windowMs);
    if (failures.length === 0) this.ctx.storage.deleteAll();
    else this.ctx.setAlarm((failures[0] as number) + windowMs);
  }
}

import type { RoomContext } from '../../ports.ts';

/**
 * When the device was last heard from, stored: a device counts as online on /ws/device while it was
 * heard from within HEARTBEAT_TIMEOUT_S (a lease it renews with its frames), since a socket can die
 * without a close (a crash, a VPN that drops, a workerd restart). Listings show it as `last_seen`.
 */
export class PresenceLease {
  private at: number | undefined;

  constructor(private readonly ctx: RoomContext) {
    this.at = ctx.storage.get<number>('last_seen');
  }

  renew(): void {
    this.at = this.ctx.services.clock.now();
    this.ctx.storage.put('last_seen', this.at);
  }

  held(now = this.ctx.services.clock.now()): boolean {
    return this.at !== undefined && now - this.at < this.ctx.services.config.heartbeatTimeoutMs;
  }

  /** Milliseconds since the device was last heard from (Infinity if never). */
  silentFor(): number {
    return this.at === undefined ? Number.POSITIVE_INFINITY : this.ctx.services.clock.now() - this.at;
  }

  lastSeen(): string | null {
    return this.at === undefined ? null : new Date(this.at).toISOString();
  }

  forget(): void {
    this.at = undefined;
  }
}

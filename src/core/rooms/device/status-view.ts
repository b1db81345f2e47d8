import type { DeviceInfo } from '../../contract.ts';
import { frame } from '../../envelope/frame.ts';
import type { RoomContext } from '../../ports.ts';
import type { PresenceLease } from './presence-lease.ts';
import type { RegistrationRecord } from './registration.ts';

/**
 * What a listing and a `device_status` say about a device: online or not, its last presence report
 * (stored: it outlives the socket that sent it) and when it was last heard from.
 */
export class StatusView {
  constructor(
    private readonly ctx: RoomContext,
    private readonly registration: RegistrationRecord,
    private readonly online: () => boolean,
    private readonly lease: PresenceLease,
  ) {}

  savePresence(presence: Record<string, unknown>): void {
    this.ctx.storage.put('presence', presence);
  }

  describe(): DeviceInfo | null {
    const registration = this.registration.current;
    if (!registration) return null;
    return {
      device_id: registration.device_id,
      name: registration.name,
      online: this.online(),
      presence: this.ctx.storage.get<Record<string, unknown>>('presence') ?? null,
      last_seen: this.lease.lastSeen(),
    };
  }

  frame(deviceId: string): string {
    const info = this.describe();
    return frame(this.ctx.services.clock, 'device_status', {
      device_id: deviceId,
      online: info?.online ?? false,
      presence: info?.presence ?? null,
    });
  }
}

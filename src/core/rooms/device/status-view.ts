import type { DeviceInfo } from '../../contract.ts';
import { frame } from '../../envelope/frame.ts';
import type { RoomContext } from '../../ports.ts';
import { shardOf } from '../registry-room.ts';
import type { PresenceLease } from './presence-lease.ts';
import type { RegistrationRecord } from './registration.ts';

/** Where a device is online: its /ws/device link (within its lease), its /ws/camera/ socket, or nowhere. */
export type OnlineVia = 'link' | 'camera' | null;

/**
 * What a listing and a `device_status` say about a device: online or not, its last presence report
 * (stored: it outlives the socket that sent it) and when it was last heard from. Listings read it from
 * the device's registry shard, which `relist` keeps current.
 */
export class StatusView {
  constructor(
    private readonly ctx: RoomContext,
    private readonly registration: RegistrationRecord,
    private readonly onlineVia: () => OnlineVia,
    private readonly lease: PresenceLease,
    private readonly logFailure: (error: unknown) => void,
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
      online: this.onlineVia() !== null,
      presence: this.ctx.storage.get<Record<string, unknown>>('presence') ?? null,
      last_seen: this.lease.lastSeen(),
    };
  }

  /** Tells the registry shard this device's row (after a change of status, and as its lease renews). */
  relist(): void {
    const info = this.describe();
    if (!info) return;
    this.ctx.services.rooms
      .registry(shardOf(info.device_id))
      .update({ ...info, leased: this.onlineVia() === 'link' })
      .catch(this.logFailure);
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

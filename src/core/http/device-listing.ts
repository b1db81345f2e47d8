import * as v from 'valibot';
import type { DeviceInfo, Profile } from '../contract.ts';
import { DeviceId } from '../envelope/schema.ts';
import type { Rooms } from '../ports.ts';
import { byShard, REGISTRY_SHARDS } from '../rooms/registry-room.ts';

/**
 * A page of the device listing, from the registry shards alone: each is asked for its first `limit`
 * rows after the cursor, and the page is the first `limit` of them all, in id order. One call per
 * shard (fewer for a user with an allow-list), however many devices there are.
 */

export interface DevicePage {
  devices: DeviceInfo[];
  next_cursor: string | null;
}

export async function listDevices(
  rooms: Rooms,
  user: Profile,
  page: { limit?: number | undefined; after?: string | undefined; q?: string | undefined },
): Promise<DevicePage> {
  const { after } = page;
  const q = page.q?.trim().toLowerCase() || undefined;
  const shards: [number, string[] | undefined][] = user.devices
    ? [...byShard(user.devices)]
    : Array.from({ length: REGISTRY_SHARDS }, (_, shard) => [shard, undefined]);
  const parts = await Promise.all(
    shards.map(([shard, only]) => rooms.registry(shard).list({ after, limit: page.limit, q, only })),
  );
  const all = parts.flatMap((part) => part.devices).sort((a, b) => (a.device_id < b.device_id ? -1 : 1));
  const devices = page.limit === undefined ? all : all.slice(0, page.limit);
  const more = all.length > devices.length || parts.some((part) => part.more);
  const last = devices.at(-1);
  return { devices, next_cursor: more && last ? encodeCursor(last.device_id) : null };
}

/** How many devices are registered and online, for the status page and the metrics. */
export async function countDevices(rooms: Rooms): Promise<{ devices: number; online: number }> {
  const counts = await Promise.all(Array.from({ length: REGISTRY_SHARDS }, (_, shard) => rooms.registry(shard).counts()));
  return counts.reduce((sum, c) => ({ devices: sum.devices + c.devices, online: sum.online + c.online }), {
    devices: 0,
    online: 0,
  });
}

/** The cursor is the page's last id, base64url: opaque to clients, so its form may change. */
function encodeCursor(id: string): string {
  return btoa(id).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The id a cursor stands for; undefined when it is not one `encodeCursor` made. */
export function decodeCursor(cursor: string): string | undefined {
  try {
    const id = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    return v.is(DeviceId, id) ? id : undefined;
  } catch {
    return undefined;
  }
}

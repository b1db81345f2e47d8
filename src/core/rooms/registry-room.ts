import type { DeviceEntry, DeviceInfo, ListedDevice, ListingQuery, RegistryApi } from '../contract.ts';
import type { Rooms } from '../ports.ts';
import { Room } from '../room.ts';

/**
 * Which device ids are registered, and what a listing shows of each, split over REGISTRY_SHARDS rooms
 * by a hash of the id. Every path that takes a device id from a client (a hello, a subscribe, a watch,
 * an upgrade, an HTTP route) asks here first, so an id nobody registered is answered without loading a
 * device room for it — on Workers, without creating and billing a Durable Object — and no single
 * object sees every hello. A listing asks the shards, never the device rooms: each device room tells
 * its shard when its row changes (online, offline, presence, and a renewed lease now and then).
 *
 * The directory stays the source of truth for what is registered: a shard that has never listed fills
 * itself from it once, asking each of its device rooms for its row (a store written before listings
 * came from here needs no migration).
 */

export const REGISTRY_SHARDS = 16;

export class RegistryRoom extends Room implements RegistryApi {
  private readonly shard = Number(this.ctx.id.slice('registry:'.length));
  /** The shard's rows by id, read from storage once per load. */
  private rows: Map<string, ListedDevice> | undefined;
  /** The ids in listing order, made again after an add or remove. */
  private order: string[] | undefined;
  /** What `q` is looked for in, per id: the id and the name, lower-case (made once per change, not per search). */
  private readonly searchable = new Map<string, string>();
  private loading: Promise<Map<string, ListedDevice>> | undefined;

  async known(ids: string[]): Promise<string[]> {
    const rows = await this.loaded();
    return ids.filter((id) => rows.has(id));
  }

  async add(entry: DeviceEntry): Promise<void> {
    const rows = await this.loaded();
    this.save(rows, { ...entry, online: false, presence: null, last_seen: null, leased: false });
    this.order = undefined;
  }

  async remove(id: string): Promise<void> {
    const rows = await this.loaded();
    rows.delete(id);
    this.searchable.delete(id);
    this.ctx.storage.delete(`device:${id}`);
    this.order = undefined;
  }

  async update(row: ListedDevice): Promise<void> {
    const rows = await this.loaded();
    if (rows.has(row.device_id)) this.save(rows, row);
  }

  async list({ after, limit, q, only }: ListingQuery): Promise<{ devices: DeviceInfo[]; more: boolean }> {
    const rows = await this.loaded();
    const ids = only ? [...only].sort() : this.ordered(rows);
    const now = this.services.clock.now();
    const devices: DeviceInfo[] = [];
    for (let i = after === undefined ? 0 : firstAfter(ids, after); i < ids.length; i++) {
      const id = ids[i] as string;
      const row = rows.get(id);
      if (!row || (q && !this.searchable.get(id)?.includes(q))) continue;
      if (devices.length === limit) return { devices, more: true };
      devices.push(this.shown(row, now));
    }
    return { devices, more: false };
  }

  async counts(): Promise<{ devices: number; online: number }> {
    const rows = await this.loaded();
    const now = this.services.clock.now();
    let online = 0;
    for (const row of rows.values()) if (this.shown(row, now).online) online++;
    return { devices: rows.size, online };
  }

  async restarted(): Promise<void> {
    const rows = await this.loaded();
    for (const row of rows.values()) if (row.online) this.save(rows, { ...row, online: false, leased: false });
  }

  /** A row as a listing shows it: a /ws/device lease that lapsed without a close (a crash) is offline. */
  private shown({ leased, ...info }: ListedDevice, now: number): DeviceInfo {
    const lapsed =
      leased && (info.last_seen === null || now - Date.parse(info.last_seen) >= this.services.config.heartbeatTimeoutMs);
    return lapsed ? { ...info, online: false } : info;
  }

  private ordered(rows: Map<string, ListedDevice>): string[] {
    this.order ??= [...rows.keys()].sort();
    return this.order;
  }

  private save(rows: Map<string, ListedDevice>, row: ListedDevice): void {
    rows.set(row.device_id, row);
    this.searchable.set(row.device_id, searchText(row));
    this.ctx.storage.put(`device:${row.device_id}`, row);
  }

  private loaded(): Promise<Map<string, ListedDevice>> {
    if (this.rows) return Promise.resolve(this.rows);
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<Map<string, ListedDevice>> {
    if (!this.ctx.storage.get('listed')) await this.fill();
    const rows = new Map<string, ListedDevice>();
    for (const [key, row] of this.ctx.storage.list<ListedDevice>('device:')) {
      rows.set(key.slice('device:'.length), row);
      this.searchable.set(row.device_id, searchText(row));
    }
    this.rows = rows;
    return rows;
  }

  /** The first listing: every device of this shard in the directory, with its row from its room. */
  private async fill(): Promise<void> {
    const { rooms } = this.services;
    const mine = (await rooms.directory().listDevices()).filter((d) => shardOf(d.device_id) === this.shard);
    const infos = await Promise.all(mine.map((d) => rooms.device(d.device_id).info()));
    const rows: Record<string, unknown> = { listed: 1 };
    mine.forEach((entry, i) => {
      const info = infos[i] ?? { ...entry, online: false, presence: null, last_seen: null };
      // Online as it is now; the room tells a renewed lease from here on.
      rows[`device:${entry.device_id}`] = { ...info, leased: false };
    });
    this.ctx.storage.delete('filled');
    this.ctx.storage.putMany(rows);
  }
}

/** The id and the name, lower-case; a newline between them, so no `q` (one line) matches across both. */
function searchText(row: DeviceEntry): string {
  return `${row.device_id}\n${row.name}`.toLowerCase();
}

/** The index of the first id after `after` in sorted `ids`. */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ids[mid] as string) <= after) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** FNV-1a over the id's UTF-16 units: stable across runtimes and restarts, which the shards rely on. */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % REGISTRY_SHARDS;
}

/** Which of `ids` are registered: one call per shard they fall in, made together. */
export async function registeredDevices(rooms: Rooms, ids: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all([...byShard(ids)].map(([shard, list]) => rooms.registry(shard).known(list)));
  return new Set(found.flat());
}

export async function isRegistered(rooms: Rooms, id: string): Promise<boolean> {
  return (await rooms.registry(shardOf(id)).known([id])).length === 1;
}

/** `ids` grouped by their shard. */
export function byShard(ids: readonly string[]): Map<number, string[]> {
  const shards = new Map<number, string[]>();
  for (const id of new Set(ids)) {
    const shard = shardOf(id);
    shards.set(shard, [...(shards.get(shard) ?? []), id]);
  }
  return shards;
}

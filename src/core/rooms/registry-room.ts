import type { RegistryApi } from '../contract.ts';
import type { Rooms } from '../ports.ts';
import { Room } from '../room.ts';

/**
 * Which device ids are registered, split over REGISTRY_SHARDS rooms by a hash of the id. Every path
 * that takes a device id from a client (a hello, a subscribe, a watch, an upgrade, an HTTP route) asks
 * here first, so an id nobody registered is answered without loading a device room for it — on
 * Workers, without creating and billing a Durable Object — and no single object sees every hello.
 *
 * The directory stays the source of truth: a shard that has never been used fills itself from it once
 * (so a store written before shards existed needs no migration), and registration and removal update
 * both.
 */

export const REGISTRY_SHARDS = 16;

export class RegistryRoom extends Room implements RegistryApi {
  private readonly shard = Number(this.ctx.id.slice('registry:'.length));
  private filling: Promise<void> | undefined;

  async known(ids: string[]): Promise<string[]> {
    await this.filled();
    return ids.filter((id) => this.ctx.storage.get(`device:${id}`) !== undefined);
  }

  async add(id: string): Promise<void> {
    await this.filled();
    this.ctx.storage.put(`device:${id}`, 1);
  }

  async remove(id: string): Promise<void> {
    await this.filled();
    this.ctx.storage.delete(`device:${id}`);
  }

  private filled(): Promise<void> {
    if (this.ctx.storage.get('filled')) return Promise.resolve();
    this.filling ??= this.services.rooms
      .directory()
      .listDevices()
      .then((devices) => {
        const mine: Record<string, unknown> = { filled: 1 };
        for (const { device_id } of devices) if (shardOf(device_id) === this.shard) mine[`device:${device_id}`] = 1;
        this.ctx.storage.putMany(mine);
      })
      .finally(() => {
        this.filling = undefined;
      });
    return this.filling;
  }
}

/** FNV-1a over the id's UTF-16 units: stable across runtimes and restarts, which the shards rely on. */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % REGISTRY_SHARDS;
}

/** Which of `ids` are registered: one call per shard they fall in, made together. */
export async function registeredDevices(rooms: Rooms, ids: readonly string[]): Promise<Set<string>> {
  const byShard = new Map<number, string[]>();
  for (const id of new Set(ids)) {
    const shard = shardOf(id);
    byShard.set(shard, [...(byShard.get(shard) ?? []), id]);
  }
  const found = await Promise.all([...byShard].map(([shard, list]) => rooms.registry(shard).known(list)));
  return new Set(found.flat());
}

export async function isRegistered(rooms: Rooms, id: string): Promise<boolean> {
  return (await rooms.registry(shardOf(id)).known([id])).length === 1;
}

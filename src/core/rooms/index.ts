import type { Remote, RoomContext, Rooms } from '../ports.ts';
import type { Room } from '../room.ts';
import { ConnectionRoom } from './connection-room.ts';
import { DeviceRoom } from './device-room.ts';
import { DirectoryRoom } from './directory-room.ts';
import { LimiterRoom } from './limiter-room.ts';
import { UserRoom } from './user-room.ts';

/** Room ids are `kind:name`; the kind picks the class. Hosts create rooms only through this. */
const kinds: Record<string, new (ctx: RoomContext) => Room> = {
  device: DeviceRoom,
  connection: ConnectionRoom,
  user: UserRoom,
  limiter: LimiterRoom,
  directory: DirectoryRoom,
};

export function createRoom(ctx: RoomContext): Room {
  const kind = ctx.id.slice(0, ctx.id.indexOf(':'));
  const RoomClass = kinds[kind];
  if (!RoomClass) throw new Error(`unknown room kind in id "${ctx.id}"`);
  return new RoomClass(ctx);
}

export const roomId = {
  device: (id: string) => `device:${id}`,
  connection: (id: string) => `connection:${id}`,
  user: (username: string) => `user:${username}`,
  limiter: (key: string) => `limiter:${key}`,
  directory: () => 'directory:main',
};

/**
 * Connection rooms live exactly as long as their socket: a host never needs to bring one back after a
 * restart, so it may keep their alarms in memory only.
 */
export function isEphemeral(id: string): boolean {
  return id.startsWith('connection:');
}

/** Method calls by room id, supplied by the host: in-process on Node/Deno, RPC on Workers. */
export type RoomCall = (id: string, method: string, args: unknown[]) => Promise<unknown>;

/**
 * Typed stubs over a host's `call`, so rooms address each other by name, never by reference. A stub is
 * made for every call (a relay makes two per message): one handler serves them all, so a stub is just
 * the Proxy and its target.
 */
export function roomsVia(call: RoomCall): Rooms {
  const handler: ProxyHandler<{ id: string }> = {
    get(target, method) {
      return (...args: unknown[]) => call(target.id, String(method), args);
    },
  };
  const stub = <T>(id: string) => new Proxy({ id }, handler) as unknown as Remote<T>;
  return {
    device: (id) => stub(roomId.device(id)),
    connection: (id) => stub(roomId.connection(id)),
    user: (username) => stub(roomId.user(username)),
    limiter: (key) => stub(roomId.limiter(key)),
    directory: () => stub(roomId.directory()),
  };
}

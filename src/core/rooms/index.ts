import type {
  ConnectionRoomApi,
  DeviceRoomApi,
  DirectoryApi,
  LimiterApi,
  PresetRoomApi,
  RegistryApi,
  ScheduleRoomApi,
  UserRoomApi,
} from '../contract.ts';
import type { Metrics, RoomKind } from '../metrics/metrics.ts';
import type { OneWay, Remote, RoomContext, Rooms } from '../ports.ts';
import type { Room } from '../room.ts';
import { ConnectionRoom } from './connection-room.ts';
import { DeviceRoom } from './device-room.ts';
import { DirectoryRoom } from './directory-room.ts';
import { LimiterRoom } from './limiter-room.ts';
import { PresetRoom } from './preset-room.ts';
import { RegistryRoom } from './registry-room.ts';
import { ScheduleRoom } from './schedule-room.ts';
import { UserRoom } from './user-room.ts';

/** Room ids are `kind:name`; the kind picks the class. Hosts create rooms only through this. */
const kinds: Record<string, new (ctx: RoomContext) => Room> = {
  device: DeviceRoom,
  connection: ConnectionRoom,
  user: UserRoom,
  limiter: LimiterRoom,
  directory: DirectoryRoom,
  registry: RegistryRoom,
  presets: PresetRoom,
  schedules: ScheduleRoom,
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
  registry: (shard: number) => `registry:${shard}`,
  presets: () => 'presets:main',
  schedules: () => 'schedules:main',
};

/**
 * Connection rooms live exactly as long as their socket: a host never needs to bring one back after a
 * restart, so it may keep their alarms in memory only.
 */
export function isEphemeral(id: string): boolean {
  return id.startsWith('connection:');
}

/**
 * A room as a stub addresses it: its id, and a slot in which a host may keep what the id led to (the
 * in-process host keeps the room's entry there, so a relay's every message skips the lookup by id).
 */
export interface RoomAddress {
  readonly id: string;
  route: unknown;
}

/** Method calls by room id, supplied by the host: in-process on Node/Deno, RPC on Workers. */
export type RoomCall = (id: string, method: string, args: unknown[], address: RoomAddress) => Promise<unknown>;

/** A call whose answer nobody waits for; the host logs a failure. */
export type RoomTell = (id: string, method: string, args: unknown[], address: RoomAddress) => void;

/** Names looked up on any object by the language or by Node, never room methods. */
const NOT_METHODS = new Set(['then', '__proto__', 'constructor', 'toJSON', 'toString', 'valueOf', 'inspect']);

/** Stubs kept per kind: a relay addresses the same rooms on every message. */
const STUBS_PER_KIND = 1024;

/**
 * Typed stubs over a host's `call`, so rooms address each other by name, never by reference. A stub is
 * a small `{ id, route }` object; its methods live on one prototype per kind, each made the first time
 * it is asked for (a Proxy at the end of the prototype chain makes them) and then found like any
 * method, so a call makes no Proxy trap. A stub is also the `RoomAddress` its calls pass to the host.
 * Stubs of recently used rooms are kept (the oldest made is dropped first): a kept stub's id is hashed
 * once, not on every call. `tell` carries one-way calls (`rooms.tell`). Each call is counted by kind.
 */
export function roomsVia(call: RoomCall, tell: RoomTell, metrics: Metrics): Rooms {
  const calls = metrics.roomCalls;
  const kind = <T>(room: RoomKind, toId: (name: string) => string, invoke: RoomCall | RoomTell = call) => {
    const methods: Record<string, unknown> = Object.create(
      new Proxy(
        {},
        {
          get(_target, property) {
            // Not a room method: awaiting, printing or serialising a stub must not call the room, and
            // defining `__proto__` would replace the prototype itself.
            if (typeof property !== 'string' || NOT_METHODS.has(property)) return undefined;
            const method = function (this: RoomAddress, ...args: unknown[]) {
              calls[room]++;
              return invoke(this.id, property, args, this);
            };
            Object.defineProperty(methods, property, { value: method });
            return method;
          },
        },
      ),
    );
    const stubs = new Map<string, Remote<T>>();
    return (name: string): Remote<T> => {
      let stub = stubs.get(name);
      if (!stub) {
        // A literal defines `id` directly; assigning it would walk the prototype chain into the Proxy.
        stub = { __proto__: methods, id: toId(name), route: undefined } as unknown as Remote<T>;
        if (stubs.size >= STUBS_PER_KIND) stubs.delete(stubs.keys().next().value as string);
        stubs.set(name, stub);
      }
      return stub;
    };
  };
  const directory = kind<DirectoryApi>('directory', roomId.directory);
  const tellConnection = kind<ConnectionRoomApi>('connection', roomId.connection, tell) as unknown as (
    id: string,
  ) => OneWay<ConnectionRoomApi>;
  const registry = kind<RegistryApi>('registry', (shard) => roomId.registry(Number(shard)));
  const presets = kind<PresetRoomApi>('presets', roomId.presets);
  const schedules = kind<ScheduleRoomApi>('schedules', roomId.schedules);
  const rooms: Rooms = {
    device: kind<DeviceRoomApi>('device', roomId.device),
    connection: kind<ConnectionRoomApi>('connection', roomId.connection),
    user: kind<UserRoomApi>('user', roomId.user),
    limiter: kind<LimiterApi>('limiter', roomId.limiter),
    directory: () => directory(''),
    registry: (shard: number) => registry(String(shard)),
    presets: () => presets(''),
    schedules: () => schedules(''),
    tell: { connection: tellConnection },
  };
  return rooms;
}

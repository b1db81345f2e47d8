import type { TokenKey } from './auth/tokens.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type {
  ConnectionRoomApi,
  DeviceRoomApi,
  DirectoryApi,
  LimiterApi,
  PresetRoomApi,
  Profile,
  RegistryApi,
  ScheduleRoomApi,
  UserRoomApi,
} from './contract.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics/metrics.ts';

/**
 * The small interfaces the core is written against. Each runtime adapter implements them and
 * nothing else: Node and Deno with an in-process room host over SQLite, Workers with Durable Objects.
 */

/** A socket as a room sees it. */
export interface Connection<State = unknown> {
  readonly id: string;
  /** What the socket must remember across hibernation; set it with `setState` (structured-cloneable, ≤ 16 KiB serialised on Workers). */
  readonly state: State;
  setState(state: State): void;
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Bytes queued to send, where the runtime can tell (not on Workers). */
  readonly bufferedAmount?: number;
}

/**
 * Per-room key/value storage with JSON values. Synchronous on purpose: SQLite on Node/Deno and the
 * SQLite-backed Durable Object API are both synchronous, so a room never interleaves with itself
 * around a write, and a write is committed before the next line (and any acknowledgement) runs.
 */
export interface RoomStorage {
  get<T>(key: string): T | undefined;
  put(key: string, value: unknown, options?: WriteOptions): void;
  /** Writes every entry or none. */
  putMany(entries: Record<string, unknown>): void;
  delete(key: string, options?: WriteOptions): void;
  list<T>(prefix: string): Map<string, T>;
  deleteAll(): void;
}

/** Named as on Durable Objects' storage. */
export interface WriteOptions {
  /**
   * The write may be committed a moment after the call returns, after messages sent meanwhile, and
   * batched with others: only for bookkeeping that a crash makes worthless anyway (which sockets are
   * open), never for anything acknowledged. Reads see it at once; writes keep their order.
   */
  allowUnconfirmed?: boolean;
}

/** What a socket brings to its room when it connects; stored with the socket. */
export interface ConnectInfo {
  path: string;
  clientAddress: string;
  /** /api/v1: the last sequence number the client saw, to catch up from. */
  since?: number;
  /** Set when the upgrade must be refused after it completes (close 1008 with this reason). */
  refuse?: string;
  /** /ws/camera/: who this is, checked at the upgrade (`gen`: the generation of a user's token). */
  camera?: { role: 'device' | 'controller'; user?: Profile; gen?: string };
}

/** A room's view of its platform: a Durable Object's `ctx`, or the in-process host's equivalent. */
export interface RoomContext {
  /** `kind:name`, e.g. `device:kitchen-cam`. */
  readonly id: string;
  readonly storage: RoomStorage;
  readonly services: Services;
  connections(): Iterable<Connection>;
  /** One alarm per room, as on Durable Objects; setting it again moves it. */
  setAlarm(at: number): void;
  deleteAlarm(): void;
}

/** Calls into another room. On Workers an RPC to a Durable Object, in-process elsewhere. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** One-way calls into another room: no answer comes back, and the host logs a failure. */
export type OneWay<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => void ? (...args: A) => void : never;
};

export interface Rooms {
  device(id: string): Remote<DeviceRoomApi>;
  connection(id: string): Remote<ConnectionRoomApi>;
  user(username: string): Remote<UserRoomApi>;
  limiter(key: string): Remote<LimiterApi>;
  directory(): Remote<DirectoryApi>;
  /** A shard of the registry of device ids (rooms/registry-room.ts). */
  registry(shard: number): Remote<RegistryApi>;
  /** Every preset (rooms/preset-room.ts). */
  presets(): Remote<PresetRoomApi>;
  /** Every schedule, for listings; each device room runs its own (rooms/schedule-room.ts). */
  schedules(): Remote<ScheduleRoomApi>;
  /**
   * One-way calls to connection rooms, for what needs no answer (a relayed signal). Every host has
   * them: in-process the call runs at once and makes no promise; on Workers it is an RPC nobody awaits.
   */
  tell: { connection(id: string): OneWay<ConnectionRoomApi> };
}

export interface Services {
  config: Config;
  log: Logger;
  rooms: Rooms;
  clock: Clock;
  tokens: TokenKey;
  /** What this host counts for GET /metrics. */
  metrics: Metrics;
}

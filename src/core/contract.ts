import type { DeviceKeyHash } from './auth/device-key.ts';
import type { Role } from './auth/tokens.ts';
import type { State } from './state/keys.ts';
import type { Actor, StateError } from './state/model.ts';
import type { IceServer } from './turn.ts';

/**
 * The contract between the rooms: the API each kind of room offers the others (and the HTTP app), and
 * the values they exchange. Rooms implement these; everyone else, `ports.ts` included, knows rooms only
 * from here. It imports no room, so the rooms and the ports that carry calls between them form no
 * circle (test/unit/import-cycles.test.ts keeps it so).
 */

// — state changes, as every protocol gets them answered —
export type Applied = { ok: true; applied: Record<string, unknown>; seq: number } | { ok: false; error: StateError };

// — connection rooms: one per /ws/device or /ws/viewer socket (rooms/connection-room.ts) —
export interface SessionChange {
  add?: { session: string; peer: string };
  remove?: string;
}

export interface ConnectionRoomApi {
  /** Sends a frame to this room's socket; false if the socket is gone. */
  deliver(message: string, change?: SessionChange): boolean;
  /** A state change (`message`, rendered once for all): merged with later ones while this socket is backed up. */
  deliverState(message: string, deviceId: string, changes: State, seq: number): boolean;
  /**
   * A signal of `session` (of `device`) from its other party `from`. One-way: when this socket has no
   * such session with `from`, or no socket at all, this room tells the device room (`signalLost`).
   */
  relay(from: string, session: string, device: string, message: string): void;
  disconnect(code: number, reason: string): void;
  /** Whether this room still holds an open socket (false after a crash or restart took it). */
  alive(): boolean;
}

// — device rooms (rooms/device-room.ts) —
export interface Registration {
  device_id: string;
  name: string;
  key: DeviceKeyHash;
  created_at: string;
}

export interface DeviceInfo {
  device_id: string;
  name: string;
  online: boolean;
  presence: Record<string, unknown> | null;
  last_seen: string | null;
}

export type HelloResult = { ok: true; settings: State; seq: number } | { ok: false; reason: 'not_found' | 'bad_key' };

/** A device's `status` on /ws/device: a command reply and/or what it applied. */
export interface DeviceStatus {
  request_id?: string;
  success?: boolean;
  message?: string;
  state?: Record<string, unknown>;
}

export interface DeviceRoomApi {
  register(registration: Registration): 'created' | 'exists';
  unregister(): void;
  info(): Promise<DeviceInfo | null>;
  deviceHello(conn: string, key: string): Promise<HelloResult>;
  deviceGone(conn: string): void;
  touch(conn: string): boolean;
  presence(conn: string, presence: Record<string, unknown>): void;
  verifyKey(key: string): Promise<boolean>;
  deviceStatus(conn: string, status: DeviceStatus): Applied | null;
  readState(): { state: State; seq: number } | null;
  catchUp(since: number | undefined): CatchUp | null;
  applyChanges(actor: Actor, input: Record<string, unknown>, source: ChangeSource): Applied | null;
  /** Accepted changes, newest first: up to `limit`, before sequence number `before`. */
  history(limit: number, before?: number): HistoryEntry[] | null;
  subscribe(conn: string, since: number | undefined): boolean;
  unsubscribe(conn: string): void;
  watch(viewer: string, user: string): Promise<WatchResult>;
  /** The device answered the session (signals themselves go between the connection rooms). */
  answered(conn: string, session: string): void;
  /** A signal found no one on the other side: see WatchSessions.signalLost. */
  signalLost(conn: string, session: string): Promise<void>;
  endWatch(viewer: string, session: string): boolean;
  /** The device could not serve the session; `message` (why) goes to the viewer. */
  endFromDevice(conn: string, session: string, message?: string): boolean;
  viewerGone(viewer: string, sessions: string[]): void;
  /** A schedule naming this device: stored here, run here at its times (rooms/device/schedules.ts). */
  setSchedule(plan: SchedulePlan): void;
  removeSchedule(id: string): void;
  /** A socket this room holds (/api/v1, /ws/camera/), by id: for its user's session to end. */
  closeSocket(connId: string, code: number, reason: string): void;
  socketOpen(connId: string): boolean;
}

// — the directory (rooms/directory-room.ts) —
export interface DeviceEntry {
  device_id: string;
  name: string;
}

export interface UserEntry {
  username: string;
  role: Role;
  devices: string[] | null;
}

export interface DirectoryApi {
  bootstrap(): Promise<void>;
  addDevice(entry: DeviceEntry): boolean;
  removeDevice(id: string): boolean;
  listDevices(): DeviceEntry[];
  addUser(entry: UserEntry): boolean;
  /** The listing's copy of a changed user; false when there is none. */
  updateUser(entry: UserEntry): boolean;
  removeUser(username: string): boolean;
  listUsers(): UserEntry[];
}

// — presets (rooms/preset-room.ts) —
/** A named set of camera-state values: a device's own (`device_id`), or shared by every device. */
export interface Preset {
  id: string;
  name: string;
  values: State;
  device_id?: string;
}

export type PresetSaved = { ok: true; preset: Preset } | { ok: false; reason: 'not_found' | 'name_taken' | 'too_many' };

export interface PresetRoomApi {
  /** The shared presets, and `device`'s own when given. */
  list(device?: string): Preset[];
  get(id: string): Preset | null;
  create(preset: Preset): PresetSaved;
  update(id: string, change: { name: string; values: State }): PresetSaved;
  remove(id: string): Preset | null;
  /** The device was removed: its presets go with it. */
  removeDevice(deviceId: string): void;
}

// — schedules (rooms/schedule-room.ts, rooms/device/schedules.ts) —
/** What applying to one device came to, as `POST /api/presets/:id/apply` and a schedule's run report it. */
export type DeviceResult =
  | { ok: true; seq: number; applied: Record<string, unknown> }
  | { ok: false; error: string; key?: string; message?: string };

/** A schedule as stored and listed (without its `next_runs`, computed when listed). */
export interface Schedule {
  id: string;
  name?: string;
  devices: string[];
  preset_id?: string;
  values?: State;
  cron?: string;
  at?: string;
  timezone: string;
  enabled: boolean;
  created_by: string;
  created_at: string;
  /** Runs are due from here on: its creation, or when it was last enabled or changed (ms). */
  since: number;
  last_run?: { at: string; results: Record<string, DeviceResult> };
}

/** What a device room keeps of a schedule that names it: enough to run it alone, at its time. */
export type SchedulePlan = Pick<
  Schedule,
  'id' | 'preset_id' | 'values' | 'cron' | 'at' | 'timezone' | 'enabled' | 'since' | 'created_by'
>;

export interface ScheduleRoomApi {
  list(): Schedule[];
  get(id: string): Schedule | null;
  put(schedule: Schedule): void;
  remove(id: string): Schedule | null;
  /** A device ran the schedule's run due at `at` (ISO 8601). */
  recordRun(id: string, at: string, device: string, result: DeviceResult): void;
  /** A device was removed: it leaves every schedule naming it; a schedule left with none goes. */
  removeDevice(deviceId: string): void;
}

// — login limiters (rooms/limiter-room.ts) —
export interface LoginLimits {
  /** Failures per window, counting attempts still being checked. */
  maxFailures: number;
  windowMs: number;
  /** Attempts being checked at once. */
  maxConcurrent: number;
  /** Attempts of any outcome per minute. */
  maxPerMinute: number;
}

export type LoginOutcome = 'success' | 'failure' | 'cancelled';

export interface LimiterApi {
  /** Reserves an attempt: 0 when it may go ahead, else the seconds until one may. */
  begin(limits: LoginLimits): number;
  /** How the reserved attempt went; `cancelled` gives the reservation back. */
  end(outcome: LoginOutcome, windowMs: number): void;
}

// — registry shards (rooms/registry-room.ts) —

/** A listing's row, as the device's room last told its shard. */
export interface ListedDevice extends DeviceInfo {
  /** Online over /ws/device, so only while `last_seen` is within HEARTBEAT_TIMEOUT_S. */
  leased: boolean;
}

/** One shard's part of a page of the device listing. */
export interface ListingQuery {
  /** Ids after this one, in code-unit order. */
  after?: string | undefined;
  /** At most this many; all when absent. */
  limit?: number | undefined;
  /** A substring of the id or the name, lower-case. */
  q?: string | undefined;
  /** Only these ids (a user's allow-list, the part in this shard). */
  only?: string[] | undefined;
}

export interface RegistryApi {
  /** The ids of `ids` that are registered (all in this shard). */
  known(ids: string[]): Promise<string[]>;
  add(entry: DeviceEntry): Promise<void>;
  remove(id: string): Promise<void>;
  /** A device room's news for its row: ignored for an id no longer registered. */
  update(row: ListedDevice): Promise<void>;
  list(query: ListingQuery): Promise<{ devices: DeviceInfo[]; more: boolean }>;
  counts(): Promise<{ devices: number; online: number }>;
  /** The host restarted: no socket it held is open any more. */
  restarted(): Promise<void>;
}

// — user rooms (rooms/user-room.ts) —
export interface Profile {
  username: string;
  role: Role;
  /** Device ids this user may access; null = all devices. */
  devices: string[] | null;
}

/** A profile as of a generation of the user's record: what a token is signed for. */
export interface Session extends Profile {
  gen: string;
}

export interface UserChange {
  role?: Role;
  devices?: string[] | null;
  password?: string;
}

/**
 * Where one of the user's sockets is: a viewer socket's connection room (`<name>`), or a socket a
 * device room holds itself, /api/v1 or /ws/camera/ (`<device id>/<socket id>`; device ids have no `/`).
 */
export type SocketRef = string;

export type OpenSocketResult = { ok: true; profile: Profile } | { ok: false; reason: 'unknown_user' | 'too_many_sockets' };

export interface UserRoomApi {
  create(profile: Profile, password: string): Promise<'created' | 'exists'>;
  /** Changes the user and ends their sessions; null when there is no such user. */
  update(change: UserChange): Promise<Profile | null>;
  /** Ends the user's sessions and forgets them. */
  remove(): Promise<void>;
  profile(): Profile | null;
  /** The profile while `gen` is the record's generation; null for a token of a deleted or changed user. */
  session(gen: string): Profile | null;
  verify(password: string): Promise<Session | null>;
  /** Counts a socket toward MAX_SOCKETS_PER_USER; `gen` is its token's (null: it gave a password just now). */
  openSocket(ref: SocketRef, gen: string | null): Promise<OpenSocketResult>;
  closeSocket(ref: SocketRef): void;
}

// — watch sessions (rooms/watch-sessions.ts) —
export type WatchResult =
  | { ok: true; session_id: string; ice_servers: IceServer[] /** the device's connection room */; link: string }
  | { ok: false; reason: 'not_found' | 'offline' | 'camera_only' | 'too_many_viewers' };

// — the history of a device's changes (state/store.ts) —
/** How a change arrived: the protocol, or the feature that made it. */
export type Via = 'http' | 'api_v1' | 'viewer' | 'camera' | 'device' | 'preset' | 'schedule';

export interface ChangeSource {
  via: Via;
  /** Who, when it is not the actor itself: a schedule acts with its creator's rights as `schedule:<id>`. */
  by?: string;
}

export interface HistoryEntry {
  seq: number;
  at: string;
  /** A username, `device`, or `schedule:<id>`. */
  by: string;
  via: Via;
  changes: State;
}

// — catching up on a device's changes (state/store.ts) —
export type CatchUp =
  | { snapshot: true; seq: number; state: State }
  | { snapshot: false; seq: number; changes: { seq: number; changes: State }[] };

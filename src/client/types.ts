/**
 * The shapes of the /ws/viewer messages the SDK hands to applications (docs/protocol.md). Written out
 * here rather than imported from src/core so the client has no server code (and no valibot) in it.
 */

export type CameraState = Record<string, unknown>;

export interface SessionDescription {
  type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

/** RTCIceCandidateInit, spelled out so the SDK also type-checks without the DOM library. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
  credentialType?: 'password';
}

export interface HelloAck {
  user_id: string;
  role: 'admin' | 'operator' | 'viewer';
  server_time: string;
  /** How many devices this socket may subscribe to (absent from older servers). */
  max_subscriptions?: number;
  /** How many watch sessions this socket may hold at once. */
  max_watches?: number;
}

export interface Subscribed {
  device_ids: string[];
  not_found: string[];
}

export interface WatchReady {
  session_id: string;
  device_id: string;
  ice_servers: IceServer[];
}

export interface StateAck {
  device_id: string;
  seq: number;
  /** The applied (normalised) values: `{record: true}` comes back as `{record: "on"}`. */
  state: CameraState;
}

/** A state_get answer: a snapshot, or the changes since the `since` asked for. */
export type StateReply =
  | { device_id: string; seq: number; snapshot: true; state: CameraState }
  | { device_id: string; seq: number; snapshot: false; changes: { seq: number; changes: CameraState }[] };

export type WatchEndReason = 'user_ended' | 'viewer_disconnected' | 'device_disconnected' | 'timeout' | 'error' | (string & {});

// — events —

export interface StateEvent {
  device_id: string;
  /** The full merged state after this message. */
  state: CameraState;
  /** The keys this message set (every key for a snapshot). */
  changed: string[];
  seq: number;
  snapshot: boolean;
}

export interface StatusEvent {
  device_id: string;
  online: boolean;
  presence: Record<string, string | number | boolean | null> | null;
}

export interface SignalSdpEvent {
  session_id: string;
  sdp: SessionDescription;
}

export interface SignalIceEvent {
  session_id: string;
  candidate: IceCandidate | null;
}

export interface WatchEndedEvent {
  session_id: string;
  device_id?: string;
  reason: WatchEndReason;
  /** With reason `error`: the camera's own words on why it could not serve the watch. */
  message?: string;
}

export interface OpenEvent extends HelloAck {
  /** True when this is a reconnect, not the first connection. */
  reconnected: boolean;
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** Whether the SDK will reconnect, and after how many ms. */
  reconnecting: boolean;
  delayMs?: number;
}

// — presets, schedules and history (HTTP; see docs/presets.md) —

export interface Preset {
  id: string;
  name: string;
  values: CameraState;
  /** The device it belongs to; absent for a shared preset. */
  device_id?: string;
}

/** What applying came to on one device. */
export type DeviceResult =
  | { ok: true; seq: number; applied: CameraState }
  | { ok: false; error: string; key?: string; message?: string };

export interface Schedule {
  id: string;
  name?: string;
  devices: string[];
  preset_id?: string;
  values?: CameraState;
  /** 5 fields, or 6 with seconds first. */
  cron?: string;
  /** A one-shot time, ISO 8601. */
  at?: string;
  timezone: string;
  enabled: boolean;
  created_by: string;
  created_at: string;
  /** The next three runs (ISO 8601, UTC); empty when disabled or done. */
  next_runs: string[];
  last_run?: { at: string; results: Record<string, DeviceResult> };
}

/** A new schedule: a preset or values, cron or at. */
export type NewSchedule = { name?: string; devices: string[]; timezone?: string; enabled?: boolean } & (
  | { preset_id: string }
  | { values: CameraState }
) &
  ({ cron: string } | { at: string });

export type Via = 'http' | 'api_v1' | 'viewer' | 'camera' | 'device' | 'preset' | 'schedule';

export interface HistoryEntry {
  seq: number;
  at: string;
  /** A username, `device`, or `schedule:<id>`. */
  by: string;
  via: Via;
  changes: CameraState;
}

/** A device as GET /api/devices lists it. */
export interface DeviceInfo {
  device_id: string;
  name: string;
  online: boolean;
  presence: Record<string, unknown> | null;
  /** ISO 8601: when it was last heard from; null if never. */
  last_seen: string | null;
}

/** A page of the device listing: `next_cursor` asks for the next one (null on the last). */
export interface DevicePage {
  devices: DeviceInfo[];
  next_cursor: string | null;
}

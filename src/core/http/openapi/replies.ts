import * as v from 'valibot';
import { Role } from '../../auth/tokens.ts';
import type { Via } from '../../contract.ts';
import { DeviceId } from '../schemas.ts';
import { CameraState } from './camera-state.ts';

/**
 * The bodies the HTTP API answers with, as valibot schemas: nothing validates them, they exist so
 * the OpenAPI document describes responses the way it describes requests. The shapes are the routes'
 * (routes/) and the contract's (contract.ts).
 */

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const isoTime = v.pipe(v.string(), v.isoTimestamp());

export const ErrorReply = v.pipe(
  v.looseObject({
    error: v.pipe(v.string(), v.description('What went wrong, in words.')),
    hint: v.optional(v.pipe(v.string(), v.description('What to do about it, where that helps.'))),
  }),
  v.description('Every error. Some add fields naming what was refused (device_id, username, name, max, …).'),
);

export const InvalidRequest = v.pipe(
  v.looseObject({
    error: v.picklist(['Invalid request', 'Invalid JSON body']),
    message: v.optional(
      v.pipe(v.string(), v.description('The first problem, with the field it is in: "body.device_id: device_id must be …".')),
    ),
    field: v.optional(v.pipe(v.string(), v.description('The field refused, where a check beyond the schema refused it.'))),
    hint: v.optional(v.string()),
  }),
  v.description('A body or query that is not what the operation takes.'),
);

export const StateError = v.pipe(
  v.object({
    error: v.picklist(['Unknown key', 'Permission denied', 'Invalid value']),
    key: v.string(),
    message: v.optional(v.string()),
  }),
  v.description('A change refused as seed 002 refuses it: the first key at fault. The change is all or nothing.'),
);

export const InvalidChange = v.union([InvalidRequest, StateError]);

export const TooManyLogins = v.object({
  error: v.string(),
  retry_after: v.pipe(count, v.description('Seconds until a login may be tried again (also the Retry-After header).')),
});

export const Health = v.object({ ok: v.literal(true) });

export const ServerStatus = v.object({
  version: v.string(),
  runtime: v.picklist(['node', 'deno', 'workerd']),
  uptime_s: count,
  devices_registered: count,
  devices_online: count,
  sockets_open: v.pipe(
    v.nullable(count),
    v.description('Open sockets on this host; null on Workers, where no isolate sees them all.'),
  ),
});

export const KeyDescription = v.object({
  key: v.string(),
  type: v.picklist(['integer', 'number', 'boolean', 'string', 'enum', 'trigger']),
  description: v.string(),
  default: v.nullable(v.union([v.number(), v.string(), v.boolean()])),
  min: v.optional(v.number()),
  max: v.optional(v.number()),
  values: v.optional(v.array(v.string())),
  pattern: v.optional(v.string()),
  accepts: v.optional(v.array(v.union([v.string(), v.boolean()]))),
  read: v.literal('viewer'),
  write: v.picklist(['viewer', 'operator', 'admin', 'device']),
});

export const StateSchema = v.object({ anonymous_read: v.boolean(), keys: v.array(KeyDescription) });

export const OpenApiDocument = v.pipe(
  v.looseObject({ openapi: v.string(), info: v.looseObject({}), paths: v.looseObject({}) }),
  v.description('This document: OpenAPI 3.1.'),
);

const UserName = v.string();

export const LoginReply = v.object({
  token: v.pipe(v.string(), v.description('A user JWT (HS256): send it as Authorization: Bearer <token>.')),
  token_type: v.literal('Bearer'),
  expires_in: v.pipe(count, v.description('Seconds the token is valid for (TOKEN_TTL_S).')),
  user: v.object({ username: UserName, role: Role }),
});

export const UserProfile = v.object({
  username: UserName,
  role: Role,
  devices: v.pipe(v.nullable(v.array(DeviceId)), v.description('The devices this user may access; null: all of them.')),
});

export const UserList = v.object({ users: v.array(UserProfile) });

export const DeviceInfo = v.object({
  device_id: DeviceId,
  name: v.string(),
  online: v.boolean(),
  presence: v.pipe(v.nullable(v.record(v.string(), v.unknown())), v.description('What the device last said about itself.')),
  last_seen: v.nullable(isoTime),
});

export const DevicePage = v.object({
  devices: v.array(DeviceInfo),
  next_cursor: v.pipe(v.nullable(v.string()), v.description('Pass as ?cursor= for the next page; null on the last page.')),
});

export const NewDeviceReply = v.object({
  device_id: DeviceId,
  name: v.string(),
  key: v.pipe(v.string(), v.description("The device's secret for its hello: shown this once, stored only as a hash.")),
});

const vias = ['http', 'api_v1', 'viewer', 'camera', 'device', 'preset', 'schedule'] as const satisfies readonly Via[];

export const History = v.object({
  changes: v.array(
    v.object({
      seq: count,
      at: isoTime,
      by: v.pipe(v.string(), v.description('A username, `device`, or `schedule:<id>`.')),
      via: v.picklist(vias),
      changes: CameraState,
    }),
  ),
});

export const Preset = v.object({
  id: v.string(),
  name: v.string(),
  values: CameraState,
  device_id: v.optional(v.pipe(DeviceId, v.description('The device it belongs to; absent: shared by every device.'))),
});

export const PresetList = v.object({ presets: v.array(Preset) });

export const DeviceResult = v.union([
  v.object({ ok: v.literal(true), seq: count, applied: CameraState }),
  v.object({ ok: v.literal(false), error: v.string(), key: v.optional(v.string()), message: v.optional(v.string()) }),
]);

export const ApplyReply = v.object({
  results: v.pipe(v.record(v.string(), DeviceResult), v.description('One result per device, by device id.')),
});

export const Schedule = v.object({
  id: v.string(),
  name: v.optional(v.string()),
  devices: v.array(DeviceId),
  preset_id: v.optional(v.string()),
  values: v.optional(CameraState),
  cron: v.optional(v.string()),
  at: v.optional(isoTime),
  timezone: v.string(),
  enabled: v.boolean(),
  created_by: v.string(),
  created_at: isoTime,
  last_run: v.optional(v.object({ at: isoTime, results: v.record(v.string(), DeviceResult) })),
  next_runs: v.pipe(v.array(isoTime), v.description('The next three runs (UTC); empty when disabled or done.')),
});

export const ScheduleList = v.object({ schedules: v.array(Schedule) });

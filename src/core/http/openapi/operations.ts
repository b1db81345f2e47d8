import * as v from 'valibot';
import {
  ApplyBody,
  DeviceId,
  DeviceListQuery,
  HistoryQuery,
  LoginBody,
  NewDeviceBody,
  NewPresetBody,
  NewScheduleBody,
  NewUserBody,
  PresetBody,
  ScheduleChangeBody,
  SinceParam,
  StateChangesBody,
  UserChangeBody,
  Username,
} from '../schemas.ts';
import { CameraState } from './camera-state.ts';
import * as replies from './replies.ts';

/**
 * Every HTTP endpoint, as GET /api/openapi.json describes it: what it takes (the valibot schemas the
 * routes validate with) and what it answers. A unit test checks this table against the routes the app
 * registers, both ways. The guard, a body and a query add their own error responses (document.ts).
 */

/** Who may call: anyone, any logged-in user, at least an operator, an admin, or the metrics scraper. */
export type Guard = 'none' | 'user' | 'operator' | 'admin' | 'metrics';

/** A response: JSON with `schema`, or `media` types with a body in words; `headers`: name → meaning. */
export interface Reply {
  description: string;
  schema?: v.GenericSchema;
  media?: string[];
  headers?: Record<string, string>;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** In OpenAPI's form: `/api/devices/{id}`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  guard: Guard;
  /** Path parameters by name; query parameters by name (optional ones wrapped in `v.optional`). */
  params?: Record<string, v.GenericSchema>;
  query?: Record<string, v.GenericSchema>;
  body?: v.GenericSchema;
  /** Answers by status; a string is an error (`ErrorReply`) described in those words. */
  replies: Record<number, Reply | string>;
}

const json = (description: string, schema: v.GenericSchema, headers?: Record<string, string>): Reply => ({
  description,
  schema,
  ...(headers ? { headers } : {}),
});
const noContent: Reply = { description: 'Done; no body.' };
const SEQ_HEADER = { 'X-State-Seq': "The state's sequence number after this read or change." };
/** A body with camera-state values: its 400 may be either kind of refusal. */
const invalidChange = (what: string) =>
  json(`${what}; or an unknown key or invalid value (the first key at fault).`, replies.InvalidChange);

const deviceNotFound = 'No such device, or one this user may not access.';
const presetNotFound = 'No such preset, or one of a device this user may not access.';
const scheduleNotFound = 'No such schedule, or one naming a device this user may not access.';

const PresetId = v.pipe(v.string(), v.maxLength(64));
const ScheduleId = v.string();

/** The WebSocket endpoints: a GET with `Upgrade: websocket`; the protocol is in the docs named. */
function socket(path: string, operationId: string, summary: string, description: string, query?: Operation['query']): Operation {
  return {
    method: 'get',
    path,
    operationId,
    tag: 'sockets',
    summary,
    description: `${description} Open it with a WebSocket client; refusals after the upgrade are close frames (1008 with a reason), not HTTP statuses.`,
    guard: 'none',
    ...(query ? { query } : {}),
    replies: {
      101: { description: 'Switching Protocols: the WebSocket is open.' },
      400: 'A malformed upgrade (it needs a valid Sec-WebSocket-Key and Sec-WebSocket-Version: 13).',
      426: {
        description: 'Upgrade Required: a plain GET, without Upgrade: websocket.',
        schema: replies.ErrorReply,
        headers: { Upgrade: 'websocket: the protocol to upgrade to.' },
      },
    },
  };
}

const deviceQuery = {
  device: v.optional(
    v.pipe(DeviceId, v.description('The device; without it, the only one registered (else the socket is closed, 1008).')),
  ),
};
const cameraQuery = {
  ...deviceQuery,
  key: v.optional(v.pipe(v.string(), v.description("The device's key, for a device that cannot send Authorization."))),
  token: v.optional(v.pipe(v.string(), v.description("A user's JWT, for a controller that cannot send Authorization."))),
};

export const OPERATIONS: readonly Operation[] = [
  // — about —
  {
    method: 'get',
    path: '/',
    operationId: 'home',
    tag: 'about',
    summary: 'The web panel, or a greeting when it is not built',
    guard: 'none',
    replies: {
      200: { description: "The panel's page (text/html), or a plain-text greeting.", media: ['text/html', 'text/plain'] },
    },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'about',
    summary: 'Liveness',
    guard: 'none',
    replies: { 200: json('The server is up.', replies.Health) },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'about',
    summary: 'Prometheus metrics',
    description:
      'The text exposition format 0.0.4. Needs Authorization: Bearer <METRICS_TOKEN> when METRICS_TOKEN is set, else an admin JWT.',
    guard: 'metrics',
    replies: { 200: { description: 'Every metric family, with # HELP and # TYPE.', media: ['text/plain'] } },
  },
  {
    method: 'get',
    path: '/api/status',
    operationId: 'status',
    tag: 'about',
    summary: 'Version, runtime, uptime, devices online and open sockets',
    guard: 'none',
    replies: { 200: json("The server's status.", replies.ServerStatus) },
  },
  {
    method: 'get',
    path: '/api/schema',
    operationId: 'stateSchema',
    tag: 'about',
    summary: 'Every camera-state key: type, range, default and who may write it',
    guard: 'none',
    replies: { 200: json('The state keys (docs/state.md), to build controls from.', replies.StateSchema) },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    tag: 'about',
    summary: 'This document',
    guard: 'none',
    replies: { 200: json('The OpenAPI 3.1 document of every HTTP endpoint.', replies.OpenApiDocument) },
  },

  // — session —
  {
    method: 'post',
    path: '/api/login',
    operationId: 'login',
    tag: 'session',
    summary: 'Log in: a JWT for a username and password',
    guard: 'none',
    body: LoginBody,
    replies: {
      200: json('Logged in.', replies.LoginReply),
      401: 'Invalid username or password (the same answer for an unknown user).',
      429: json(
        'Too many failed logins for this username or from this client; even the right password waits.',
        replies.TooManyLogins,
        {
          'Retry-After': 'Seconds until a login may be tried again.',
        },
      ),
    },
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'me',
    tag: 'session',
    summary: "The token holder's username, role and device allow-list",
    guard: 'user',
    replies: { 200: json('Who the token is for, as their record says now.', replies.UserProfile) },
  },

  // — users —
  {
    method: 'get',
    path: '/api/users',
    operationId: 'listUsers',
    tag: 'users',
    summary: 'Every user',
    guard: 'admin',
    replies: { 200: json('The users.', replies.UserList) },
  },
  {
    method: 'post',
    path: '/api/users',
    operationId: 'createUser',
    tag: 'users',
    summary: 'Create a user',
    guard: 'admin',
    body: NewUserBody,
    replies: { 201: json('Created.', replies.UserProfile), 409: 'A user with this username exists.' },
  },
  {
    method: 'patch',
    path: '/api/users/{username}',
    operationId: 'changeUser',
    tag: 'users',
    summary: "Change a user's password, role or allow-list",
    description: "The user's open sockets are closed and their tokens stop working: they log in again.",
    guard: 'admin',
    params: { username: Username },
    body: UserChangeBody,
    replies: {
      200: json('The user as changed.', replies.UserProfile),
      404: 'No such user.',
      409: 'The last admin cannot be demoted.',
    },
  },
  {
    method: 'delete',
    path: '/api/users/{username}',
    operationId: 'deleteUser',
    tag: 'users',
    summary: 'Delete a user (their sockets are closed)',
    guard: 'admin',
    params: { username: Username },
    replies: { 204: noContent, 404: 'No such user.', 409: 'The last admin cannot be deleted.' },
  },

  // — devices —
  {
    method: 'get',
    path: '/api/devices',
    operationId: 'listDevices',
    tag: 'devices',
    summary: 'The devices this user may access, a page at a time',
    description: 'Without limit, every device on one page. Follow next_cursor for the next page.',
    guard: 'user',
    query: DeviceListQuery.entries,
    replies: {
      200: json('A page of devices.', replies.DevicePage),
      400: json('A query parameter out of range.', replies.InvalidRequest),
    },
  },
  {
    method: 'post',
    path: '/api/devices',
    operationId: 'registerDevice',
    tag: 'devices',
    summary: 'Register a device: its key is answered once',
    guard: 'admin',
    body: NewDeviceBody,
    replies: { 201: json('Registered.', replies.NewDeviceReply), 409: 'A device with this id exists.' },
  },
  {
    method: 'get',
    path: '/api/devices/{id}',
    operationId: 'getDevice',
    tag: 'devices',
    summary: 'One device',
    guard: 'user',
    params: { id: DeviceId },
    replies: { 200: json('The device.', replies.DeviceInfo), 404: deviceNotFound },
  },
  {
    method: 'delete',
    path: '/api/devices/{id}',
    operationId: 'removeDevice',
    tag: 'devices',
    summary: 'Remove a device: it is disconnected, its own presets go with it',
    guard: 'admin',
    params: { id: DeviceId },
    replies: { 204: noContent, 404: 'No such device.' },
  },
  {
    method: 'get',
    path: '/api/devices/{id}/state',
    operationId: 'getState',
    tag: 'devices',
    summary: "The device's camera state",
    guard: 'user',
    params: { id: DeviceId },
    replies: { 200: json('Every stored key.', CameraState, SEQ_HEADER), 404: deviceNotFound },
  },
  {
    method: 'patch',
    path: '/api/devices/{id}/state',
    operationId: 'changeState',
    tag: 'devices',
    summary: 'Change the camera state: all the keys or none',
    description:
      'The rules of /api/v1: writing needs the operator role (camera-name: admin). The change is stored before it is answered and reaches every client of the device.',
    guard: 'user',
    params: { id: DeviceId },
    body: StateChangesBody,
    replies: {
      200: json('The values applied, normalised.', CameraState, SEQ_HEADER),
      400: invalidChange('A body that is not an object'),
      403: json('A key this user may not write ("Permission denied").', replies.StateError),
      404: deviceNotFound,
    },
  },
  {
    method: 'get',
    path: '/api/devices/{id}/history',
    operationId: 'getHistory',
    tag: 'devices',
    summary: 'Accepted changes, newest first, with who made them and how',
    description: 'limit defaults to 50. Page back with before=<the last seq you got>.',
    guard: 'user',
    params: { id: DeviceId },
    query: HistoryQuery.entries,
    replies: {
      200: json('The changes.', replies.History),
      400: json('A query parameter out of range.', replies.InvalidRequest),
      404: deviceNotFound,
    },
  },

  // — presets —
  {
    method: 'get',
    path: '/api/presets',
    operationId: 'listPresets',
    tag: 'presets',
    summary: "The shared presets, and with ?device= that device's own",
    guard: 'user',
    query: { device: v.optional(DeviceId) },
    replies: { 200: json('The presets.', replies.PresetList), 404: deviceNotFound },
  },
  {
    method: 'post',
    path: '/api/presets',
    operationId: 'createPreset',
    tag: 'presets',
    summary: "Save a preset: a device's own (operator) or shared (admin)",
    guard: 'operator',
    body: NewPresetBody,
    replies: {
      201: json('Saved.', replies.Preset),
      400: invalidChange('An invalid body'),
      403: 'Presets need the operator role (shared ones: admin); or a key this user may not write.',
      404: deviceNotFound,
      409: "A preset with this name exists (among the device's own or the shared), or there are too many.",
    },
  },
  {
    method: 'put',
    path: '/api/presets/{id}',
    operationId: 'replacePreset',
    tag: 'presets',
    summary: "Replace a preset's name and values",
    guard: 'operator',
    params: { id: PresetId },
    body: PresetBody,
    replies: {
      200: json('Saved.', replies.Preset),
      400: invalidChange('An invalid body'),
      403: 'Presets need the operator role (shared ones: admin); or a key this user may not write.',
      404: presetNotFound,
      409: 'A preset with this name exists.',
    },
  },
  {
    method: 'delete',
    path: '/api/presets/{id}',
    operationId: 'deletePreset',
    tag: 'presets',
    summary: 'Delete a preset',
    guard: 'operator',
    params: { id: PresetId },
    replies: { 204: noContent, 403: 'Presets need the operator role (shared ones: admin).', 404: presetNotFound },
  },
  {
    method: 'post',
    path: '/api/presets/{id}/apply',
    operationId: 'applyPreset',
    tag: 'presets',
    summary: 'Apply a preset to devices: one all-or-nothing change each',
    description: "devices defaults to the preset's own device; a shared preset needs them named.",
    guard: 'user',
    params: { id: PresetId },
    body: ApplyBody,
    replies: {
      200: json('A result per device; a device this user may not access is "Device not found".', replies.ApplyReply),
      404: presetNotFound,
    },
  },

  // — schedules —
  {
    method: 'get',
    path: '/api/schedules',
    operationId: 'listSchedules',
    tag: 'schedules',
    summary: 'The schedules whose devices this user may all access',
    guard: 'user',
    replies: { 200: json('The schedules, with next_runs and last_run.', replies.ScheduleList) },
  },
  {
    method: 'post',
    path: '/api/schedules',
    operationId: 'createSchedule',
    tag: 'schedules',
    summary: 'Create a schedule: a preset or values, by cron in a time zone or once at a time',
    guard: 'operator',
    body: NewScheduleBody,
    replies: {
      201: json('Created (stored before this answer).', replies.Schedule),
      400: invalidChange('An invalid body, cron expression, time zone, time or preset (field names it)'),
      403: 'Schedules need the operator role; or a key this user may not write.',
      404: 'A device named that does not exist or this user may not access.',
      409: 'Too many schedules.',
    },
  },
  {
    method: 'patch',
    path: '/api/schedules/{id}',
    operationId: 'changeSchedule',
    tag: 'schedules',
    summary: 'Change a schedule: the fields given replace the old ones',
    guard: 'operator',
    params: { id: ScheduleId },
    body: ScheduleChangeBody,
    replies: {
      200: json('The schedule as changed.', replies.Schedule),
      400: invalidChange('An invalid body, cron expression, time zone, time or preset (field names it)'),
      403: 'Schedules need the operator role; or a key this user may not write.',
      404: scheduleNotFound,
    },
  },
  {
    method: 'delete',
    path: '/api/schedules/{id}',
    operationId: 'deleteSchedule',
    tag: 'schedules',
    summary: 'Delete a schedule',
    guard: 'operator',
    params: { id: ScheduleId },
    replies: { 204: noContent, 403: 'Schedules need the operator role.', 404: scheduleNotFound },
  },

  // — sockets —
  socket(
    '/ws/device',
    'deviceSocket',
    'The device side of the envelope protocol',
    'Hello with {device_id, key}; signaling, heartbeats and settings (docs/protocol.md).',
  ),
  socket(
    '/ws/viewer',
    'viewerSocket',
    'The viewer side of the envelope protocol',
    'Hello with {token}; watch, signal, subscribe and state (docs/protocol.md).',
  ),
  socket(
    '/api/v1',
    'apiV1Socket',
    "Seed 002's JSON camera-state protocol",
    'Key/value sets, gets and broadcasts (docs/api-v1.md).',
    {
      ...deviceQuery,
      since: v.optional(SinceParam),
    },
  ),
  socket(
    '/ws/camera/',
    'cameraSocket',
    "Seed 001's binary protobuf channel",
    'One camera_control message per binary frame; credentials by Authorization: Bearer (device key or user JWT), or ?key= / ?token= (docs/camera.md).',
    cameraQuery,
  ),
  socket(
    '/ws/camera',
    'cameraSocketNoSlash',
    "Seed 001's binary protobuf channel (without the slash)",
    'The same as /ws/camera/.',
    cameraQuery,
  ),
];

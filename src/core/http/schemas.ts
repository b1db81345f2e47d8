import * as v from 'valibot';
import { Role } from '../auth/tokens.ts';
import { DeviceId } from '../envelope/schema.ts';
import { Changes } from '../state/model.ts';

/**
 * Every HTTP body and query the API accepts. GET /api/openapi.json is generated from these same
 * schemas (http/openapi/), so a `description` here is what the document says about a field.
 */

export const Username = v.pipe(
  v.string('username must be a string'),
  v.regex(/^[A-Za-z0-9._@-]{1,64}$/, 'username must be 1-64 characters of A-Z a-z 0-9 . _ @ -'),
);

export const LoginBody = v.object({
  username: v.pipe(v.string('username must be a string'), v.maxLength(64, 'username is too long')),
  password: v.pipe(v.string('password must be a string'), v.maxLength(256, 'password is too long')),
});

const Password = v.pipe(
  v.string('password must be a string'),
  v.minLength(8, 'password must be at least 8 characters'),
  v.maxLength(256, 'password must be at most 256 characters'),
);
const UserRole = v.picklist(Role.options, 'role must be admin, operator or viewer');
const AllowList = v.nullable(v.pipe(v.array(DeviceId, 'devices must be a list of device ids'), v.maxLength(1000)));

export const NewUserBody = v.object({
  username: Username,
  password: Password,
  role: UserRole,
  devices: v.optional(AllowList),
});

/** PATCH /api/users/:username: any of these; `devices: null` lifts the allow-list. */
export const UserChangeBody = v.pipe(
  v.strictObject(
    { password: v.optional(Password), role: v.optional(UserRole), devices: v.optional(AllowList) },
    'only password, role and devices can be changed',
  ),
  v.description('Any of password, role and devices (at least one); `devices: null` lifts the allow-list.'),
  v.check((body) => Object.keys(body).length > 0, 'send at least one of password, role, devices'),
);

export const NewDeviceBody = v.object({
  device_id: DeviceId,
  name: v.optional(
    v.pipe(v.string('name must be a string'), v.minLength(1), v.maxLength(64, 'name must be at most 64 characters')),
  ),
});

export { DeviceId };

/** A query parameter that is a whole number in [min, max], or absent. */
const wholeNumber = (name: string, min: number, max: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, `${name} must be a whole number`),
      // Before the transform: the document describes what is sent, a string of digits.
      v.description(`A whole number from ${min} to ${max}.`),
      v.transform(Number),
      v.minValue(min, `${name} must be at least ${min}`),
      v.maxValue(max, `${name} must be at most ${max}`),
    ),
  );

/** PATCH /api/devices/:id/state: an object of key: value; each key is checked against the camera state by its room. */
export const StateChangesBody = Changes('body must be an object of key: value');

/** GET /api/devices' query: a page of the listing, optionally only the devices whose id or name contains `q`. */
export const DeviceListQuery = v.object({
  limit: wholeNumber('limit', 1, 1000),
  cursor: v.optional(
    v.pipe(
      v.string('cursor must be a string'),
      v.regex(/^[A-Za-z0-9_-]{1,128}$/, 'cursor must be a next_cursor this server gave'),
      v.description("The previous page's next_cursor, as it was given."),
    ),
  ),
  q: v.optional(
    v.pipe(
      v.string('q must be a string'),
      v.maxLength(64, 'q must be at most 64 characters'),
      v.description('Only devices whose id or name contains this, ignoring case.'),
    ),
  ),
});

/** `?since=` of /api/v1: the last sequence number the client saw. */
export const SinceParam = v.pipe(
  v.string(),
  v.regex(/^\d{1,15}$/, 'since must be a sequence number'),
  v.description('The last state sequence number this client saw: it gets what it missed since.'),
);

/** GET /api/devices/:id/history's query. */
export const HistoryQuery = v.object({
  limit: wholeNumber('limit', 1, 1000),
  before: wholeNumber('before', 1, Number.MAX_SAFE_INTEGER),
});

const PresetName = v.pipe(
  v.string('name must be a string'),
  v.trim(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(64, 'name must be at most 64 characters'),
);
/** A preset's or schedule's values: any object here; each key is checked against the camera state by the route. */
export const StateValues = Changes('values must be an object of key: value');

export const NewPresetBody = v.object({ name: PresetName, values: StateValues, device_id: v.optional(DeviceId) });
export const PresetBody = v.object({ name: PresetName, values: StateValues });
export const ApplyBody = v.object({
  devices: v.optional(
    v.pipe(
      v.array(DeviceId, 'devices must be a list of device ids'),
      v.minLength(1, 'devices must name at least one device'),
      v.maxLength(1000, 'devices may name at most 1000 devices'),
    ),
  ),
});

const ScheduleFields = {
  name: v.optional(PresetName),
  devices: v.pipe(
    v.array(DeviceId, 'devices must be a list of device ids'),
    v.minLength(1, 'devices must name at least one device'),
    v.maxLength(1000, 'devices may name at most 1000 devices'),
  ),
  preset_id: v.pipe(v.string('preset_id must be a string'), v.maxLength(64, 'preset_id is too long')),
  values: StateValues,
  cron: v.pipe(v.string('cron must be a string'), v.maxLength(200, 'cron is too long')),
  at: v.pipe(
    v.string('at must be a string'),
    v.regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/,
      'at must be an ISO 8601 time with Z or an offset',
    ),
  ),
  timezone: v.pipe(v.string('timezone must be a string'), v.maxLength(64, 'timezone is too long')),
  enabled: v.boolean('enabled must be true or false'),
};

/** Every field optional: a new schedule needs only `devices`; a change may give any of them. */
const OptionalScheduleFields = v.partial(v.object(ScheduleFields)).entries;

export const NewScheduleBody = v.pipe(
  v.object({ ...OptionalScheduleFields, devices: ScheduleFields.devices }),
  v.description('Give either preset_id or values, and either cron or at.'),
  v.check((body) => (body.preset_id === undefined) !== (body.values === undefined), 'give either preset_id or values'),
  v.check((body) => (body.cron === undefined) !== (body.at === undefined), 'give either cron or at'),
);

/** PATCH /api/schedules/:id: the fields given replace the old ones. */
export const ScheduleChangeBody = v.pipe(
  v.strictObject(OptionalScheduleFields, 'only name, devices, preset_id, values, cron, at, timezone and enabled can be changed'),
  v.description('The fields given replace the old ones: preset_id replaces values and the other way round, cron replaces at.'),
  v.check((body) => body.preset_id === undefined || body.values === undefined, 'give preset_id or values, not both'),
  v.check((body) => body.cron === undefined || body.at === undefined, 'give cron or at, not both'),
);

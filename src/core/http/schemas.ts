import * as v from 'valibot';
import { Role } from '../auth/tokens.ts';
import { DeviceId } from '../envelope/schema.ts';

/** Every HTTP body the API accepts. */

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
  v.check((body) => Object.keys(body).length > 0, 'send at least one of password, role, devices'),
);

export const NewDeviceBody = v.object({
  device_id: DeviceId,
  name: v.optional(
    v.pipe(v.string('name must be a string'), v.minLength(1), v.maxLength(64, 'name must be at most 64 characters')),
  ),
});

export { DeviceId };

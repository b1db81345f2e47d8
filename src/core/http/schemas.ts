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

export const NewUserBody = v.object({
  username: Username,
  password: v.pipe(
    v.string('password must be a string'),
    v.minLength(8, 'password must be at least 8 characters'),
    v.maxLength(256, 'password must be at most 256 characters'),
  ),
  role: v.picklist(Role.options, 'role must be admin, operator or viewer'),
  devices: v.optional(v.nullable(v.pipe(v.array(DeviceId, 'devices must be a list of device ids'), v.maxLength(1000)))),
});

export const NewDeviceBody = v.object({
  device_id: DeviceId,
  name: v.optional(
    v.pipe(v.string('name must be a string'), v.minLength(1), v.maxLength(64, 'name must be at most 64 characters')),
  ),
});

export { DeviceId };

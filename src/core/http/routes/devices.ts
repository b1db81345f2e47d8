import { Hono } from 'hono';
import * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { hashDeviceKey, newDeviceKey } from '../../auth/device-key.ts';
import type { Profile } from '../../contract.ts';
import { describeIssues } from '../../envelope/schema.ts';
import type { Services } from '../../ports.ts';
import { isRegistered, shardOf } from '../../rooms/registry-room.ts';
import { unknownChangeKey } from '../../state/model.ts';
import { readBody, stateErrorStatus } from '../body.ts';
import { decodeCursor, listDevices } from '../device-listing.ts';
import type { Env } from '../env.ts';
import type { Guards } from '../guards.ts';
import { DeviceId, DeviceListQuery, HistoryQuery, NewDeviceBody, StateChangesBody } from '../schemas.ts';

/** Devices: the listing, one device, registering and removing (admins), its camera state and its history. */
export function devices(services: Services, { requireUser, requireAdmin }: Guards): Hono<Env> {
  const { rooms, log, clock } = services;
  const app = new Hono<Env>();
  app.use(requireUser);

  /** A device id from a request that names a registered device this user may access: only then is its room asked. */
  const reachable = async (user: Profile, id: string) =>
    v.is(DeviceId, id) && mayAccess(user, id) && (await isRegistered(rooms, id));
  const notFound = (id: string) => ({ error: 'Device not found', device_id: id }) as const;

  return app
    .get('/', async (c) => {
      const query = v.safeParse(DeviceListQuery, c.req.query());
      if (!query.success) return c.json({ error: 'Invalid request', message: describeIssues(query.issues, 'query') }, 400);
      const { limit, cursor, q } = query.output;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && after === undefined)
        return c.json({ error: 'Invalid request', message: 'cursor must be a next_cursor this server gave' }, 400);
      return c.json(await listDevices(rooms, c.get('user'), { limit, after, q }));
    })
    .get('/:id', async (c) => {
      const id = c.req.param('id');
      const info = (await reachable(c.get('user'), id)) ? await rooms.device(id).info() : null;
      return info ? c.json(info) : c.json(notFound(id), 404);
    })
    .post('/', requireAdmin, async (c) => {
      const body = await readBody(c, NewDeviceBody);
      if (body instanceof Response) return body;
      const entry = { device_id: body.device_id, name: body.name ?? body.device_id };
      if (!(await rooms.directory().addDevice(entry)))
        return c.json({ error: 'Device already exists', device_id: entry.device_id }, 409);
      await rooms.registry(shardOf(entry.device_id)).add(entry);
      const key = newDeviceKey();
      const registration = { ...entry, key: await hashDeviceKey(key), created_at: new Date(clock.now()).toISOString() };
      const device = rooms.device(entry.device_id);
      // A leftover room (a removal cut short) is cleared first.
      if ((await device.register(registration)) === 'exists') {
        await device.unregister();
        await device.register(registration);
      }
      log.info('device registered', { device: entry.device_id, by: c.get('user').username });
      return c.json({ device_id: entry.device_id, name: entry.name, key }, 201);
    })
    .delete('/:id', requireAdmin, async (c) => {
      const id = c.req.param('id');
      if (!v.is(DeviceId, id) || !(await rooms.directory().removeDevice(id))) return c.json(notFound(id), 404);
      await rooms.registry(shardOf(id)).remove(id);
      await rooms.device(id).unregister();
      await rooms.presets().removeDevice(id);
      await rooms.schedules().removeDevice(id);
      log.info('device removed', { device: id, by: c.get('user').username });
      return c.body(null, 204);
    })
    .get('/:id/state', async (c) => {
      const id = c.req.param('id');
      const read = (await reachable(c.get('user'), id)) ? await rooms.device(id).readState() : null;
      if (!read) return c.json(notFound(id), 404);
      c.header('X-State-Seq', String(read.seq));
      return c.json(read.state);
    })
    .get('/:id/history', async (c) => {
      const id = c.req.param('id');
      const query = v.safeParse(HistoryQuery, c.req.query());
      if (!query.success) return c.json({ error: 'Invalid request', message: describeIssues(query.issues, 'query') }, 400);
      const { limit = 50, before } = query.output;
      const changes = (await reachable(c.get('user'), id)) ? await rooms.device(id).history(limit, before) : null;
      return changes ? c.json({ changes }) : c.json(notFound(id), 404);
    })
    .patch('/:id/state', async (c) => {
      const id = c.req.param('id');
      const user = c.get('user');
      if (!(await reachable(user, id))) return c.json(notFound(id), 404);
      const body = await readBody(c, StateChangesBody);
      if (body instanceof Response) return body;
      const unknown = unknownChangeKey(body);
      if (unknown !== null) return c.json({ error: 'Unknown key', key: unknown }, 400);
      const actor = { kind: 'user', username: user.username, role: user.role } as const;
      const result = await rooms.device(id).applyChanges(actor, body, { via: 'http' });
      if (!result) return c.json(notFound(id), 404);
      if (!result.ok) return c.json(result.error, stateErrorStatus(result.error));
      c.header('X-State-Seq', String(result.seq));
      return c.json(result.applied);
    });
}

import { Hono } from 'hono';
import * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { atLeast } from '../../auth/roles.ts';
import type { Preset, PresetSaved, Profile } from '../../contract.ts';
import type { Services } from '../../ports.ts';
import { MAX_PRESETS_PER_OWNER } from '../../rooms/preset-room.ts';
import { isRegistered } from '../../rooms/registry-room.ts';
import { checkSavedValues } from '../../state/model.ts';
import { readBody, stateErrorStatus } from '../body.ts';
import type { Env } from '../env.ts';
import type { Guards } from '../guards.ts';
import { ApplyBody, DeviceId, NewPresetBody, PresetBody } from '../schemas.ts';

/**
 * Presets: named camera-state values, a device's own or shared. Anyone may read the shared ones and
 * those of the devices they may access; a device's own need an operator with access to it to change,
 * shared ones an admin. Applying is a normal change to each device, all or nothing per device.
 */
export function presets(services: Services, { requireUser }: Guards): Hono<Env> {
  const { rooms, log } = services;
  const app = new Hono<Env>();
  app.use(requireUser);

  const reachable = async (user: Profile, id: string) =>
    v.is(DeviceId, id) && mayAccess(user, id) && (await isRegistered(rooms, id));
  /** A preset this user may see: shared, or of a device they may access. */
  const visible = async (user: Profile, id: string): Promise<Preset | null> => {
    const preset = await rooms.presets().get(id);
    if (!preset) return null;
    return preset.device_id === undefined || mayAccess(user, preset.device_id) ? preset : null;
  };
  const mayChange = (user: Profile, device: string | undefined) =>
    device === undefined ? user.role === 'admin' : atLeast(user.role, 'operator');
  const forbidden = (device: string | undefined) => ({
    error: device === undefined ? 'Forbidden: shared presets need the admin role' : 'Forbidden: presets need the operator role',
  });
  const notFound = (id: string) => ({ error: 'Preset not found', preset_id: id });
  const refused = (saved: Exclude<PresetSaved, { ok: true }>, name: string) =>
    saved.reason === 'name_taken'
      ? ({ status: 409, body: { error: 'A preset with this name already exists', name } } as const)
      : saved.reason === 'too_many'
        ? ({ status: 409, body: { error: 'Too many presets', max: MAX_PRESETS_PER_OWNER } } as const)
        : ({ status: 404, body: { error: 'Preset not found' } } as const);

  return app
    .get('/', async (c) => {
      const device = c.req.query('device');
      if (device !== undefined && !(await reachable(c.get('user'), device)))
        return c.json({ error: 'Device not found', device_id: device }, 404);
      return c.json({ presets: await rooms.presets().list(device) });
    })
    .post('/', async (c) => {
      const user = c.get('user');
      const body = await readBody(c, NewPresetBody);
      if (body instanceof Response) return body;
      if (!mayChange(user, body.device_id)) return c.json(forbidden(body.device_id), 403);
      if (body.device_id !== undefined && !(await reachable(user, body.device_id)))
        return c.json({ error: 'Device not found', device_id: body.device_id }, 404);
      const checked = checkSavedValues(actorOf(user), body.values);
      if (!checked.ok) return c.json(checked.error, stateErrorStatus(checked.error));
      const preset: Preset = { id: crypto.randomUUID(), name: body.name, values: checked.values };
      if (body.device_id !== undefined) preset.device_id = body.device_id;
      const saved = await rooms.presets().create(preset);
      if (!saved.ok) {
        const { status, body: error } = refused(saved, body.name);
        return c.json(error, status);
      }
      log.info('preset created', { preset: preset.id, device: preset.device_id, by: user.username });
      return c.json(saved.preset, 201);
    })
    .put('/:id', async (c) => {
      const user = c.get('user');
      const id = c.req.param('id');
      const current = await visible(user, id);
      if (!current) return c.json(notFound(id), 404);
      if (!mayChange(user, current.device_id)) return c.json(forbidden(current.device_id), 403);
      const body = await readBody(c, PresetBody);
      if (body instanceof Response) return body;
      const checked = checkSavedValues(actorOf(user), body.values);
      if (!checked.ok) return c.json(checked.error, stateErrorStatus(checked.error));
      const saved = await rooms.presets().update(id, { name: body.name, values: checked.values });
      if (!saved.ok) {
        const { status, body: error } = refused(saved, body.name);
        return c.json(error, status);
      }
      log.info('preset changed', { preset: id, by: user.username });
      return c.json(saved.preset);
    })
    .delete('/:id', async (c) => {
      const user = c.get('user');
      const id = c.req.param('id');
      const current = await visible(user, id);
      if (!current) return c.json(notFound(id), 404);
      if (!mayChange(user, current.device_id)) return c.json(forbidden(current.device_id), 403);
      await rooms.presets().remove(id);
      log.info('preset deleted', { preset: id, by: user.username });
      return c.body(null, 204);
    })
    .post('/:id/apply', async (c) => {
      const user = c.get('user');
      const id = c.req.param('id');
      const preset = await visible(user, id);
      if (!preset) return c.json(notFound(id), 404);
      const body = await readBody(c, ApplyBody);
      if (body instanceof Response) return body;
      const devices = body.devices ?? (preset.device_id !== undefined ? [preset.device_id] : undefined);
      if (!devices)
        return c.json({ error: 'Invalid request', message: 'devices: name the devices to apply a shared preset to' }, 400);
      const actor = actorOf(user);
      const results = await Promise.all(
        [...new Set(devices)].map(async (device) => {
          const applied = (await reachable(user, device))
            ? await rooms.device(device).applyChanges(actor, preset.values, { via: 'preset' })
            : null;
          if (!applied) return [device, { ok: false, error: 'Device not found' }] as const;
          if (!applied.ok) return [device, { ok: false, ...applied.error }] as const;
          return [device, { ok: true, seq: applied.seq, applied: applied.applied }] as const;
        }),
      );
      log.info('preset applied', { preset: id, devices: devices.length, by: user.username });
      return c.json({ results: Object.fromEntries(results) });
    });
}

function actorOf(user: Profile) {
  return { kind: 'user', username: user.username, role: user.role } as const;
}

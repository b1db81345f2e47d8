import { Hono } from 'hono';
import * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { atLeast } from '../../auth/roles.ts';
import type { Profile, Schedule, SchedulePlan } from '../../contract.ts';
import type { Services } from '../../ports.ts';
import { isRegistered } from '../../rooms/registry-room.ts';
import { MAX_SCHEDULES } from '../../rooms/schedule-room.ts';
import { cronProblem, isTimeZone, nextRuns } from '../../schedule/times.ts';
import type { State } from '../../state/keys.ts';
import { checkSavedValues } from '../../state/model.ts';
import { readBody, stateErrorStatus } from '../body.ts';
import type { Env } from '../env.ts';
import type { Guards } from '../guards.ts';
import { DeviceId, NewScheduleBody, ScheduleChangeBody } from '../schemas.ts';

/**
 * Schedules: a preset or values applied to devices by cron (in a time zone) or once `at` a time. They
 * are stored here (the schedules room, for listings) and in each device room they name, which runs
 * them on its own alarm (rooms/device/schedules.ts). A user sees and changes the schedules whose
 * devices they may all access; changing them needs the operator role.
 */
export function schedules(services: Services, { requireUser }: Guards): Hono<Env> {
  const { rooms, log, clock } = services;
  const app = new Hono<Env>();
  app.use(requireUser);

  const mayManage = (user: Profile, schedule: Pick<Schedule, 'devices'>) => schedule.devices.every((d) => mayAccess(user, d));
  const listed = (schedule: Schedule) => {
    const now = clock.now();
    const runs = schedule.enabled ? nextRuns(schedule, now, 3) : [];
    const { since: _since, ...shown } = schedule;
    return { ...shown, next_runs: runs.map((at) => new Date(at).toISOString()) };
  };
  const invalid = (field: string, message: string) => ({ error: 'Invalid request', field, message });

  /** The checks every saved schedule passes; the error response, or null. */
  const check = async (user: Profile, schedule: Schedule, timingChanged: boolean) => {
    if (!atLeast(user.role, 'operator'))
      return { status: 403, body: { error: 'Forbidden: schedules need the operator role' } } as const;
    for (const device of schedule.devices) {
      if (!v.is(DeviceId, device) || !mayAccess(user, device) || !(await isRegistered(rooms, device)))
        return { status: 404, body: { error: 'Device not found', device_id: device } } as const;
    }
    if (schedule.values !== undefined) {
      const checked = checkSavedValues({ kind: 'user', username: user.username, role: user.role }, schedule.values);
      if (!checked.ok) return { status: stateErrorStatus(checked.error), body: checked.error } as const;
      schedule.values = checked.values;
    }
    if (schedule.preset_id !== undefined) {
      const preset = await rooms.presets().get(schedule.preset_id);
      if (!preset || (preset.device_id !== undefined && !mayAccess(user, preset.device_id)))
        return { status: 400, body: invalid('preset_id', `no preset ${schedule.preset_id}`) } as const;
    }
    if (!isTimeZone(schedule.timezone))
      return {
        status: 400,
        body: invalid('timezone', `timezone must be an IANA time zone name such as Europe/Berlin, not ${schedule.timezone}`),
      } as const;
    if (schedule.cron !== undefined) {
      const problem = cronProblem(schedule.cron, schedule.timezone);
      if (problem) return { status: 400, body: invalid('cron', problem) } as const;
    }
    if (schedule.at !== undefined && schedule.enabled && (timingChanged || !schedule.last_run)) {
      const at = Date.parse(schedule.at);
      if (!Number.isFinite(at)) return { status: 400, body: invalid('at', 'at is not a valid time') } as const;
      if (at <= clock.now()) return { status: 400, body: invalid('at', 'at must be in the future') } as const;
      schedule.at = new Date(at).toISOString();
    }
    return null;
  };

  /** Each device named keeps its copy; devices no longer named drop theirs. */
  const distribute = async (schedule: Schedule, previous: string[] = []) => {
    const plan: SchedulePlan = {
      id: schedule.id,
      timezone: schedule.timezone,
      enabled: schedule.enabled,
      since: schedule.since,
      created_by: schedule.created_by,
      ...(schedule.preset_id !== undefined ? { preset_id: schedule.preset_id } : { values: schedule.values }),
      ...(schedule.cron !== undefined ? { cron: schedule.cron } : { at: schedule.at }),
    };
    await Promise.all([
      ...schedule.devices.map((device) => rooms.device(device).setSchedule(plan)),
      ...previous.filter((d) => !schedule.devices.includes(d)).map((device) => rooms.device(device).removeSchedule(schedule.id)),
    ]);
  };

  return app
    .get('/', async (c) => {
      const user = c.get('user');
      const all = await rooms.schedules().list();
      return c.json({ schedules: all.filter((s) => mayManage(user, s)).map(listed) });
    })
    .post('/', async (c) => {
      const user = c.get('user');
      const body = await readBody(c, NewScheduleBody);
      if (body instanceof Response) return body;
      if ((await rooms.schedules().list()).length >= MAX_SCHEDULES)
        return c.json({ error: 'Too many schedules', max: MAX_SCHEDULES }, 409);
      const now = clock.now();
      const schedule: Schedule = {
        id: crypto.randomUUID(),
        ...(body.name !== undefined ? { name: body.name } : {}),
        devices: [...new Set(body.devices)],
        // Checked (and made canonical) by `check` before it is stored.
        ...(body.preset_id !== undefined ? { preset_id: body.preset_id } : { values: body.values as State }),
        ...(body.cron !== undefined ? { cron: body.cron.trim() } : { at: body.at }),
        timezone: body.timezone ?? 'UTC',
        enabled: body.enabled ?? true,
        created_by: user.username,
        created_at: new Date(now).toISOString(),
        since: now,
      };
      const refused = await check(user, schedule, true);
      if (refused) return c.json(refused.body, refused.status);
      // Stored before the answer, as a state change is before its acknowledgement.
      await rooms.schedules().put(schedule);
      await distribute(schedule);
      log.info('schedule created', { schedule: schedule.id, devices: schedule.devices.length, by: user.username });
      return c.json(listed(schedule), 201);
    })
    .patch('/:id', async (c) => {
      const user = c.get('user');
      const id = c.req.param('id');
      const current = await rooms.schedules().get(id);
      if (!current || !mayManage(user, current)) return c.json({ error: 'Schedule not found', schedule_id: id }, 404);
      const body = await readBody(c, ScheduleChangeBody);
      if (body instanceof Response) return body;
      const next: Schedule = { ...current, since: clock.now() };
      if (body.name !== undefined) next.name = body.name;
      if (body.devices !== undefined) next.devices = [...new Set(body.devices)];
      if (body.timezone !== undefined) next.timezone = body.timezone;
      if (body.enabled !== undefined) next.enabled = body.enabled;
      if (body.preset_id !== undefined) {
        next.preset_id = body.preset_id;
        delete next.values;
      }
      if (body.values !== undefined) {
        next.values = body.values as State;
        delete next.preset_id;
      }
      if (body.cron !== undefined) {
        next.cron = body.cron.trim();
        delete next.at;
      }
      if (body.at !== undefined) {
        next.at = body.at;
        delete next.cron;
      }
      const timingChanged = body.at !== undefined || body.cron !== undefined || body.enabled === true;
      const refused = await check(user, next, timingChanged);
      if (refused) return c.json(refused.body, refused.status);
      await rooms.schedules().put(next);
      await distribute(next, current.devices);
      log.info('schedule changed', { schedule: id, by: user.username });
      return c.json(listed(next));
    })
    .delete('/:id', async (c) => {
      const user = c.get('user');
      const id = c.req.param('id');
      const current = await rooms.schedules().get(id);
      if (!current || !mayManage(user, current)) return c.json({ error: 'Schedule not found', schedule_id: id }, 404);
      if (!atLeast(user.role, 'operator')) return c.json({ error: 'Forbidden: schedules need the operator role' }, 403);
      await rooms.schedules().remove(id);
      await Promise.all(current.devices.map((device) => rooms.device(device).removeSchedule(id)));
      log.info('schedule deleted', { schedule: id, by: user.username });
      return c.body(null, 204);
    });
}

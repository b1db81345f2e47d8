import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** Schedules: checked when saved, listed with their next runs, run on their second by the device rooms. */

let server: TestServer;
let admin: string;
let operator: string;
let viewer: string;

before(async () => {
  server = await startServer();
  admin = await login(server.url);
  for (const id of ['s-1', 's-2', 's-3', 's-4', 'private']) await registerDevice(server.url, admin, id);
  operator = await createUser(server.url, admin, 'sched-op', 'operator', ['s-1', 's-2', 's-3', 's-4']);
  viewer = await createUser(server.url, admin, 'sched-viewer', 'viewer');
});
after(() => server.stop());

interface Listed {
  id: string;
  enabled: boolean;
  next_runs: string[];
  last_run?: { at: string; results: Record<string, { ok: boolean; seq?: number; error?: string }> };
  [field: string]: unknown;
}

const call = (method: string, path: string, token: string, body?: unknown) =>
  api(server.url, method, path, { token, ...(body !== undefined ? { body } : {}) });
const create = (body: Record<string, unknown>, token = operator) => call('POST', '/api/schedules', token, body);
const listed = async (id: string, token = operator): Promise<Listed | undefined> =>
  ((await call('GET', '/api/schedules', token)).body.schedules as Listed[]).find((s) => s.id === id);
const history = async (device: string) =>
  (await call('GET', `/api/devices/${device}/history`, admin)).body.changes as {
    at: string;
    by: string;
    via: string;
    changes: Record<string, unknown>;
  }[];

describe('saving', () => {
  test('bad cron, time zone or time: 400 naming the field; values checked as a preset’s', async () => {
    const base = { devices: ['s-1'], values: { brightness: 10 } };
    const cron = await create({ ...base, cron: '61 * * * *' });
    assert.deepEqual([cron.status, cron.body.field], [400, 'cron']);
    const fields = await create({ ...base, cron: '* * * *' });
    assert.deepEqual([fields.status, fields.body.field], [400, 'cron']);
    const zone = await create({ ...base, cron: '0 9 * * *', timezone: 'Mars/Olympus' });
    assert.deepEqual([zone.status, zone.body.field], [400, 'timezone']);
    const past = await create({ ...base, at: '2020-01-01T00:00:00Z' });
    assert.deepEqual([past.status, past.body.field], [400, 'at']);
    const noOffset = await create({ ...base, at: '2099-01-01T00:00:00' });
    assert.equal(noOffset.status, 400);
    const both = await create({ ...base, cron: '0 9 * * *', at: '2099-01-01T00:00:00Z' });
    assert.equal(both.status, 400);
    const value = await create({ devices: ['s-1'], values: { fps: 99 }, cron: '0 9 * * *' });
    assert.deepEqual([value.status, value.body.error, value.body.key], [400, 'Invalid value', 'fps']);
    const preset = await create({ devices: ['s-1'], preset_id: 'nope', cron: '0 9 * * *' });
    assert.deepEqual([preset.status, preset.body.field], [400, 'preset_id']);
  });

  test('roles and access: operator needed; every device must be accessible; others do not see it', async () => {
    assert.equal((await create({ devices: ['s-1'], values: { fps: 10 }, cron: '0 9 * * *' }, viewer)).status, 403);
    assert.equal((await create({ devices: ['s-1', 'private'], values: { fps: 10 }, cron: '0 9 * * *' })).status, 404);
    const mine = await create({ devices: ['s-1'], values: { fps: 10 }, cron: '0 9 * * *' });
    assert.equal(mine.status, 201);
    const other = await create({ devices: ['private'], values: { fps: 10 }, cron: '0 9 * * *' }, admin);
    assert.equal(other.status, 201);
    assert.ok(await listed(mine.body.id));
    assert.equal(await listed(other.body.id), undefined, 'a schedule over a device the user may not access is not listed');
    assert.ok(await listed(other.body.id, admin));
    assert.equal((await call('DELETE', `/api/schedules/${other.body.id}`, operator)).status, 404);
    assert.equal((await call('DELETE', `/api/schedules/${other.body.id}`, admin)).status, 204);
    assert.equal((await call('DELETE', `/api/schedules/${mine.body.id}`, operator)).status, 204);
  });

  test('next_runs: the next three, in the time zone, DST-correct; none when disabled', async () => {
    // 09:00 in New York on 1 March (EST, UTC-5) and 1 April (EDT, UTC-4).
    const made = await create({ devices: ['s-1'], values: { fps: 10 }, cron: '0 9 1 3,4 *', timezone: 'America/New_York' });
    assert.equal(made.status, 201);
    const runs = made.body.next_runs as string[];
    assert.equal(runs.length, 3);
    for (const run of runs) {
      const at = new Date(run);
      assert.equal(at.getUTCHours(), at.getUTCMonth() === 2 ? 14 : 13, run);
      assert.equal(at.getUTCDate(), 1);
    }
    const disabled = await call('PATCH', `/api/schedules/${made.body.id}`, operator, { enabled: false });
    assert.deepEqual([disabled.status, disabled.body.enabled, disabled.body.next_runs], [200, false, []]);
    await call('DELETE', `/api/schedules/${made.body.id}`, operator);
  });
  test('a removed device leaves the schedules naming it; a schedule left with no device goes', async () => {
    for (const id of ['gone-1', 'kept-1']) await registerDevice(server.url, admin, id);
    const both = await create({ devices: ['gone-1', 'kept-1'], values: { fps: 10 }, cron: '0 9 * * *' }, admin);
    const alone = await create({ devices: ['gone-1'], values: { fps: 12 }, cron: '0 9 * * *' }, admin);
    assert.deepEqual([both.status, alone.status], [201, 201]);
    assert.equal((await call('DELETE', '/api/devices/gone-1', admin)).status, 204);
    assert.deepEqual((await listed(both.body.id, admin))?.devices, ['kept-1']);
    assert.equal(await listed(alone.body.id, admin), undefined);
    await call('DELETE', `/api/schedules/${both.body.id}`, admin);
  });
});

describe('running', () => {
  test('a one-shot schedule runs within a second of its time, once, then shows enabled: false', async () => {
    const at = new Date(Date.now() + 2_500);
    at.setUTCMilliseconds(0);
    const made = await create({ devices: ['s-2', 's-3'], values: { brightness: 42 }, at: at.toISOString(), name: 'once' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.next_runs, [at.toISOString()]);
    const ran = await eventually(
      'the run reported by both devices',
      async () => {
        const run = (await listed(made.body.id))?.last_run;
        return run && Object.keys(run.results).length === 2 ? run : undefined;
      },
      { ms: 10_000 },
    );
    assert.equal(ran.at, at.toISOString());
    assert.equal(ran.results['s-2']?.ok, true);
    for (const device of ['s-2', 's-3']) {
      const [entry] = await history(device);
      assert.deepEqual([entry?.by, entry?.via, entry?.changes], [`schedule:${made.body.id}`, 'schedule', { brightness: 42 }]);
      const late = Date.parse(entry?.at ?? '') - at.getTime();
      assert.ok(late >= 0 && late < 1_000, `applied ${late} ms after its time`);
    }
    const after = await listed(made.body.id);
    assert.deepEqual([after?.enabled, after?.next_runs], [false, []]);
    assert.equal((await history('s-2')).filter((e) => e.via === 'schedule').length, 1);
  });

  test('a 6-field cron runs every 2 s with a preset; disabled, it stops', async () => {
    const preset = await call('POST', '/api/presets', operator, { name: 'Tick', values: { contrast: 77 }, device_id: 's-4' });
    const made = await create({ devices: ['s-4'], preset_id: preset.body.id, cron: '*/2 * * * * *' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const runs = await eventually(
      'two runs',
      async () => {
        const mine = (await history('s-4')).filter((e) => e.by === `schedule:${made.body.id}`);
        // Only the first run changes the value; later runs are changes too (a user's change always is).
        return mine.length >= 2 ? mine : undefined;
      },
      { ms: 10_000 },
    );
    for (const run of runs) assert.equal(new Date(run.at).getUTCSeconds() % 2, 0, run.at);
    assert.equal((await call('GET', '/api/devices/s-4/state', admin)).body.contrast, 77);
    await call('PATCH', `/api/schedules/${made.body.id}`, operator, { enabled: false });
    const count = (await history('s-4')).filter((e) => e.via === 'schedule').length;
    // A wait to show that nothing more happens: two periods of the cron.
    await sleep(4_500);
    assert.equal((await history('s-4')).filter((e) => e.via === 'schedule').length, count);
  });
});

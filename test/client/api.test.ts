import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EdgecamApi, EdgecamError, login } from '../../src/client/index.ts';
import { eventually } from '../helpers/eventually.ts';
import { registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** The SDK's HTTP client (devices, presets, schedules, history) against the real server. */

let server: TestServer;
let client: EdgecamApi;

before(async () => {
  server = await startServer();
  const { token } = await login(server.url, 'admin', ADMIN_PASSWORD);
  await registerDevice(server.url, token, 'sdk-cam');
  await registerDevice(server.url, token, 'sdk-other');
  client = new EdgecamApi(server.url, token);
});
after(() => server.stop());

test('devices: a page at a time, or every one through allDevices', async () => {
  const first = await client.devices({ limit: 1 });
  assert.deepEqual(
    first.devices.map((d) => d.device_id),
    ['sdk-cam'],
  );
  assert.ok(first.next_cursor);
  const second = await client.devices({ limit: 1, cursor: first.next_cursor });
  assert.deepEqual([second.devices[0]?.device_id, second.next_cursor], ['sdk-other', null]);
  const all: string[] = [];
  for await (const device of client.allDevices({ pageSize: 1 })) all.push(device.device_id);
  assert.deepEqual(all, ['sdk-cam', 'sdk-other']);
  assert.deepEqual(
    (await client.devices({ q: 'OTHER' })).devices.map((d) => d.device_id),
    ['sdk-other'],
  );
});

test('presets: create, list, apply to many with a result each, update, delete', async () => {
  const preset = await client.createPreset({ name: 'Evening', values: { brightness: 30 } });
  assert.deepEqual(preset.values, { brightness: 30 });
  assert.ok((await client.presets()).some((p) => p.id === preset.id));
  const results = await client.applyPreset(preset.id, ['sdk-cam', 'sdk-other', 'nope']);
  assert.equal(results['sdk-cam']?.ok, true);
  assert.equal(results['sdk-other']?.ok, true);
  assert.deepEqual(results.nope, { ok: false, error: 'Device not found' });
  const renamed = await client.updatePreset(preset.id, { name: 'Dusk', values: { brightness: 25 } });
  assert.equal(renamed.name, 'Dusk');
  await client.deletePreset(preset.id);
  assert.ok(!(await client.presets()).some((p) => p.id === preset.id));
});

test('a refused value is an EdgecamError with the status, the key and the detail', async () => {
  const error = await client.createPreset({ name: 'Bad', values: { fps: 500 } }).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof EdgecamError);
  assert.deepEqual([error.status, error.code, error.key], [400, 'bad_request', 'fps']);
  assert.match(error.detail ?? '', /between/);
});

test('schedules and history: a one-shot run shows up in both', async () => {
  const at = new Date(Date.now() + 1_500).toISOString();
  const schedule = await client.createSchedule({ devices: ['sdk-cam'], values: { contrast: 12 }, at, name: 'soon' });
  assert.deepEqual(schedule.next_runs, [new Date(at).toISOString()]);
  const ran = await eventually('the run', async () => (await client.schedules()).find((s) => s.id === schedule.id)?.last_run, {
    ms: 8_000,
  });
  assert.equal(ran.results['sdk-cam']?.ok, true);
  const [latest] = await client.history('sdk-cam', { limit: 1 });
  assert.deepEqual([latest?.by, latest?.via, latest?.changes], [`schedule:${schedule.id}`, 'schedule', { contrast: 12 }]);
  const paged = await client.history('sdk-cam', { limit: 1, before: latest?.seq });
  assert.ok((paged[0]?.seq ?? 0) < (latest?.seq ?? 0));
  await client.deleteSchedule(schedule.id);
  assert.deepEqual(
    (await client.schedules()).filter((s) => s.id === schedule.id),
    [],
  );
});

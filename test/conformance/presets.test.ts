import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** Presets: saved, checked, listed, applied to one device or many, with a result per device. */

let server: TestServer;
let admin: string;
let operator: string;
let viewer: string;
let limited: string;
const keys: Record<string, string> = {};

before(async () => {
  server = await startServer();
  admin = await login(server.url);
  for (const id of ['cam-a', 'cam-b', 'cam-c', 'doomed']) keys[id] = await registerDevice(server.url, admin, id);
  operator = await createUser(server.url, admin, 'otto', 'operator');
  viewer = await createUser(server.url, admin, 'vic', 'viewer');
  limited = await createUser(server.url, admin, 'lim', 'operator', ['cam-a']);
});
after(() => server.stop());

const call = (method: string, path: string, token: string, body?: unknown) =>
  api(server.url, method, path, { token, ...(body !== undefined ? { body } : {}) });
const state = async (device: string) => (await call('GET', `/api/devices/${device}/state`, admin)).body;

describe('saving', () => {
  test('a device preset: an operator with access saves it, canonical values, 201; names unique per owner (409)', async () => {
    const made = await call('POST', '/api/presets', operator, {
      name: 'Night',
      values: { brightness: 20, record: true },
      device_id: 'cam-a',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(typeof made.body.id, 'string');
    assert.deepEqual(
      [made.body.name, made.body.values, made.body.device_id],
      ['Night', { brightness: 20, record: 'on' }, 'cam-a'],
    );
    const again = await call('POST', '/api/presets', operator, { name: 'night', values: { brightness: 1 }, device_id: 'cam-a' });
    assert.equal(again.status, 409);
    const elsewhere = await call('POST', '/api/presets', operator, {
      name: 'Night',
      values: { brightness: 1 },
      device_id: 'cam-b',
    });
    assert.equal(elsewhere.status, 201, 'another device may have its own "Night"');
  });

  test("values are checked with PATCH's error bodies: unknown key, invalid value, a trigger, a read-only key", async () => {
    const save = (values: unknown, token = admin) => call('POST', '/api/presets', token, { name: `p-${Math.random()}`, values });
    const unknown = await save({ zoom: 2 });
    assert.deepEqual([unknown.status, unknown.body], [400, { error: 'Unknown key', key: 'zoom' }]);
    const invalid = await save({ fps: 99 });
    assert.deepEqual([invalid.status, invalid.body.error, invalid.body.key], [400, 'Invalid value', 'fps']);
    const trigger = await save({ snap: true });
    assert.deepEqual([trigger.status, trigger.body.error, trigger.body.key], [400, 'Invalid value', 'snap']);
    const proto = await call('POST', '/api/presets', admin, JSON.parse('{"name":"p","values":{"__proto__":{"a":1}}}'));
    assert.deepEqual([proto.status, proto.body], [400, { error: 'Unknown key', key: '__proto__' }]);
    const readOnly = await call('POST', '/api/presets', operator, {
      name: 'ro',
      values: { 'camera-name': 'x' },
      device_id: 'cam-a',
    });
    assert.deepEqual([readOnly.status, readOnly.body], [403, { error: 'Permission denied', key: 'camera-name' }]);
    const badName = await call('POST', '/api/presets', admin, { name: 'x'.repeat(65), values: { fps: 10 } });
    assert.equal(badName.status, 400);
  });

  test('roles: shared presets need admin; device presets need operator and access to the device', async () => {
    assert.equal((await call('POST', '/api/presets', operator, { name: 'Shared', values: { fps: 10 } })).status, 403);
    assert.equal(
      (await call('POST', '/api/presets', viewer, { name: 'V', values: { fps: 10 }, device_id: 'cam-a' })).status,
      403,
    );
    assert.equal(
      (await call('POST', '/api/presets', limited, { name: 'L', values: { fps: 10 }, device_id: 'cam-b' })).status,
      404,
    );
    assert.equal((await call('POST', '/api/presets', admin, { name: 'Day', values: { brightness: 80 } })).status, 201);
  });

  test('listing: shared ones, plus a device’s own with ?device=; PUT changes, DELETE removes', async () => {
    const shared = (await call('GET', '/api/presets', viewer)).body.presets as { name: string; device_id?: string }[];
    assert.ok(shared.some((p) => p.name === 'Day'));
    assert.ok(shared.every((p) => p.device_id === undefined));
    const own = (await call('GET', '/api/presets?device=cam-a', viewer)).body.presets as { id: string; name: string }[];
    const night = own.find((p) => p.name === 'Night');
    assert.ok(night);
    assert.equal((await call('GET', '/api/presets?device=cam-b', limited)).status, 404);
    const changed = await call('PUT', `/api/presets/${night.id}`, operator, { name: 'Late night', values: { brightness: 10 } });
    assert.deepEqual([changed.status, changed.body.name, changed.body.values], [200, 'Late night', { brightness: 10 }]);
    assert.equal((await call('PUT', `/api/presets/${night.id}`, viewer, { name: 'x', values: { fps: 5 } })).status, 403);
    const temp = await call('POST', '/api/presets', operator, { name: 'Temp', values: { fps: 12 }, device_id: 'cam-a' });
    assert.equal((await call('DELETE', `/api/presets/${temp.body.id}`, operator)).status, 204);
    assert.equal((await call('DELETE', `/api/presets/${temp.body.id}`, operator)).status, 404);
  });
});

describe('applying', () => {
  test('a device preset applies to its own device by default: persisted, sequenced, sent to the device, in the history', async () => {
    const preset = await call('POST', '/api/presets', operator, {
      name: 'Dim',
      values: { brightness: 15, contrast: 30 },
      device_id: 'cam-c',
    });
    const device = await connectDevice(server.wsUrl, 'cam-c', keys['cam-c'] as string);
    await device.next('settings');
    const applied = await call('POST', `/api/presets/${preset.body.id}/apply`, operator, {});
    assert.equal(applied.status, 200);
    const result = applied.body.results['cam-c'];
    assert.equal(result.ok, true);
    assert.deepEqual(result.applied, { brightness: 15, contrast: 30 });
    assert.equal(typeof result.seq, 'number');
    const settings = await device.next('settings');
    assert.equal((settings.payload.settings as { brightness: number }).brightness, 15);
    assert.equal((await state('cam-c')).contrast, 30);
    const history = (await call('GET', '/api/devices/cam-c/history?limit=1', admin)).body.changes;
    assert.deepEqual([history[0].by, history[0].via, history[0].seq], ['otto', 'preset', result.seq]);
  });

  test('a shared preset over many devices: a result per device; no access → Device not found and untouched', async () => {
    const shared = await call('POST', '/api/presets', admin, { name: 'Bright', values: { brightness: 90 } });
    const before = (await state('cam-b')).brightness;
    const applied = await call('POST', `/api/presets/${shared.body.id}/apply`, limited, { devices: ['cam-a', 'cam-b', 'ghost'] });
    assert.equal(applied.status, 200);
    assert.equal(applied.body.results['cam-a'].ok, true);
    assert.deepEqual(applied.body.results['cam-b'], { ok: false, error: 'Device not found' });
    assert.deepEqual(applied.body.results.ghost, { ok: false, error: 'Device not found' });
    assert.equal((await state('cam-a')).brightness, 90);
    assert.equal((await state('cam-b')).brightness, before);
    const noDevices = await call('POST', `/api/presets/${shared.body.id}/apply`, admin, {});
    assert.equal(noDevices.status, 400);
  });

  test('each device all or nothing: a viewer applying gets Permission denied and nothing changes', async () => {
    const shared = await call('POST', '/api/presets', admin, { name: 'Both', values: { brightness: 33, fps: 12 } });
    const before = await state('cam-a');
    const applied = await call('POST', `/api/presets/${shared.body.id}/apply`, viewer, { devices: ['cam-a'] });
    assert.deepEqual(applied.body.results['cam-a'], { ok: false, error: 'Permission denied', key: 'brightness' });
    const after = await state('cam-a');
    assert.deepEqual([after.brightness, after.fps], [before.brightness, before.fps]);
  });

  test('removing a device removes its presets', async () => {
    await call('POST', '/api/presets', admin, { name: 'Gone', values: { fps: 10 }, device_id: 'doomed' });
    assert.equal((await call('DELETE', '/api/devices/doomed', admin)).status, 204);
    await registerDevice(server.url, admin, 'doomed');
    const own = (await call('GET', '/api/presets?device=doomed', admin)).body.presets as { device_id?: string }[];
    assert.deepEqual(
      own.filter((p) => p.device_id === 'doomed'),
      [],
    );
  });
});

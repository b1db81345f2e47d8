import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** One camera state behind every protocol: HTTP, /api/v1, the envelope extensions, the device. */

let server: TestServer;
let admin: string;
const keys: Record<string, string> = {};

before(async () => {
  server = await startServer({ env: { STATE_LOG_SIZE: '5' } });
  admin = await login(server.url);
  for (const id of ['cam', 'cam-2', 'cam-3', 'cam-4']) keys[id] = await registerDevice(server.url, admin, id);
});
after(() => server.stop());

const patch = (device: string, body: unknown, token = admin) =>
  api(server.url, 'PATCH', `/api/devices/${device}/state`, { token, body });

async function subscriber(device: string, since?: number) {
  const viewer = await connectViewer(server.wsUrl, admin);
  viewer.envelope('subscribe', { device_ids: [device], ...(since !== undefined ? { since: { [device]: since } } : {}) }, 'sub');
  await viewer.next('subscribed');
  return viewer;
}

describe('HTTP', () => {
  test('GET state returns every key; PATCH answers 200 with the applied values', async () => {
    const read = await api(server.url, 'GET', '/api/devices/cam/state', { token: admin });
    assert.equal(read.status, 200);
    assert.equal(read.body.fps, 30);
    assert.equal(read.body.record, 'off');
    assert.ok(Number(read.headers.get('x-state-seq')) >= 0);
    const changed = await patch('cam', { fps: 25, record: true, 'auto-exposure': 'off' });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body, { fps: 25, record: 'on', 'auto-exposure': false });
    assert.equal((await api(server.url, 'GET', '/api/devices/cam/state', { token: admin })).body.fps, 25);
  });

  test("PATCH errors have the seed's shapes: 400 Invalid value / Unknown key, 403 Permission denied, 404 device", async () => {
    assert.deepEqual((await patch('cam', { fps: 61 })).body, {
      error: 'Invalid value',
      key: 'fps',
      message: 'Value must be between 5 and 60',
    });
    assert.equal((await patch('cam', { fps: 61 })).status, 400);
    const unknown = await patch('cam', { zoom: 2 });
    assert.deepEqual([unknown.status, unknown.body], [400, { error: 'Unknown key', key: 'zoom' }]);
    const viewer = await createUser(server.url, admin, 'vera', 'viewer');
    const denied = await patch('cam', { fps: 10 }, viewer);
    assert.deepEqual([denied.status, denied.body], [403, { error: 'Permission denied', key: 'fps' }]);
    assert.equal((await api(server.url, 'GET', '/api/devices/cam/state', { token: viewer })).status, 200, 'viewers read');
    assert.equal((await patch('ghost', { fps: 10 })).status, 404);
    assert.equal((await patch('cam', [1, 2])).status, 400);
  });
});

describe('across protocols', () => {
  test('an HTTP change reaches /api/v1 clients, envelope subscribers and the device, with one seq', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-2', keys['cam-2'] as string);
    await device.next('settings');
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-2`);
    const viewer = await subscriber('cam-2');
    const snapshot = await viewer.next('state');
    assert.equal(snapshot.payload.snapshot, true);
    await viewer.next('device_status');

    const res = await patch('cam-2', { brightness: 33 });
    const seq = Number(res.headers.get('x-state-seq'));
    assert.deepEqual(await v1.nextWhere((m) => 'brightness' in m), { brightness: 33, seq });
    const state = await viewer.next('state');
    assert.deepEqual(state.payload, { device_id: 'cam-2', seq, snapshot: false, state: { brightness: 33 } });
    const settings = await device.next('settings');
    assert.deepEqual(settings.payload, { settings: { brightness: 33 }, seq });
    v1.close();
    viewer.close();
    device.close();
  });

  test('an /api/v1 change shows in HTTP and a state_set reaches /api/v1', async () => {
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-2`);
    v1.send({ username: 'admin', password: ADMIN_PASSWORD });
    await v1.nextWhere((m) => 'authenticated' in m);
    v1.send({ contrast: 12 });
    await v1.nextWhere((m) => 'info' in m);
    assert.equal((await api(server.url, 'GET', '/api/devices/cam-2/state', { token: admin })).body.contrast, 12);

    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('state_set', { device_id: 'cam-2', changes: { contrast: 13, resolution: '1280x720' } }, 'set-1');
    const ack = await viewer.next('state_ack');
    assert.equal(ack.request_id, 'set-1');
    assert.deepEqual(ack.payload.state, { contrast: 13, resolution: '1280x720' });
    assert.deepEqual(await v1.nextWhere((m) => m.contrast === 13), {
      contrast: 13,
      resolution: '1280x720',
      seq: ack.payload.seq,
    });
    v1.close();
    viewer.close();
  });

  test('state_set errors carry the seed error, a code and the key; state_get reads', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('state_set', { device_id: 'cam-2', changes: { fps: 4 } }, 'bad');
    const error = await viewer.next('error');
    assert.equal(error.request_id, 'bad');
    assert.deepEqual(error.payload, {
      message: 'Invalid value',
      code: 'invalid_value',
      key: 'fps',
      detail: 'Value must be between 5 and 60',
    });
    viewer.envelope('state_set', { device_id: 'ghost', changes: { fps: 10 } }, 'ghost');
    assert.equal((await viewer.next('error')).payload.message, 'Device not found');
    viewer.envelope('state_get', { device_id: 'cam-2' }, 'get');
    const got = await viewer.next('state');
    assert.equal(got.request_id, 'get');
    assert.equal(got.payload.snapshot, true);
    assert.equal((got.payload.state as Record<string, unknown>).contrast, 13);
    viewer.close();
  });

  test('sequence numbers increase by one per change, whatever the protocol', async () => {
    const viewer = await subscriber('cam-3');
    const first = (await viewer.next('state')).payload.seq as number;
    await patch('cam-3', { fps: 10 });
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-3`);
    v1.send({ username: 'admin', password: ADMIN_PASSWORD });
    await v1.nextWhere((m) => 'authenticated' in m);
    v1.send({ fps: 11 });
    viewer.envelope('state_set', { device_id: 'cam-3', changes: { fps: 12 } });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const change = await viewer.nextWhere((m) => m.type === 'state' && m.payload.snapshot === false);
      seen.push(change.payload.seq);
    }
    assert.deepEqual(seen, [first + 1, first + 2, first + 3]);
    v1.close();
    viewer.close();
  });

  test('a reconnecting client gets exactly what it missed, or a snapshot marked as such', async () => {
    const start = Number((await api(server.url, 'GET', '/api/devices/cam-4/state', { token: admin })).headers.get('x-state-seq'));
    await patch('cam-4', { fps: 20 });
    await patch('cam-4', { fps: 21 });

    const viewer = await subscriber('cam-4', start);
    const missed = [await viewer.next('state'), await viewer.next('state')];
    assert.deepEqual(
      missed.map((m) => [m.payload.seq, m.payload.snapshot, m.payload.state]),
      [
        [start + 1, false, { fps: 20 }],
        [start + 2, false, { fps: 21 }],
      ],
    );
    viewer.close();

    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-4&since=${start + 1}`);
    assert.deepEqual(await v1.nextWhere(() => true), { fps: 21, seq: start + 2 });
    v1.close();

    // STATE_LOG_SIZE is 5 here: after 6 more changes, seq `start` is too old to replay.
    for (let i = 0; i < 6; i++) await patch('cam-4', { brightness: i });
    const late = await subscriber('cam-4', start);
    const snapshot = await late.next('state');
    assert.equal(snapshot.payload.snapshot, true);
    assert.equal(snapshot.payload.seq, start + 8);
    assert.equal((snapshot.payload.state as Record<string, unknown>).brightness, 5);
    late.close();
    const oldV1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-4&since=${start}`);
    const full = await oldV1.nextWhere(() => true);
    assert.equal(full.snapshot, true);
    assert.equal(full.brightness, 5);
    oldV1.close();
  });
});

describe('the device', () => {
  test('gets its full state after hello_ack, and a change made while it was offline when it returns', async () => {
    await patch('cam', { saturation: 77 });
    const device = await connectDevice(server.wsUrl, 'cam', keys.cam as string);
    const first = await device.next('settings');
    assert.equal(first.payload.snapshot, true);
    assert.equal((first.payload.settings as Record<string, unknown>).saturation, 77);
    const schema = (await api(server.url, 'GET', '/api/schema')).body.keys as { key: string; type: string }[];
    const stored = schema.filter((k) => k.type !== 'trigger').map((k) => k.key);
    assert.deepEqual(Object.keys(first.payload.settings as object).sort(), stored.sort(), 'every stored key');
    device.close();
    await device.closed;
    await patch('cam', { saturation: 78 });
    const again = await connectDevice(server.wsUrl, 'cam', keys.cam as string);
    assert.equal(((await again.next('settings')).payload.settings as Record<string, unknown>).saturation, 78);
    again.close();
  });

  test('its status reports become the state, read-only keys included, and reach subscribers', async () => {
    const device = await connectDevice(server.wsUrl, 'cam', keys.cam as string);
    await device.next('settings');
    const viewer = await subscriber('cam');
    await viewer.next('state');
    device.envelope('status', { success: true, message: 'applied', state: { 'cam1-exists': true, fps: 24 } }, 'r1');
    const change = await viewer.nextWhere((m) => m.type === 'state' && m.payload.snapshot === false);
    assert.deepEqual(change.payload.state, { 'cam1-exists': true, fps: 24 });
    assert.deepEqual(
      (await device.drain()).filter((m) => m.type === 'settings'),
      [],
      'no echo to the device',
    );
    device.envelope('status', { state: { fps: 1000 } }, 'r2');
    const error = await device.next('error');
    assert.equal(error.payload.code, 'invalid_value');
    assert.equal(error.payload.key, 'fps');
    viewer.close();
    device.close();
  });

  test('snap reaches the device as a command; subscribers see it come and go', async () => {
    const viewer = await subscriber('cam');
    await viewer.next('state');
    // The previous test's device may still be closing: wait until the room has seen it go, and drop
    // the online status the subscribe may have reported before that.
    await viewer.nextWhere((m) => m.type === 'device_status' && m.payload.online === false, 'device offline');
    viewer.drain();
    const device = await connectDevice(server.wsUrl, 'cam', keys.cam as string);
    assert.equal((await viewer.next('device_status')).payload.online, true);
    await patch('cam', { snap: true });
    const command = await device.next('command');
    assert.equal(command.payload.command, 'snap');
    assert.equal(typeof command.payload.request_id, 'string');
    device.envelope('device_presence', { battery: 50 });
    assert.deepEqual((await viewer.next('device_status')).payload, { device_id: 'cam', online: true, presence: { battery: 50 } });
    device.close();
    assert.equal((await viewer.next('device_status')).payload.online, false);
    viewer.close();
  });
});

describe('subscriptions', () => {
  test('subscribe reports devices it cannot see as not_found, and unsubscribe stops updates', async () => {
    const token = await createUser(server.url, admin, 'subby', 'viewer', ['cam-2']);
    const viewer = await connectViewer(server.wsUrl, token);
    viewer.envelope('subscribe', { device_ids: ['cam-2', 'cam-3', 'ghost'] }, 's');
    const reply = await viewer.next('subscribed');
    assert.deepEqual(reply.payload, { device_ids: ['cam-2'], not_found: ['cam-3', 'ghost'] });
    viewer.envelope('unsubscribe', { device_ids: ['cam-2'] }, 'u');
    await viewer.next('unsubscribed');
    viewer.drain();
    await patch('cam-2', { fps: 42 });
    viewer.envelope('heartbeat', {}, 'sync');
    await viewer.next('heartbeat_ack');
    assert.deepEqual(
      viewer.drain().filter((m) => m.type === 'state'),
      [],
    );
    viewer.close();
  });
});

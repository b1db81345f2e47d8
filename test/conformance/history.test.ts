import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** GET /api/devices/:id/history: every accepted change, newest first, with who made it and how. */

const proto = await protobuf.load(new URL('../../proto/camera_control.proto', import.meta.url).pathname);
const ControlCommand = proto.lookupType('camera_control.ControlCommand');
const StatusResponse = proto.lookupType('camera_control.StatusResponse');

let server: TestServer;
let admin: string;
const keys: Record<string, string> = {};

before(async () => {
  server = await startServer({ env: { HISTORY_LIMIT: '5', STATE_LOG_SIZE: '3' } });
  admin = await login(server.url);
  for (const id of ['cam', 'pi', 'paged', 'hidden']) keys[id] = await registerDevice(server.url, admin, id);
});
after(() => server.stop());

interface Entry {
  seq: number;
  at: string;
  by: string;
  via: string;
  changes: Record<string, unknown>;
}

const history = async (device: string, query = '', token = admin) =>
  api(server.url, 'GET', `/api/devices/${device}/history${query}`, { token });
const newest = async (device: string): Promise<Entry> => ((await history(device)).body.changes as Entry[])[0] as Entry;

describe('who and how', () => {
  test('a change over HTTP: by the user, via http, with its time and values', async () => {
    const started = Date.now();
    const changed = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { brightness: 20 } });
    const entry = await newest('cam');
    assert.equal(entry.seq, Number(changed.headers.get('x-state-seq')));
    assert.deepEqual([entry.by, entry.via, entry.changes], ['admin', 'http', { brightness: 20 }]);
    assert.ok(Math.abs(Date.parse(entry.at) - started) < 10_000, entry.at);
  });

  test('a change on /api/v1: via api_v1', async () => {
    const operator = await createUser(server.url, admin, 'olga', 'operator');
    const socket = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam`);
    socket.send({ token: operator });
    await socket.nextWhere((m) => m.authenticated === true);
    socket.send({ contrast: 40 });
    await socket.nextWhere((m) => m.contrast === 40);
    assert.deepEqual(
      [(await newest('cam')).by, (await newest('cam')).via, (await newest('cam')).changes],
      ['olga', 'api_v1', { contrast: 40 }],
    );
  });

  test("a viewer's state_set: via viewer", async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('state_set', { device_id: 'cam', changes: { saturation: 70 } }, 'set');
    await viewer.next('state_ack');
    assert.deepEqual([(await newest('cam')).via, (await newest('cam')).changes], ['viewer', { saturation: 70 }]);
  });

  test("the device's own report on /ws/device: by device, via device; an unchanged report is no change", async () => {
    const device = await connectDevice(server.wsUrl, 'cam', keys.cam as string);
    device.envelope('status', { success: true, state: { fps: 24, brightness: 20 } });
    await eventually('the report in the history', async () => (await newest('cam')).via === 'device');
    assert.deepEqual([(await newest('cam')).by, (await newest('cam')).changes], ['device', { fps: 24 }]);
  });

  test('/ws/camera/: a controller via camera, the device via device', async () => {
    const operator = await login(server.url, 'olga', 'olga-password');
    const controller = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=pi&token=${operator}`);
    controller.ws.send(ControlCommand.encode(ControlCommand.fromObject({ command: 0, settings: { brightness: 5 } })).finish());
    await eventually('the command in the history', async () => (await newest('pi'))?.via === 'camera');
    assert.deepEqual([(await newest('pi')).by, (await newest('pi')).changes], ['olga', { brightness: 5 }]);
    const device = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=pi&key=${keys.pi}`);
    device.ws.send(
      StatusResponse.encode(StatusResponse.fromObject({ success: true, currentSettings: { contrast: 9 } })).finish(),
    );
    await eventually('the report in the history', async () => (await newest('pi')).by === 'device');
    assert.equal((await newest('pi')).via, 'device');
  });

  test('a refused change leaves no entry', async () => {
    const before = (await newest('cam')).seq;
    const refused = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { fps: 99 } });
    assert.equal(refused.status, 400);
    assert.equal((await newest('cam')).seq, before);
  });
});

describe('paging and bounds', () => {
  test('newest first; limit and before page back; only HISTORY_LIMIT changes are kept', async () => {
    for (let i = 1; i <= 7; i++) {
      await api(server.url, 'PATCH', '/api/devices/paged/state', { token: admin, body: { brightness: i } });
    }
    const all = (await history('paged')).body.changes as Entry[];
    assert.deepEqual(
      all.map((e) => e.changes.brightness),
      [7, 6, 5, 4, 3],
      'HISTORY_LIMIT=5 keeps the last five',
    );
    const page = (await history('paged', '?limit=2')).body.changes as Entry[];
    assert.deepEqual(
      page.map((e) => e.seq),
      [7, 6],
    );
    const next = (await history('paged', `?limit=2&before=${page[1]?.seq}`)).body.changes as Entry[];
    assert.deepEqual(
      next.map((e) => e.seq),
      [5, 4],
    );
    // Kept for the history beyond STATE_LOG_SIZE=3, a client further behind still gets a snapshot.
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('subscribe', { device_ids: ['paged'], since: { paged: 3 } }, 'sub');
    assert.equal((await viewer.next('state')).payload.snapshot, true);
  });

  test('bad limit or before: 400 naming it; unknown or forbidden device: 404', async () => {
    const tooMany = await history('paged', '?limit=1001');
    assert.equal(tooMany.status, 400);
    assert.match(String(tooMany.body.message), /limit must be at most 1000/);
    assert.equal((await history('paged', '?before=abc')).status, 400);
    assert.equal((await history('ghost')).status, 404);
    const limited = await createUser(server.url, admin, 'lena', 'viewer', ['cam']);
    assert.equal((await history('hidden', '', limited)).status, 404);
    assert.equal((await history('cam', '', limited)).status, 200);
  });
});

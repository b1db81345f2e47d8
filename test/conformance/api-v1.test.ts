import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestSocket } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** Seed 002's /api/v1 protocol, driven with the seed's own examples, expecting the seed's answers. */

let server: TestServer;
let admin: string;

before(async () => {
  server = await startServer();
  admin = await login(server.url);
});
after(() => server.stop());

/** An /api/v1 client; `auth` sends the seed's credentials message first. */
async function client(query = '', auth?: object): Promise<TestSocket> {
  const socket = await TestSocket.open(`${server.wsUrl}/api/v1${query}`);
  if (auth) {
    socket.send(auth);
    const reply = await socket.nextWhere((m) => 'authenticated' in m, 'auth reply');
    assert.equal(reply.authenticated, true, JSON.stringify(reply));
  }
  return socket;
}
const adminAuth = () => ({ username: 'admin', password: ADMIN_PASSWORD });
const isBroadcast = (key: string) => (m: Record<string, unknown>) => key in m && !('info' in m) && 'seq' in m;

describe('device selection', () => {
  test('with no device registered, a client is closed with 1008 and a reason', async () => {
    const socket = await TestSocket.open(`${server.wsUrl}/api/v1`);
    const closed = await socket.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /No device is registered/);
  });

  test('with exactly one device, /api/v1 without ?device= talks to it', async () => {
    await registerDevice(server.url, admin, 'solo');
    const socket = await client('', adminAuth());
    socket.send({ brightness: 61 });
    assert.deepEqual(await socket.nextWhere((m) => 'info' in m), { brightness: 61, info: ['brightness'] });
    assert.equal((await api(server.url, 'GET', '/api/devices/solo/state', { token: admin })).body.brightness, 61);
    socket.close();
  });

  test('with several devices, ?device= is required and an unknown one is refused', async () => {
    await registerDevice(server.url, admin, 'cam');
    const ambiguous = await TestSocket.open(`${server.wsUrl}/api/v1`);
    const closed = await ambiguous.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /\?device=/);
    const unknown = await TestSocket.open(`${server.wsUrl}/api/v1?device=nope`);
    assert.equal((await unknown.closed).code, 1008);
    const chosen = await client('?device=cam');
    chosen.send({ get: ['fps'] });
    assert.deepEqual(await chosen.nextWhere(() => true), { fps: 30 });
    chosen.close();
  });
});

describe('authentication', () => {
  test('{"username", "password"} answers authenticated with user, role and permissions', async () => {
    const socket = await client('?device=cam');
    socket.send(adminAuth());
    const reply = await socket.nextWhere(() => true);
    assert.equal(reply.authenticated, true);
    assert.equal(reply.user, 'admin');
    assert.equal(reply.role, 'admin');
    assert.ok(reply.permissions.read.includes('brightness'));
    assert.ok(reply.permissions.write.includes('camera-name'));
    assert.ok(!reply.permissions.write.includes('cam1-exists'), 'read-only keys are not writable');
    socket.close();
  });

  test('{"token"} from HTTP login authenticates too; an operator may not write camera-name', async () => {
    const token = await createUser(server.url, admin, 'oscar', 'operator');
    const socket = await client('?device=cam');
    socket.send({ token });
    const reply = await socket.nextWhere(() => true);
    assert.equal(reply.authenticated, true);
    assert.equal(reply.role, 'operator');
    assert.ok(reply.permissions.write.includes('brightness'));
    assert.ok(!reply.permissions.write.includes('camera-name'));
    socket.send({ 'camera-name': 'Mine' });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Permission denied', key: 'camera-name' });
    socket.close();
  });

  test('bad credentials answer authenticated: false with an error and the socket stays usable', async () => {
    const socket = await client('?device=cam');
    socket.send({ username: 'admin', password: 'wrong-password' });
    const reply = await socket.nextWhere(() => true);
    assert.equal(reply.authenticated, false);
    assert.equal(typeof reply.error, 'string');
    socket.send({ token: 'not-a-token' });
    assert.deepEqual(await socket.nextWhere(() => true), { authenticated: false, error: 'Invalid token' });
    socket.send({ get: ['fps'] });
    assert.deepEqual(await socket.nextWhere(() => true), { fps: 30 });
    socket.close();
  });

  test('a user limited to other devices can neither read nor write this one', async () => {
    const token = await createUser(server.url, admin, 'limited-api', 'operator', ['solo']);
    const socket = await client('?device=cam');
    socket.send({ token });
    assert.deepEqual(await socket.nextWhere(() => true), { authenticated: false, error: 'No access to this device' });
    assert.equal((await socket.closed).code, 1008);
    assert.equal((await api(server.url, 'GET', '/api/devices/cam/state', { token })).status, 404);
    assert.equal((await api(server.url, 'PATCH', '/api/devices/cam/state', { token, body: { fps: 10 } })).status, 404);
  });
});

describe('the seed examples', () => {
  test('anonymous clients read but never write', async () => {
    const socket = await client('?device=cam');
    socket.send({ get: ['brightness', 'contrast', 'resolution', 'record'] });
    assert.deepEqual(await socket.nextWhere(() => true), {
      brightness: 50,
      contrast: 50,
      resolution: '1920x1080',
      record: 'off',
    });
    socket.send({ brightness: 75 });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Permission denied', key: 'brightness' });
    socket.close();
  });

  test('{"brightness": 75} is confirmed with info and broadcast to every client, the sender included', async () => {
    const sender = await client('?device=cam', adminAuth());
    const other = await client('?device=cam');
    sender.send({ brightness: 75 });
    assert.deepEqual(await sender.nextWhere((m) => 'info' in m), { brightness: 75, info: ['brightness'] });
    const toSender = await sender.nextWhere(isBroadcast('brightness'));
    const toOther = await other.nextWhere(isBroadcast('brightness'));
    assert.equal(toSender.brightness, 75);
    assert.deepEqual(toOther, toSender);
    assert.equal(typeof toOther.seq, 'number');
    sender.close();
    other.close();
  });

  test('a batch is confirmed with every key in info', async () => {
    const socket = await client('?device=cam', adminAuth());
    socket.send({ brightness: 75, contrast: 60, saturation: 50, sharpness: 45 });
    assert.deepEqual(await socket.nextWhere((m) => 'info' in m), {
      brightness: 75,
      contrast: 60,
      saturation: 50,
      sharpness: 45,
      info: ['brightness', 'contrast', 'saturation', 'sharpness'],
    });
    socket.close();
  });

  test('{"brightness": 150} gets the seed\'s Invalid value error', async () => {
    const socket = await client('?device=cam', adminAuth());
    socket.send({ brightness: 150 });
    assert.deepEqual(await socket.nextWhere(() => true), {
      error: 'Invalid value',
      key: 'brightness',
      message: 'Value must be between 0 and 100',
    });
    socket.close();
  });

  test('a batch with one bad value changes nothing', async () => {
    const socket = await client('?device=cam', adminAuth());
    socket.send({ get: ['brightness', 'contrast'] });
    const before = await socket.nextWhere(() => true);
    socket.send({ brightness: 11, contrast: 500 });
    assert.deepEqual(await socket.nextWhere(() => true), {
      error: 'Invalid value',
      key: 'contrast',
      message: 'Value must be between 0 and 100',
    });
    socket.send({ get: ['brightness', 'contrast'] });
    assert.deepEqual(await socket.nextWhere(() => true), before);
    socket.close();
  });

  test('record accepts true/false, "on"/"off", "pause" and "pause_release" and stores the canonical value', async () => {
    const socket = await client('?device=cam', adminAuth());
    const cases: [unknown, string][] = [
      [true, 'on'],
      [false, 'off'],
      ['on', 'on'],
      ['pause', 'pause'],
      ['pause_release', 'on'],
      ['off', 'off'],
    ];
    for (const [input, stored] of cases) {
      socket.send({ record: input });
      assert.deepEqual(await socket.nextWhere((m) => 'info' in m), { record: stored, info: ['record'] });
    }
    socket.send({ record: 'maybe' });
    assert.equal((await socket.nextWhere((m) => 'error' in m)).error, 'Invalid value');
    socket.close();
  });

  test('unknown keys, including __proto__, are refused', async () => {
    const socket = await client('?device=cam', adminAuth());
    socket.send({ nope: 1 });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Unknown key', key: 'nope' });
    socket.send('{"__proto__": {"brightness": 1}}');
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Unknown key', key: '__proto__' });
    socket.send({ get: ['brightness', 'constructor'] });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Unknown key', key: 'constructor' });
    socket.close();
  });

  test('read-only keys are set only by the device; snap is confirmed and never stored', async () => {
    const socket = await client('?device=cam', adminAuth());
    socket.send({ 'cam1-exists': true });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Permission denied', key: 'cam1-exists' });
    socket.send({ snap: true });
    assert.deepEqual(await socket.nextWhere(() => true), { snap: true, info: ['snap'] });
    socket.send({ get: ['snap'] });
    assert.deepEqual(await socket.nextWhere(() => true), { error: 'Unknown key', key: 'snap' });
    socket.close();
  });

  test('malformed messages get a clear error and the socket stays open', async () => {
    const socket = await client('?device=cam');
    socket.send('{oops');
    assert.equal((await socket.nextWhere(() => true)).error, 'Invalid JSON');
    socket.send('[1,2]');
    assert.equal((await socket.nextWhere(() => true)).error, 'Invalid message');
    socket.send({ get: 'brightness' });
    assert.equal((await socket.nextWhere(() => true)).error, 'Invalid message');
    socket.send({ get: ['fps'] });
    assert.equal((await socket.nextWhere(() => true)).fps, 30);
    socket.close();
  });
});

describe('anonymous read switched off', () => {
  test('with ANONYMOUS_READ=false anonymous gets are refused', async () => {
    const locked = await startServer({ env: { ANONYMOUS_READ: 'false' } });
    try {
      const token = await login(locked.url);
      await registerDevice(locked.url, token, 'only');
      const socket = await TestSocket.open(`${locked.wsUrl}/api/v1`);
      socket.send({ get: ['brightness'] });
      assert.deepEqual(await socket.nextWhere(() => true), { error: 'Permission denied', key: 'brightness' });
      socket.close();
    } finally {
      await locked.stop();
    }
  });

  test('with ANONYMOUS_READ=false a client hears nothing of the state until it authenticates, then catches up', async () => {
    const locked = await startServer({ env: { ANONYMOUS_READ: 'false' } });
    try {
      const token = await login(locked.url);
      await registerDevice(locked.url, token, 'cam');
      const change = (body: object) => api(locked.url, 'PATCH', '/api/devices/cam/state', { token, body });
      await change({ 'camera-name': 'Back door' });
      // A snapshot (?since far ahead), the change log (?since=0), and live changes (no since).
      const clients = await Promise.all(
        ['?since=999', '?since=0', ''].map((q) => TestSocket.open(`${locked.wsUrl}/api/v1?device=cam${q.replace('?', '&')}`)),
      );
      await change({ brightness: 12 });
      for (const socket of clients) {
        // Whatever the server sent before this answer would come first: it sent nothing.
        socket.send({ get: ['fps'] });
        assert.deepEqual(await socket.nextWhere(() => true), { error: 'Permission denied', key: 'fps' });
      }
      const [snapshot, log, live] = clients as [TestSocket, TestSocket, TestSocket];
      snapshot.send({ token });
      assert.equal((await snapshot.nextWhere(() => true)).authenticated, true);
      const caughtUp = await snapshot.nextWhere(() => true);
      assert.equal(caughtUp.snapshot, true);
      assert.deepEqual([caughtUp['camera-name'], caughtUp.brightness, caughtUp.seq], ['Back door', 12, 2]);
      log.send({ token });
      assert.equal((await log.nextWhere(() => true)).authenticated, true);
      assert.deepEqual(await log.nextWhere(() => true), { 'camera-name': 'Back door', seq: 1 });
      assert.deepEqual(await log.nextWhere(() => true), { brightness: 12, seq: 2 });
      live.send({ token });
      assert.equal((await live.nextWhere(() => true)).authenticated, true);
      await change({ brightness: 13 });
      assert.deepEqual(await live.nextWhere(() => true), { brightness: 13, seq: 3 });
      for (const socket of clients) socket.close();
    } finally {
      await locked.stop();
    }
  });
});

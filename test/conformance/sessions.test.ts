import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice, TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * A user's sessions end with the user: deleting them, or changing their role, allow-list or password,
 * closes every socket they hold on every endpoint and refuses every token issued before, even after
 * the name is taken again. MAX_SOCKETS_PER_USER counts every socket a user holds, on every endpoint.
 */

let server: TestServer;
let admin: string;

before(async () => {
  server = await startServer({ env: { MAX_SOCKETS_PER_USER: '3' } });
  admin = await login(server.url);
  await registerDevice(server.url, admin, 'cam');
});
after(() => server.stop());

/** The user's three kinds of socket: /ws/viewer (past hello), /api/v1 (authenticated), /ws/camera/. */
async function sockets(token: string) {
  const viewer = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
  viewer.envelope('hello', { token });
  await viewer.next('hello_ack');
  const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam`);
  v1.send({ token });
  assert.equal((await v1.nextWhere((m) => 'authenticated' in m, 'the auth answer')).authenticated, true);
  const camera = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=cam&token=${token}`);
  await camera.nextWhere(Buffer.isBuffer, 'the first CameraSettings');
  return { viewer, v1, camera, all: [viewer, v1, camera] };
}

const me = (token: string) => api(server.url, 'GET', '/api/me', { token });

/** A viewer hello with `token`: true when it is accepted. */
async function helloAccepted(token: string): Promise<boolean> {
  const socket = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
  socket.envelope('hello', { token });
  const answer = await socket.nextWhere((m) => m.type === 'hello_ack' || m.type === 'error', 'the hello answer');
  socket.close();
  return answer.type === 'hello_ack';
}

describe('deleting a user', () => {
  test('closes their sockets on every endpoint, and their token no longer works', async () => {
    const carol = await createUser(server.url, admin, 'carol', 'operator');
    const { all } = await sockets(carol);
    assert.equal((await api(server.url, 'DELETE', '/api/users/carol', { token: admin })).status, 204);
    for (const socket of all) {
      const closed = await socket.closed;
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /Session ended/);
    }
    assert.equal((await me(carol)).status, 401);
    assert.equal(await helloAccepted(carol), false);
  });

  test("a user created again under the same name does not inherit the old user's tokens", async () => {
    const old = await createUser(server.url, admin, 'dave', 'operator');
    assert.equal((await api(server.url, 'DELETE', '/api/users/dave', { token: admin })).status, 204);
    const fresh = await createUser(server.url, admin, 'dave', 'viewer');
    assert.equal((await me(old)).status, 401, 'the old operator token');
    assert.equal(await helloAccepted(old), false);
    const camera = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=cam&token=${old}`);
    assert.deepEqual(await camera.closed, { code: 1008, reason: 'Invalid token' });
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam`);
    v1.send({ token: old });
    assert.deepEqual(await v1.nextWhere(() => true), { authenticated: false, error: 'Invalid token' });
    v1.close();
    assert.deepEqual((await me(fresh)).body, { username: 'dave', role: 'viewer', devices: null });
  });
});

describe('changing a user', () => {
  for (const [what, change] of [
    ['role', { role: 'viewer' }],
    ['allow-list', { devices: ['cam'] }],
    ['password', { password: 'a-brand-new-password' }],
  ] as const) {
    test(`a new ${what} (PATCH /api/users/:name) ends their sessions; a new login gets the change`, async () => {
      const name = `erin-${what}`;
      const token = await createUser(server.url, admin, name, 'operator');
      const { all } = await sockets(token);
      const res = await api(server.url, 'PATCH', `/api/users/${name}`, { token: admin, body: change });
      assert.equal(res.status, 200);
      for (const socket of all) assert.equal((await socket.closed).code, 1008);
      assert.equal((await me(token)).status, 401);
      const password = 'password' in change ? change.password : `${name}-password`;
      const again = await login(server.url, name, password);
      const profile = (await me(again)).body;
      if ('role' in change) assert.equal(profile.role, 'viewer');
      if ('devices' in change) assert.deepEqual(profile.devices, ['cam']);
      assert.deepEqual(res.body, profile);
    });
  }

  test('PATCH refuses unknown fields, an empty change, and demoting the last admin', async () => {
    await createUser(server.url, admin, 'frank', 'viewer');
    const patch = (body: object, user = 'frank') => api(server.url, 'PATCH', `/api/users/${user}`, { token: admin, body });
    assert.equal((await patch({ username: 'other' })).status, 400);
    assert.equal((await patch({})).status, 400);
    assert.equal((await patch({ role: 'king' })).status, 400);
    assert.equal((await patch({ role: 'viewer' }, 'nobody')).status, 404);
    assert.equal((await patch({ role: 'viewer' }, 'admin')).status, 409);
    const frank = await login(server.url, 'frank', 'frank-password');
    assert.equal((await api(server.url, 'PATCH', '/api/users/frank', { token: frank, body: { role: 'admin' } })).status, 403);
  });
});

describe('MAX_SOCKETS_PER_USER (3 here)', () => {
  test('counts the sockets of every endpoint', async () => {
    const token = await createUser(server.url, admin, 'gina', 'operator');
    const held = await sockets(token);
    // A fourth socket, on any endpoint, is refused.
    assert.equal(await helloAccepted(token), false);
    const v1 = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam`);
    v1.send({ token });
    assert.deepEqual(await v1.nextWhere(() => true), { authenticated: false, error: 'Too many open sockets for this user' });
    assert.equal((await v1.closed).code, 1008);
    const camera = await TestSocket.open(`${server.wsUrl}/ws/camera/?device=cam&token=${token}`);
    assert.deepEqual(await camera.closed, { code: 1008, reason: 'Too many open sockets for this user' });
    // Closing one frees its place.
    held.v1.close();
    await held.v1.closed;
    await eventually('a place freed by a closed /api/v1 socket', () => helloAccepted(token));
    for (const socket of held.all) socket.close();
  });

  test('a device key holds one socket per channel: a newer one replaces the older', async () => {
    const key = await registerDevice(server.url, admin, 'cam-2');
    const first = await connectDevice(server.wsUrl, 'cam-2', key);
    const second = await connectDevice(server.wsUrl, 'cam-2', key);
    assert.equal((await first.closed).code, 4000);
    second.close();
  });
});

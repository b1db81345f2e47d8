import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectDevice, TestSocket } from '../helpers/client.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, currentTarget, startServer, type TestServer } from '../helpers/server.ts';

/** The HTTP API: login and JWTs, users and roles, the device registry. */

const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256!!';
let server: TestServer;
let admin: string;

before(async () => {
  server = await startServer({ env: { JWT_SECRET, TOKEN_TTL_S: '600', MAX_BODY_BYTES: '2048' } });
  admin = await login(server.url);
});
after(() => server.stop());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
function forge(header: object, payload: object, secret = JWT_SECRET): string {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
/** The generation of the admin's record, as its real token carries it. */
const gen = () => JSON.parse(Buffer.from(admin.split('.')[1] as string, 'base64url').toString()).gen;
const claims = (extra: object = {}) => ({
  sub: 'admin',
  role: 'admin',
  gen: gen(),
  iss: 'edgecam',
  aud: 'edgecam:user',
  iat: now(),
  exp: now() + 600,
  ...extra,
});
const header = { alg: 'HS256', typ: 'edgecam-user+jwt' };

describe('basics', () => {
  test('GET /healthz is 200 {"ok": true}', async () => {
    const res = await api(server.url, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true });
  });

  test('GET /api/status reports version, runtime, uptime, devices online and open sockets', async () => {
    const res = await api(server.url, 'GET', '/api/status');
    assert.equal(res.status, 200);
    assert.equal(res.body.runtime, currentTarget());
    assert.match(res.body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof res.body.uptime_s, 'number');
    assert.equal(typeof res.body.devices_online, 'number');
    // A Worker isolate sees only its share of the sockets, so it reports none (null).
    assert.equal(typeof res.body.sockets_open, currentTarget() === 'workerd' ? 'object' : 'number');
  });

  test('unknown paths are 404 with a JSON error', async () => {
    const res = await api(server.url, 'GET', '/api/nothing-here');
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'Not found');
  });
});

describe('login and tokens', () => {
  test('login returns a Bearer JWT with sub, role, iss, aud, iat and exp', async () => {
    const res = await api(server.url, 'POST', '/api/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    assert.equal(res.status, 200);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 600);
    assert.deepEqual(res.body.user, { username: 'admin', role: 'admin' });
    const [head, payload] = (res.body.token as string)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    assert.equal(head.alg, 'HS256');
    assert.equal(payload.sub, 'admin');
    assert.equal(payload.role, 'admin');
    assert.equal(payload.iss, 'edgecam');
    assert.equal(payload.aud, 'edgecam:user');
    assert.equal(payload.exp - payload.iat, 600);
  });

  test('an unknown user and a wrong password get the same 401 body', async () => {
    const unknown = await api(server.url, 'POST', '/api/login', { body: { username: 'nobody', password: 'secret123' } });
    const wrong = await api(server.url, 'POST', '/api/login', { body: { username: 'admin', password: 'secret123' } });
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.deepEqual(unknown.body, wrong.body);
  });

  test('a malformed login body is 400 with a message naming the field', async () => {
    const res = await api(server.url, 'POST', '/api/login', { body: { username: 'admin' } });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /password/);
    const notJson = await api(server.url, 'POST', '/api/login', { body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error, 'Invalid JSON body');
  });

  test('a body over MAX_BODY_BYTES is 413', async () => {
    const res = await api(server.url, 'POST', '/api/login', { body: { username: 'admin', password: 'x'.repeat(5000) } });
    assert.equal(res.status, 413);
  });

  test('forged, expired, alg:none and mistyped tokens are refused over HTTP (401) and WebSocket (1008)', async () => {
    const none = `${b64({ alg: 'none', typ: 'edgecam-user+jwt' })}.${b64(claims())}.`;
    const bad = {
      forged: forge(header, claims(), 'some-other-secret-of-sufficient-length!!'),
      expired: forge(header, claims({ iat: 1_000, exp: 2_000 })),
      algNone: none,
      noExp: forge(header, claims({ exp: undefined })),
      wrongAudience: forge(header, claims({ aud: 'something-else' })),
      wrongIssuer: forge(header, claims({ iss: 'someone' })),
      wrongType: forge({ alg: 'HS256', typ: 'JWT' }, claims()),
      // Signed with the server's key, but not what it issues: TOKEN_TTL_S is 600 here.
      issuedTomorrow: forge(header, claims({ iat: now() + 86_400, exp: now() + 86_400 + 600 })),
      centuryLong: forge(header, claims({ exp: now() + 100 * 365 * 86_400 })),
      longerThanTtl: forge(header, claims({ exp: now() + 601 })),
    };
    assert.equal(
      (await api(server.url, 'GET', '/api/me', { token: forge(header, claims()) })).status,
      200,
      'control: a well-formed token works',
    );
    const skewed = forge(header, claims({ iat: now() + 30, exp: now() + 30 + 600 }));
    assert.equal((await api(server.url, 'GET', '/api/me', { token: skewed })).status, 200, 'an iat within the clock skew');
    for (const [name, token] of Object.entries(bad)) {
      const res = await api(server.url, 'GET', '/api/me', { token });
      assert.equal(res.status, 401, `${name} over HTTP`);
      const viewer = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
      viewer.envelope('hello', { token });
      assert.equal((await viewer.next('error')).payload.message, 'Invalid token', name);
      assert.equal((await viewer.closed).code, 1008, `${name} over WebSocket`);
    }
  });

  test('no token is 401 with a hint', async () => {
    const res = await api(server.url, 'GET', '/api/me');
    assert.equal(res.status, 401);
    assert.match(res.body.hint, /POST \/api\/login/);
  });
});

describe('users and roles', () => {
  test('GET /api/me describes the caller', async () => {
    const res = await api(server.url, 'GET', '/api/me', { token: admin });
    assert.deepEqual(res.body, { username: 'admin', role: 'admin', devices: null });
  });

  test('an admin creates users; others get 403 and no token 401', async () => {
    const operator = await createUser(server.url, admin, 'olga', 'operator');
    const viewer = await createUser(server.url, admin, 'victor', 'viewer', ['cam-x']);
    const list = await api(server.url, 'GET', '/api/users', { token: admin });
    assert.deepEqual(
      list.body.users.find((u: { username: string }) => u.username === 'victor'),
      { username: 'victor', role: 'viewer', devices: ['cam-x'] },
    );
    for (const token of [operator, viewer]) {
      assert.equal((await api(server.url, 'GET', '/api/users', { token })).status, 403);
      assert.equal((await api(server.url, 'POST', '/api/devices', { token, body: { device_id: 'nope' } })).status, 403);
    }
    assert.equal((await api(server.url, 'GET', '/api/users')).status, 401);
  });

  test('creating a user that exists is 409; a bad role or short password is 400', async () => {
    await createUser(server.url, admin, 'dup', 'viewer');
    const again = await api(server.url, 'POST', '/api/users', {
      token: admin,
      body: { username: 'dup', password: 'password1', role: 'viewer' },
    });
    assert.equal(again.status, 409);
    const badRole = await api(server.url, 'POST', '/api/users', {
      token: admin,
      body: { username: 'r', password: 'password1', role: 'king' },
    });
    assert.equal(badRole.status, 400);
    const short = await api(server.url, 'POST', '/api/users', {
      token: admin,
      body: { username: 's', password: 'short', role: 'viewer' },
    });
    assert.equal(short.status, 400);
    assert.match(short.body.message, /at least 8/);
  });

  test('a deleted user can no longer use their token or log in', async () => {
    const token = await createUser(server.url, admin, 'leaver', 'operator');
    assert.equal((await api(server.url, 'DELETE', '/api/users/leaver', { token: admin })).status, 204);
    assert.equal((await api(server.url, 'GET', '/api/me', { token })).status, 401);
    const relogin = await api(server.url, 'POST', '/api/login', { body: { username: 'leaver', password: 'leaver-password' } });
    assert.equal(relogin.status, 401);
    assert.equal((await api(server.url, 'DELETE', '/api/users/leaver', { token: admin })).status, 404);
  });

  test('the last admin cannot be deleted', async () => {
    const res = await api(server.url, 'DELETE', '/api/users/admin', { token: admin });
    assert.equal(res.status, 409);
  });
});

describe('devices', () => {
  test('registering a device returns its key once; listing never shows it', async () => {
    const res = await api(server.url, 'POST', '/api/devices', {
      token: admin,
      body: { device_id: 'kitchen-cam-001', name: 'Kitchen' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.device_id, 'kitchen-cam-001');
    assert.match(res.body.key, /^[A-Za-z0-9_-]{43}$/);
    const list = await api(server.url, 'GET', '/api/devices', { token: admin });
    const entry = list.body.devices.find((d: { device_id: string }) => d.device_id === 'kitchen-cam-001');
    assert.deepEqual(entry, { device_id: 'kitchen-cam-001', name: 'Kitchen', online: false, presence: null, last_seen: null });
    assert.ok(!JSON.stringify(list.body).includes(res.body.key));
  });

  test('a duplicate device id is 409 and an invalid one 400', async () => {
    await registerDevice(server.url, admin, 'dup-cam');
    assert.equal((await api(server.url, 'POST', '/api/devices', { token: admin, body: { device_id: 'dup-cam' } })).status, 409);
    for (const device_id of ['', 'has space', 'x'.repeat(65), 'slash/no']) {
      const res = await api(server.url, 'POST', '/api/devices', { token: admin, body: { device_id } });
      assert.equal(res.status, 400, JSON.stringify(device_id));
      assert.match(res.body.message, /device_id/);
    }
  });

  test('a user limited to some devices lists only those and gets 404 for others', async () => {
    await registerDevice(server.url, admin, 'mine');
    await registerDevice(server.url, admin, 'theirs');
    const token = await createUser(server.url, admin, 'limited', 'operator', ['mine']);
    const list = await api(server.url, 'GET', '/api/devices', { token });
    assert.deepEqual(
      list.body.devices.map((d: { device_id: string }) => d.device_id),
      ['mine'],
    );
    assert.equal((await api(server.url, 'GET', '/api/devices/mine', { token })).status, 200);
    assert.equal((await api(server.url, 'GET', '/api/devices/theirs', { token })).status, 404);
  });

  test('deleting a device disconnects it and forgets its key', async () => {
    const key = await registerDevice(server.url, admin, 'doomed');
    const device = await connectDevice(server.wsUrl, 'doomed', key);
    assert.equal((await api(server.url, 'DELETE', '/api/devices/doomed', { token: admin })).status, 204);
    assert.equal((await device.closed).code, 4001);
    const again = await TestSocket.open(`${server.wsUrl}/ws/device`);
    again.envelope('hello', { device_id: 'doomed', key });
    assert.equal((await again.closed).code, 1008);
    assert.equal((await api(server.url, 'DELETE', '/api/devices/doomed', { token: admin })).status, 404);
  });
});

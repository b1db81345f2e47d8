import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer, unsupported } from '../helpers/server.ts';

/** Every limit of the spec, against a server with small limits so each is quick to reach. */

let server: TestServer;
let admin: string;
let key: string;

before(async () => {
  server = await startServer({
    env: {
      HELLO_TIMEOUT_S: '0.5',
      HEARTBEAT_TIMEOUT_S: '1.5',
      MAX_MESSAGE_BYTES: '2048',
      RATE_LIMIT_PER_S: '20',
      RATE_LIMIT_BURST: '40',
      MAX_SOCKETS_PER_USER: '3',
      WATCH_ANSWER_TIMEOUT_S: '0.5',
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_CLIENT: '15',
      ALLOWED_ORIGINS: 'https://panel.example.com',
    },
  });
  admin = await login(server.url);
  key = await registerDevice(server.url, admin, 'cam-1');
});
after(() => server.stop());

describe('socket limits', () => {
  test('a socket that sends no hello is closed with 1008 after HELLO_TIMEOUT_S', async () => {
    const socket = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
    const closed = await socket.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /Hello timeout/);
  });

  test('a socket that goes silent is closed with 1001 after HEARTBEAT_TIMEOUT_S', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    const started = Date.now();
    const closed = await viewer.closed;
    assert.equal(closed.code, 1001);
    assert.match(closed.reason, /Heartbeat timeout/);
    assert.ok(Date.now() - started >= 1000, 'closed too early');
  });

  test('heartbeats keep a socket open past the heartbeat timeout', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-1', key);
    // Time itself is what this test is about: 2.4 s of real time, past the server's 1.5 s timeout.
    for (let i = 0; i < 6; i++) {
      device.envelope('heartbeat', {}, `hb${i}`);
      await device.next('heartbeat_ack');
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    device.envelope('heartbeat', {}, 'last');
    assert.equal((await device.next('heartbeat_ack')).request_id, 'last');
    device.close();
  });

  test('a peer that stops answering pings is dropped, even on /api/v1 where nothing else is required', {
    skip: unsupported('pings'),
  }, async () => {
    const dead = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-1`, { autoPong: false });
    const live = await TestSocket.open(`${server.wsUrl}/api/v1?device=cam-1`);
    const started = Date.now();
    // Node terminates the TCP connection (1006 at the client); Deno sends a 1001 close frame first.
    assert.ok([1001, 1006].includes((await dead.closed).code));
    assert.ok(Date.now() - started < 5_000);
    live.send({ get: ['fps'] });
    assert.deepEqual(await live.nextWhere(() => true), { fps: 30 }, 'a peer that answers stays');
    live.close();
  });

  test('a frame over MAX_MESSAGE_BYTES is refused with close 1009', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('heartbeat', { pad: 'x'.repeat(4096) });
    assert.equal((await viewer.closed).code, 1009);
  });

  test('a frame announced larger than MAX_MESSAGE_BYTES is refused from its header, before it arrives whole', async (t) => {
    const skip = unsupported('frame-size-at-header');
    if (skip) return t.skip(skip);
    // A raw client: the upgrade, then a frame header announcing 50 MB, then only 4 KB of it.
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await eventually('the 101 Switching Protocols', () => Buffer.concat(received).includes('\r\n\r\n'));
    assert.match(Buffer.concat(received).toString('latin1'), /^HTTP\/1\.1 101 /);
    const header = Buffer.alloc(14);
    header[0] = 0x81; // FIN, text
    header[1] = 0x80 | 127; // masked, 64-bit length
    header.writeBigUInt64BE(50_000_000n, 2);
    socket.write(Buffer.concat([header, Buffer.alloc(4096, 0x61)]));
    const outcome = await Promise.race([
      ended.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 3_000)),
    ]);
    socket.destroy();
    assert.equal(outcome, 'closed', 'the server waited for the rest of the 50 MB frame');
    // The server's close frame, after the 101: opcode 8, code 1009.
    const bytes = Buffer.concat(received);
    const frame = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
    assert.equal(frame[0], 0x88);
    assert.equal(frame.readUInt16BE(2), 1009);
  });

  test('a flood gets a rate-limit error, then close 1008 if it goes on', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    for (let i = 0; i < 200; i++) viewer.envelope('heartbeat', {});
    const error = await viewer.next('error');
    assert.equal(error.payload.code, 'rate_limited');
    assert.match(error.payload.message as string, /Rate limit exceeded/);
    assert.equal((await viewer.closed).code, 1008);
  });

  test('messages within the burst are all answered', async () => {
    const viewer = await connectViewer(server.wsUrl, admin);
    for (let i = 0; i < 35; i++) viewer.envelope('heartbeat', {}, `b${i}`);
    for (let i = 0; i < 35; i++) assert.equal((await viewer.next('heartbeat_ack')).request_id, `b${i}`);
    viewer.close();
  });

  test('a user may hold at most MAX_SOCKETS_PER_USER sockets; closing one frees a place', async () => {
    const token = await createUser(server.url, admin, 'socket-hog', 'viewer');
    const open = [
      await connectViewer(server.wsUrl, token),
      await connectViewer(server.wsUrl, token),
      await connectViewer(server.wsUrl, token),
    ];
    const extra = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
    extra.envelope('hello', { token });
    assert.match((await extra.next('error')).payload.message as string, /Too many open sockets/);
    assert.equal((await extra.closed).code, 1008);
    open[0]?.close();
    await open[0]?.closed;
    await eventually('the closed socket released', async () => {
      const retry = await TestSocket.open(`${server.wsUrl}/ws/viewer`);
      retry.envelope('hello', { token });
      const reply = await retry.next();
      if (reply.type !== 'hello_ack') retry.close();
      return reply.type === 'hello_ack';
    });
    for (const socket of open) socket.close();
  });

  test('a watch session the device never answers ends with "timeout" for both sides', async () => {
    const device = await connectDevice(server.wsUrl, 'cam-1', key);
    const viewer = await connectViewer(server.wsUrl, admin);
    viewer.envelope('watch_request', { device_id: 'cam-1' });
    const session = (await viewer.next('watch_ready')).payload.session_id;
    await device.next('watch_request');
    assert.deepEqual((await device.next('watch_ended')).payload, { session_id: session, reason: 'timeout' });
    assert.equal((await viewer.next('watch_ended')).payload.reason, 'timeout');
    viewer.close();
    device.close();
  });
});

describe('upgrades and origins', () => {
  test('a plain GET to a socket path is 426', async () => {
    for (const path of ['/ws/device', '/ws/viewer']) {
      const res = await api(server.url, 'GET', path);
      assert.equal(res.status, 426);
      assert.equal(res.body.error, 'Upgrade Required');
    }
  });

  test('a malformed upgrade is 400', { skip: unsupported('strict-upgrade') }, async () => {
    // fetch() will not send upgrade headers, so this one is a raw HTTP request.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/ws/viewer`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'short' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });

  test('a socket from a foreign origin is refused with 403; the own and listed origins are accepted', async () => {
    await assert.rejects(TestSocket.open(`${server.wsUrl}/ws/viewer`, { origin: 'https://evil.example.net' }), /403/);
    const own = await TestSocket.open(`${server.wsUrl}/ws/viewer`, { origin: server.url });
    own.close();
    const listed = await TestSocket.open(`${server.wsUrl}/ws/viewer`, { origin: 'https://panel.example.com' });
    listed.close();
  });

  test('API calls from a foreign origin are refused with 403; a listed origin gets CORS headers', async () => {
    const refused = await api(server.url, 'GET', '/api/devices', {
      token: admin,
      headers: { origin: 'https://evil.example.net' },
    });
    assert.equal(refused.status, 403);
    assert.match(refused.body.hint, /ALLOWED_ORIGINS/);
    const allowed = await api(server.url, 'GET', '/api/devices', {
      token: admin,
      headers: { origin: 'https://panel.example.com' },
    });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://panel.example.com');
  });
});

describe('login throttling', () => {
  const from = (client: string) => ({ 'x-forwarded-for': client });

  test('after 10 failures for one username, even the right password gets 429 with Retry-After', async () => {
    const token = await createUser(server.url, admin, 'target-user', 'viewer');
    assert.ok(token);
    for (let i = 0; i < 10; i++) {
      const res = await api(server.url, 'POST', '/api/login', {
        body: { username: 'target-user', password: 'wrong' },
        headers: from(`198.51.100.${i + 1}`),
      });
      assert.equal(res.status, 401);
    }
    const blocked = await api(server.url, 'POST', '/api/login', {
      body: { username: 'target-user', password: 'target-user-password' },
      headers: from('198.51.100.200'),
    });
    assert.equal(blocked.status, 429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 900, `Retry-After ${retryAfter}`);
    // Other accounts are not affected.
    assert.ok(await login(server.url));
  });

  test('parallel guesses for one account are counted before any is checked: at most LOGIN_MAX_FAILURES are hashed', async () => {
    await createUser(server.url, admin, 'raced', 'viewer');
    // Each from its own address, so only the account's limits apply; the right password is among them.
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api(server.url, 'POST', '/api/login', {
          body: { username: 'raced', password: i === 15 ? 'raced-password' : `wrong-${i}` },
          headers: from(`198.51.101.${i + 1}`),
        }),
      ),
    );
    const checked = guesses.filter((res) => res.status !== 429);
    assert.ok(checked.length <= 10, `${checked.length} of 30 parallel guesses were checked`);
    for (const res of guesses.filter((r) => r.status === 429)) assert.ok(Number(res.headers.get('retry-after')) >= 1);
  });

  test('one client gets at most LOGIN_MAX_CONCURRENT password checks at a time', async () => {
    const client = from('203.0.113.50');
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api(server.url, 'POST', '/api/login', { body: { username: `someone-${i}`, password: 'x' }, headers: client }),
      ),
    );
    const checked = attempts.filter((res) => res.status === 401).length;
    assert.ok(checked <= 6, `${checked} of 20 parallel attempts from one client were checked`);
    assert.ok(attempts.some((res) => res.status === 429 && res.headers.get('retry-after') === '1'));
  });

  test('successful logins are throttled too: LOGIN_MAX_PER_MINUTE attempts of any outcome', async () => {
    // Created without logging in: every attempt below is one of the minute's 30.
    const body = { username: 'looper', password: 'looper-password', role: 'viewer' };
    assert.equal((await api(server.url, 'POST', '/api/users', { token: admin, body })).status, 201);
    const client = from('203.0.113.60');
    const attempt = () =>
      api(server.url, 'POST', '/api/login', { body: { username: 'looper', password: 'looper-password' }, headers: client });
    for (let i = 0; i < 30; i++) assert.equal((await attempt()).status, 200, `login ${i + 1}`);
    const throttled = await attempt();
    assert.equal(throttled.status, 429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  });

  test('repeated failures from one client are throttled across usernames', async () => {
    const client = from('203.0.113.7');
    for (let i = 0; i < 15; i++) {
      const res = await api(server.url, 'POST', '/api/login', {
        body: { username: `nobody-${i}`, password: 'x' },
        headers: client,
      });
      assert.equal(res.status, 401);
    }
    const blocked = await api(server.url, 'POST', '/api/login', {
      body: { username: 'admin', password: 'whatever' },
      headers: client,
    });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  });
});

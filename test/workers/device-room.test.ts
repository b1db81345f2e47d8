import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Miniflare } from 'miniflare';
import { bundleWorker, compatibilityDate } from '../../scripts/worker-bundle.ts';
import { decodeCommand, decodeSettings } from '../../src/core/camera/codec.ts';
import { TestSocket } from '../helpers/client.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD } from '../helpers/server.ts';

/**
 * The Workers adapter end to end: the Worker bundled much as wrangler bundles it, run in workerd by
 * Miniflare (offline), rooms as SQLite-backed Durable Objects, driven by real HTTP and WebSocket clients.
 */

const outDir = mkdtempSync(join(tmpdir(), 'edgecam-worker-'));
const scriptPath = join(outDir, 'worker.js');
const workers: Miniflare[] = [];
const sockets: TestSocket[] = [];
let base: string;
let wsBase: string;

async function startWorker(bindings: Record<string, string>): Promise<string> {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    // Module names are paths relative to this root; the default (cwd) would need a `..` to reach tmp.
    modulesRoot: outDir,
    compatibilityDate,
    durableObjects: { ROOMS: { className: 'RoomObject', useSQLite: true } },
    bindings: { ADMIN_PASSWORD, PASSWORD_ITERATIONS: '100000', LOG_LEVEL: 'warn', ...bindings },
    host: '127.0.0.1',
    port: 0,
  });
  workers.push(mf);
  return (await mf.ready).origin;
}

before(async () => {
  assert.ok(compatibilityDate, 'wrangler.toml has a compatibility_date');
  await bundleWorker(scriptPath);
  base = await startWorker({ JWT_SECRET: 'test-secret-for-the-workers-adapter-0123456789ab' });
  wsBase = base.replace(/^http/, 'ws');
});

after(async () => {
  for (const socket of sockets) socket.close();
  try {
    await Promise.all(workers.map((mf) => mf.dispose()));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

async function open(path: string): Promise<TestSocket> {
  const socket = await TestSocket.open(wsBase + path);
  sockets.push(socket);
  return socket;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('a device hello is acknowledged by its room, a Durable Object in workerd', { timeout: 60_000 }, async () => {
  const status = await api(base, 'GET', '/api/status');
  assert.equal(status.status, 200);
  assert.equal(status.body.runtime, 'workerd');

  const token = await login(base);
  const key = await registerDevice(base, token, 'cam-1');

  const device = await open('/ws/device');
  device.envelope('hello', { device_id: 'cam-1', key }, 'hello-1');
  const ack = await device.next('hello_ack', 10_000);
  assert.equal(ack.payload.device_id, 'cam-1');
  assert.equal(ack.request_id, 'hello-1');
  assert.ok(!Number.isNaN(Date.parse(ack.ts)), `ts is a date: ${ack.ts}`);

  device.envelope('heartbeat', {}, 'heartbeat-1');
  assert.equal((await device.next('heartbeat_ack')).request_id, 'heartbeat-1');

  const devices = await api(base, 'GET', '/api/devices', { token });
  assert.equal(devices.status, 200);
  assert.deepEqual(
    devices.body.devices.map((d: { device_id: string; online: boolean }) => [d.device_id, d.online]),
    [['cam-1', true]],
  );
});

test('a device hello with a wrong key is closed with 1008', { timeout: 30_000 }, async () => {
  const device = await open('/ws/device');
  device.envelope('hello', { device_id: 'cam-1', key: 'not-the-key' });
  const error = await device.next('error');
  assert.match(String(error.payload.message), /unauthorized/i);
  const closed = await within(device.closed, 10_000, 'close after a wrong key');
  assert.equal(closed.code, 1008);
});

test('without JWT_SECRET every request is a 500 that says how to set it', { timeout: 30_000 }, async () => {
  const unconfigured = await startWorker({});
  for (const path of ['/healthz', '/api/status']) {
    const res = await api(unconfigured, 'GET', path);
    assert.equal(res.status, 500);
    assert.match(res.body.error, /wrangler secret put JWT_SECRET/);
  }
});

test('the protobuf channel and /api/v1 work in workerd too (generated code, no eval)', { timeout: 30_000 }, async () => {
  const token = await login(base);
  const key = await registerDevice(base, token, 'cam-pb');
  const camera = await TestSocket.open(`${wsBase}/ws/camera/?device=cam-pb&key=${key}`);
  sockets.push(camera);
  const first = await camera.nextWhere((m) => Buffer.isBuffer(m), 'CameraSettings');
  const settings = decodeSettings(new Uint8Array(first));
  assert.ok(settings.ok && settings.message.fps === 30, JSON.stringify(settings));

  const v1 = await open('/api/v1?device=cam-pb');
  await api(base, 'PATCH', '/api/devices/cam-pb/state', { token, body: { fps: 24 } });
  assert.equal((await v1.nextWhere((m) => 'fps' in m)).fps, 24);
  const update = decodeCommand(new Uint8Array(await camera.nextWhere((m) => Buffer.isBuffer(m), 'ControlCommand')));
  assert.ok(update.ok && update.message.settings?.fps === 24, JSON.stringify(update));
});

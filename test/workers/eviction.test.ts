import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Miniflare } from 'miniflare';
import { bundleWorker, compatibilityDate } from '../../scripts/worker-bundle.ts';
import { connectDevice, connectViewer, type TestSocket } from '../helpers/client.ts';
import { api, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD } from '../helpers/server.ts';

/**
 * Durable Objects evicted in the middle of a watch session: workerd drops idle objects (hibernation)
 * after about ten seconds. The rooms must come back from storage and socket attachments with the
 * sockets still open, the session still relaying and nothing acknowledged lost.
 */

const dir = mkdtempSync(join(tmpdir(), 'edgecam-evict-'));
const scriptPath = join(dir, 'worker.js');
let mf: Miniflare;
let base: string;
let output = '';
const sockets: TestSocket[] = [];

before(async () => {
  await bundleWorker(scriptPath);
  mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRoot: dir,
    compatibilityDate,
    durableObjects: { ROOMS: { className: 'RoomObject', useSQLite: true } },
    bindings: {
      JWT_SECRET: 'test-secret-for-the-eviction-test-0123456789abcdef',
      ADMIN_PASSWORD,
      PASSWORD_ITERATIONS: '100000',
      LOG_LEVEL: 'debug',
    },
    host: '127.0.0.1',
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        stream.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      }
    },
  });
  base = (await mf.ready).origin;
});

after(async () => {
  for (const socket of sockets) socket.close();
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('a session survives the eviction of every room it touches', { timeout: 60_000 }, async () => {
  const ws = base.replace(/^http/, 'ws');
  const admin = await login(base);
  const key = await registerDevice(base, admin, 'cam');
  const device = await connectDevice(ws, 'cam', key);
  assert.equal((await device.next('settings')).payload.snapshot, true);
  const viewer = await connectViewer(ws, admin);
  sockets.push(device, viewer);
  viewer.envelope('watch_request', { device_id: 'cam' });
  const session = (await viewer.next('watch_ready')).payload.session_id;
  await device.next('watch_request');
  device.envelope('signal_answer', { session_id: session, sdp: { type: 'answer', sdp: 'v=0' } });
  await viewer.next('signal_answer');
  // A second session changes the device socket's state after its side of the first has relayed, so the
  // state is serialised again into the socket's attachment: whatever the relay keeps must not be in it.
  const second = await connectViewer(ws, admin);
  sockets.push(second);
  second.envelope('watch_request', { device_id: 'cam' });
  await second.next('watch_ready');
  await device.next('watch_request');
  await api(base, 'PATCH', '/api/devices/cam/state', { token: admin, body: { brightness: 21 } });
  assert.deepEqual((await device.next('settings')).payload.settings, { brightness: 21 });

  // Idle long enough for workerd to evict the objects; there is no event to wait for instead.
  const mark = output.length;
  await new Promise((resolve) => setTimeout(resolve, 15_000));

  viewer.envelope('signal_ice', { session_id: session, candidate: null });
  assert.equal((await device.next('signal_ice', 10_000)).payload.session_id, session, 'the relay still works');
  device.envelope('signal_ice', { session_id: session, candidate: null });
  assert.equal((await viewer.next('signal_ice', 10_000)).payload.session_id, session, 'both ways');
  await api(base, 'PATCH', '/api/devices/cam/state', { token: admin, body: { contrast: 22 } });
  assert.deepEqual((await device.next('settings', 10_000)).payload.settings, { contrast: 22 });
  const state = (await api(base, 'GET', '/api/devices/cam/state', { token: admin })).body;
  assert.equal(state.brightness, 21, 'what was acknowledged before the eviction is still there');
  assert.equal((await api(base, 'GET', '/api/devices/cam', { token: admin })).body.online, true);

  const after = output.slice(mark);
  assert.match(after, /room rebuilt room=device:cam/, 'the device room was evicted and rebuilt');
  assert.match(after, /room rebuilt room=connection:\S+ sockets=1/, 'a connection room came back with its socket');
});

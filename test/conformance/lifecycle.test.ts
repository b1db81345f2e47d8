import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connectDevice, connectViewer, TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, currentTarget, startServer, unsupported } from '../helpers/server.ts';

/** First start, restarts, kill -9 and graceful shutdown: nothing acknowledged is lost. */

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-life-'));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('first start', () => {
  test('with no ADMIN_PASSWORD a generated admin password is printed once and works', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir, env: { ADMIN_PASSWORD: '' } });
    const match = /generated password.* username=admin password=(\S+)/.exec(first.output());
    assert.ok(match, `no generated password in output:\n${first.output()}`);
    const password = match[1] as string;
    assert.ok(password.length >= 16);
    assert.ok(await login(first.url, 'admin', password));
    assert.equal(await first.stop(), 0);

    const second = await startServer({ dataDir, env: { ADMIN_PASSWORD: '' } });
    assert.doesNotMatch(second.output(), /generated password/);
    assert.ok(await login(second.url, 'admin', password));
    await second.stop();
  });
});

describe('persistence', () => {
  test('users, devices, keys, presence and tokens survive a restart', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir });
    const admin = await login(first.url);
    const key = await registerDevice(first.url, admin, 'porch');
    const operator = await createUser(first.url, admin, 'opal', 'operator', ['porch']);
    const device = await connectDevice(first.wsUrl, 'porch', key);
    device.envelope('device_presence', { battery: 42 });
    // Presence is not acknowledged to the device: wait until the server shows it (on Workers it reaches
    // the device room after the heartbeat's answer).
    await eventually('the presence stored', async () => {
      const shown = await api(first.url, 'GET', '/api/devices/porch', { token: admin });
      return (shown.body.presence as { battery?: number } | null)?.battery === 42;
    });
    assert.equal(await first.stop(), 0);

    const second = await startServer({ dataDir });
    assert.deepEqual((await api(second.url, 'GET', '/api/me', { token: operator })).body, {
      username: 'opal',
      role: 'operator',
      devices: ['porch'],
    });
    const listed = await api(second.url, 'GET', '/api/devices/porch', { token: admin });
    assert.equal(listed.body.online, false);
    assert.deepEqual(listed.body.presence, { battery: 42 });
    assert.ok(listed.body.last_seen);
    const again = await connectDevice(second.wsUrl, 'porch', key);
    again.close();
    await second.stop();
  });

  test('a device online when the server is killed is listed offline after the restart, once its lease lapses at most', async () => {
    const dataDir = freshDir();
    // A short lease: on Workers a row can only lapse (no process restart to hear of); in-process at once.
    const env = { HEARTBEAT_TIMEOUT_S: '2' };
    const first = await startServer({ dataDir, env });
    const admin = await login(first.url);
    const key = await registerDevice(first.url, admin, 'killed-cam');
    const device = await connectDevice(first.wsUrl, 'killed-cam', key);
    const listed = async (url: string) => (await api(url, 'GET', '/api/devices?q=killed-cam', { token: admin })).body.devices[0];
    await eventually('the device listed online', async () => (await listed(first.url))?.online);
    await first.kill();
    device.ws.terminate();

    const second = await startServer({ dataDir, env });
    // Node and Deno know at start that no socket survived; a Worker's row lapses with its lease.
    if (currentTarget() !== 'workerd') assert.equal((await listed(second.url)).online, false);
    await eventually('the device listed offline', async () => (await listed(second.url))?.online === false, { ms: 8_000 });
    assert.equal((await api(second.url, 'GET', '/api/status')).body.devices_online, 0);
    await second.stop();
  });

  test('acknowledged registrations survive kill -9', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir });
    const admin = await login(first.url);
    const keys: Record<string, string> = {};
    for (let i = 0; i < 5; i++) keys[`cam-${i}`] = await registerDevice(first.url, admin, `cam-${i}`);
    await createUser(first.url, admin, 'kept', 'viewer');
    await first.kill();

    const second = await startServer({ dataDir });
    const devices = (await api(second.url, 'GET', '/api/devices', { token: admin })).body.devices;
    assert.deepEqual(devices.map((d: { device_id: string }) => d.device_id).sort(), Object.keys(keys).sort());
    for (const [id, key] of Object.entries(keys)) (await connectDevice(second.wsUrl, id, key)).close();
    assert.ok(await login(second.url, 'kept', 'kept-password'));
    await second.stop();
  });
});

describe('state durability', () => {
  test('every acknowledged state change survives kill -9, with its sequence number', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir });
    const admin = await login(first.url);
    await registerDevice(first.url, admin, 'cam');
    const v1 = await TestSocket.open(`${first.wsUrl}/api/v1?device=cam`);
    v1.send({ username: 'admin', password: ADMIN_PASSWORD });
    await v1.nextWhere((m) => 'authenticated' in m);
    let seq = 0;
    for (let i = 1; i <= 20; i++) {
      const res = await api(first.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { brightness: i } });
      assert.equal(res.status, 200);
      seq = Number(res.headers.get('x-state-seq'));
      v1.send({ contrast: i });
      await v1.nextWhere((m) => 'info' in m && m.contrast === i);
    }
    // The last acknowledgement is in; no goodbye.
    await first.kill();

    const second = await startServer({ dataDir });
    const state = await api(second.url, 'GET', '/api/devices/cam/state', { token: admin });
    assert.equal(state.body.brightness, 20);
    assert.equal(state.body.contrast, 20);
    assert.equal(Number(state.headers.get('x-state-seq')), seq + 1);
    await second.stop();
  });
});

describe('schedule durability', () => {
  const scheduleRuns = async (url: string, admin: string, device: string) =>
    (
      (await api(url, 'GET', `/api/devices/${device}/history`, { token: admin })).body.changes as { via: string; at: string }[]
    ).filter((entry) => entry.via === 'schedule');

  test('a run due while the server is down (kill -9) is applied exactly once after the restart', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir });
    const admin = await login(first.url);
    await registerDevice(first.url, admin, 'cam');
    const at = new Date(Date.now() + 2_000);
    const made = await api(first.url, 'POST', '/api/schedules', {
      token: admin,
      body: { devices: ['cam'], values: { brightness: 7 }, at: at.toISOString() },
    });
    assert.equal(made.status, 201);
    await first.kill();
    // Down past the run's time: there is nothing to wait for but the clock.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at.getTime() + 500 - Date.now())));

    const second = await startServer({ dataDir });
    await eventually('the missed run applied', async () => (await scheduleRuns(second.url, admin, 'cam')).length === 1, {
      ms: 10_000,
    });
    assert.equal((await api(second.url, 'GET', '/api/devices/cam/state', { token: admin })).body.brightness, 7);
    await second.kill();
    const third = await startServer({ dataDir });
    const schedule = (await api(third.url, 'GET', '/api/schedules', { token: admin })).body.schedules[0];
    assert.equal(schedule.enabled, false);
    assert.equal(schedule.last_run.results.cam.ok, true);
    assert.equal((await scheduleRuns(third.url, admin, 'cam')).length, 1, 'applied once, not again on a later start');
    await third.stop();
  });

  test('a cron schedule keeps running after a restart', async () => {
    const dataDir = freshDir();
    const first = await startServer({ dataDir });
    const admin = await login(first.url);
    await registerDevice(first.url, admin, 'cam');
    const made = await api(first.url, 'POST', '/api/schedules', {
      token: admin,
      body: { devices: ['cam'], values: { contrast: 5 }, cron: '*/2 * * * * *' },
    });
    assert.equal(made.status, 201);
    await eventually('a first run', async () => (await scheduleRuns(first.url, admin, 'cam')).length >= 1, { ms: 10_000 });
    await first.stop();
    const restarted = Date.now();
    const second = await startServer({ dataDir });
    await eventually(
      'a run after the restart',
      async () => (await scheduleRuns(second.url, admin, 'cam')).some((entry) => Date.parse(entry.at) > restarted),
      { ms: 15_000 },
    );
    await second.stop();
  });
});

describe('shutdown', () => {
  test('SIGTERM closes every socket with 1001 and exits 0', { skip: unsupported('graceful-close') }, async () => {
    const server = await startServer();
    const admin = await login(server.url);
    const key = await registerDevice(server.url, admin, 'cam');
    const device = await connectDevice(server.wsUrl, 'cam', key);
    const viewer = await connectViewer(server.wsUrl, admin);
    // Watching: the device's close sends this viewer frames in the same turn as its own close.
    viewer.envelope('watch_request', { device_id: 'cam' });
    await viewer.next('watch_ready');
    await device.next('watch_request');
    const code = await server.stop();
    assert.equal(code, 0);
    assert.equal((await device.closed).code, 1001);
    assert.equal((await viewer.closed).code, 1001);
  });
});

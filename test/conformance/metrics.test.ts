import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice, connectViewer } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { type Family, parsePrometheus, sampleOf } from '../helpers/prometheus.ts';
import { currentTarget, startServer, type TestServer } from '../helpers/server.ts';

/** GET /metrics, read by a real Prometheus parser: who may read it, and counters that move. */

const METRICS_TOKEN = 'scraper-token-0123456789';
/** Node and Deno count their whole process; a Worker's isolate holds no sockets or rooms. */
const wholeProcess = currentTarget() !== 'workerd';

let server: TestServer;
let admin: string;
before(async () => {
  server = await startServer({ env: { METRICS_TOKEN } });
  admin = await login(server.url);
});
after(() => server.stop());

async function scrape(token = METRICS_TOKEN): Promise<Family[]> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

const value = async (name: string, labels?: Record<string, string>) => sampleOf(await scrape(), name, labels) ?? 0;

describe('GET /metrics', () => {
  test('is for METRICS_TOKEN or an admin: anyone else gets 401 with a hint', async () => {
    const viewer = await createUser(server.url, admin, 'metrics-viewer', 'viewer');
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Bearer ${viewer}` },
    ] as Record<string, string>[]) {
      const res = await fetch(`${server.url}/metrics`, { headers });
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { hint: string }).hint, /METRICS_TOKEN/);
    }
    assert.ok((await scrape(admin)).length > 0);
  });

  test('has every family the spec names, each with HELP and TYPE', async () => {
    const families = new Map((await scrape()).map((f) => [f.name, f]));
    for (const [name, type] of [
      ['edgecam_devices', 'gauge'],
      ['edgecam_devices_online', 'gauge'],
      ['edgecam_sockets', 'gauge'],
      ['edgecam_watch_sessions', 'gauge'],
      ['edgecam_signals_relayed', 'counter'],
      ['edgecam_state_changes', 'counter'],
      ['edgecam_socket_closes', 'counter'],
      ['edgecam_login_failures', 'counter'],
      ['edgecam_schedule_runs', 'counter'],
    ]) {
      const family = families.get(name as string);
      assert.equal(family?.type, type, `${name}: ${JSON.stringify(family)}`);
      assert.ok((family?.help.length ?? 0) > 0, `${name} has HELP`);
    }
  });

  test('counts failed logins, and devices registered and online', async () => {
    const failures = await value('edgecam_login_failures_total');
    const refused = await api(server.url, 'POST', '/api/login', { body: { username: 'admin', password: 'wrong-password' } });
    assert.equal(refused.status, 401);
    assert.equal(await value('edgecam_login_failures_total'), failures + 1);

    const devices = await value('edgecam_devices');
    const online = await value('edgecam_devices_online');
    const key = await registerDevice(server.url, admin, 'metrics-cam');
    assert.equal(await value('edgecam_devices'), devices + 1);
    const device = await connectDevice(server.wsUrl, 'metrics-cam', key);
    await eventually('the device counted online', async () => (await value('edgecam_devices_online')) === online + 1);
    device.close();
    await device.closed;
    await eventually('the device counted offline', async () => (await value('edgecam_devices_online')) === online);
  });

  test('counts sockets by endpoint, closes by code, changes by way, relayed signals and watch sessions', {
    skip: !wholeProcess && 'a Worker counts these in its Durable Objects, not in the isolate that serves /metrics',
  }, async () => {
    const key = await registerDevice(server.url, admin, 'metrics-watch');
    const before = {
      device: await value('edgecam_sockets', { endpoint: 'device' }),
      closes: await value('edgecam_socket_closes_total', { code: '1005' }),
      http: await value('edgecam_state_changes_total', { via: 'http' }),
      relayed: await value('edgecam_signals_relayed_total'),
    };
    const device = await connectDevice(server.wsUrl, 'metrics-watch', key);
    const viewer = await connectViewer(server.wsUrl, admin);
    assert.equal(await value('edgecam_sockets', { endpoint: 'device' }), before.device + 1);

    const patched = await api(server.url, 'PATCH', '/api/devices/metrics-watch/state', { token: admin, body: { fps: 24 } });
    assert.equal(patched.status, 200);
    assert.equal(await value('edgecam_state_changes_total', { via: 'http' }), before.http + 1);

    viewer.envelope('watch_request', { device_id: 'metrics-watch' }, 'w1');
    const session = (await viewer.next('watch_ready')).payload.session_id as string;
    await device.next('watch_request');
    assert.equal(await value('edgecam_watch_sessions'), 1);
    viewer.envelope('signal_offer', { session_id: session, sdp: { type: 'offer', sdp: 'v=0\r\n' } });
    await device.next('signal_offer');
    assert.equal(await value('edgecam_signals_relayed_total'), before.relayed + 1);

    // Closed without a code, as `ws` does by default: the server counts it as 1005 (no status).
    viewer.close();
    device.close();
    await Promise.all([viewer.closed, device.closed]);
    let families: Family[] = [];
    const shown = () => JSON.stringify(families.filter((f) => /sockets|watch|closes/.test(f.name)));
    await eventually(
      'the sockets counted closed',
      async () => {
        families = await scrape();
        return (
          sampleOf(families, 'edgecam_sockets', { endpoint: 'device' }) === before.device &&
          sampleOf(families, 'edgecam_watch_sessions') === 0 &&
          sampleOf(families, 'edgecam_socket_closes_total', { code: '1005' }) === before.closes + 2
        );
      },
      { context: shown },
    );
  });

  test('counts scheduled runs by result', {
    skip: !wholeProcess && 'a Worker runs schedules in its Durable Objects',
  }, async () => {
    await registerDevice(server.url, admin, 'metrics-sched');
    const ok = await value('edgecam_schedule_runs_total', { result: 'ok' });
    const at = new Date(Date.now() + 1_000).toISOString();
    const created = await api(server.url, 'POST', '/api/schedules', {
      token: admin,
      body: { devices: ['metrics-sched'], values: { fps: 20 }, at },
    });
    assert.equal(created.status, 201);
    await eventually('the run counted', async () => (await value('edgecam_schedule_runs_total', { result: 'ok' })) === ok + 1, {
      ms: 10_000,
    });
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connectDevice } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { api, createUser, login, registerDevice } from '../helpers/http.ts';
import { parsePrometheus, sampleOf } from '../helpers/prometheus.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** GET /api/devices for fleets: pages, search, and a cost per page that does not grow with the fleet. */

const METRICS_TOKEN = 'fleet-scraper-token-0123';
const FLEET = 40;
/** `fleet-00` … `fleet-39`, named "Camera 0" … "Camera 39", plus two with telling names. */
const ids = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);

let server: TestServer;
let admin: string;
const keys: Record<string, string> = {};

before(async () => {
  server = await startServer({ env: { METRICS_TOKEN } });
  admin = await login(server.url);
  for (const id of ids) keys[id] = await registerDevice(server.url, admin, id);
  for (const [device_id, name] of [
    ['garage-cam', 'Garage'],
    ['porch', 'Front Porch Camera'],
  ]) {
    const res = await api(server.url, 'POST', '/api/devices', { token: admin, body: { device_id, name } });
    assert.equal(res.status, 201);
  }
});
after(() => server.stop());

const list = (query: string, token = admin) => api(server.url, 'GET', `/api/devices${query}`, { token });

describe('GET /api/devices in pages', () => {
  test('without limit: every device, in id order, and next_cursor null', async () => {
    const res = await list('');
    assert.equal(res.status, 200);
    assert.equal(res.body.next_cursor, null);
    const listed = res.body.devices.map((d: { device_id: string }) => d.device_id);
    assert.deepEqual(listed, [...ids, 'garage-cam', 'porch'].sort());
    assert.deepEqual(Object.keys(res.body.devices[0]).sort(), ['device_id', 'last_seen', 'name', 'online', 'presence']);
  });

  test('pages of `limit` follow next_cursor to the end, each device once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(`?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.devices.length <= 7);
      seen.push(...res.body.devices.map((d: { device_id: string }) => d.device_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 20);
    assert.equal(pages, Math.ceil((FLEET + 2) / 7));
    assert.deepEqual(seen, [...ids, 'garage-cam', 'porch'].sort());
  });

  test('a page that ends exactly at the last device says there is no next', async () => {
    const res = await list(`?limit=${FLEET + 2}`);
    assert.equal(res.body.devices.length, FLEET + 2);
    assert.equal(res.body.next_cursor, null);
  });

  test('q finds a substring of the id or the name, whatever the case', async () => {
    const byName = await list('?q=PORCH');
    assert.deepEqual(
      byName.body.devices.map((d: { device_id: string }) => d.device_id),
      ['porch'],
    );
    const byId = await list('?q=fleet-3&limit=5');
    assert.deepEqual(
      byId.body.devices.map((d: { device_id: string }) => d.device_id),
      ['fleet-30', 'fleet-31', 'fleet-32', 'fleet-33', 'fleet-34'],
    );
    const rest = await list(`?q=fleet-3&limit=5&cursor=${byId.body.next_cursor}`);
    assert.deepEqual(
      rest.body.devices.map((d: { device_id: string }) => d.device_id),
      ['fleet-35', 'fleet-36', 'fleet-37', 'fleet-38', 'fleet-39'],
    );
    assert.equal(rest.body.next_cursor, null);
    assert.deepEqual((await list('?q=nothing-like-this')).body, { devices: [], next_cursor: null });
  });

  test('a user with an allow-list pages through their devices only', async () => {
    const token = await createUser(server.url, admin, 'fleet-op', 'operator', ['fleet-05', 'porch', 'fleet-31']);
    const first = await list('?limit=2', token);
    assert.deepEqual(
      first.body.devices.map((d: { device_id: string }) => d.device_id),
      ['fleet-05', 'fleet-31'],
    );
    const second = await list(`?limit=2&cursor=${first.body.next_cursor}`, token);
    assert.deepEqual(
      second.body.devices.map((d: { device_id: string }) => d.device_id),
      ['porch'],
    );
    assert.equal(second.body.next_cursor, null);
  });

  test('a bad limit, cursor or q is a 400 that says which', async () => {
    for (const [query, words] of [
      ['?limit=0', /limit must be at least 1/],
      ['?limit=1001', /limit must be at most 1000/],
      ['?limit=ten', /limit must be a whole number/],
      ['?cursor=!!', /cursor must be a next_cursor this server gave/],
      ['?cursor=bm90IGFuIGlk', /cursor must be a next_cursor this server gave/],
      [`?q=${'x'.repeat(65)}`, /q must be at most 64 characters/],
    ] as const) {
      const res = await list(query);
      assert.equal(res.status, 400, query);
      assert.match(res.body.message, words, query);
    }
  });

  test('a device coming online and going offline reaches the listing, with its presence and last_seen', async () => {
    const device = await connectDevice(server.wsUrl, 'fleet-12', keys['fleet-12'] as string);
    device.envelope('device_presence', { battery: 80 });
    const row = async () => (await list('?q=fleet-12')).body.devices[0];
    await eventually('fleet-12 online with its presence', async () => {
      const r = await row();
      return r.online && r.presence?.battery === 80;
    });
    device.close();
    await device.closed;
    const offline = await eventually('fleet-12 offline', async () => {
      const r = await row();
      return !r.online && r;
    });
    assert.ok(Date.now() - Date.parse(offline.last_seen) < 60_000);
    assert.equal((await api(server.url, 'GET', '/api/status')).body.devices_online, 0);
  });

  test('a page costs the registry shards alone: no device room is asked, however many devices', async () => {
    const calls = async () => {
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      const families = parsePrometheus(await res.text());
      return {
        device: sampleOf(families, 'edgecam_room_calls_total', { room: 'device' }) ?? Number.NaN,
        registry: sampleOf(families, 'edgecam_room_calls_total', { room: 'registry' }) ?? Number.NaN,
      };
    };
    const before = await calls();
    assert.equal((await list('?limit=10')).status, 200);
    assert.equal((await list('')).status, 200);
    const after = await calls();
    assert.equal(after.device - before.device, 0, 'device rooms asked by a listing');
    // Two listings and the second scrape's count of devices: one call per shard each.
    assert.ok(after.registry - before.registry <= 3 * 16, `registry calls: ${after.registry - before.registry}`);
  });
});

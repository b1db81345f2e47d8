import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hashDeviceKey } from '../../src/core/auth/device-key.ts';
import { tokenKey } from '../../src/core/auth/tokens.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { Metrics } from '../../src/core/metrics/metrics.ts';
import type { Services } from '../../src/core/ports.ts';
import { roomsVia } from '../../src/core/rooms/index.ts';
import { LimiterRoom } from '../../src/core/rooms/limiter-room.ts';
import { InProcessHost } from '../../src/runtime/in-process/host.ts';
import { SqliteStore } from '../../src/runtime/node/sqlite.ts';

/** The in-process host behaves like Durable Objects: eviction and restarts lose nothing stored. */

const dir = mkdtempSync(join(tmpdir(), 'edgecam-host-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The hosts' clock, moved by the tests (`clock.now += ms`). */
class TestClock {
  ms = Date.UTC(2026, 0, 1);
  now = () => this.ms;
}

function boot(name: string, clock = new TestClock()) {
  const store = new SqliteStore(join(dir, `${name}.db`));
  const host = new InProcessHost(store);
  const metrics = new Metrics();
  const services: Services = {
    config: loadConfig({ ROOM_IDLE_S: '1', PASSWORD_ITERATIONS: '100000', MAX_SOCKETS_PER_USER: '2' }),
    log: createLogger('silent'),
    rooms: roomsVia(host.call, host.tell, metrics),
    metrics,
    clock,
    tokens: tokenKey('x'.repeat(32), 60, clock),
  };
  host.start(services);
  return { store, host, rooms: services.rooms, clock };
}

const DAY_MS = 86_400_000;

const registration = {
  device_id: 'cam',
  name: 'Cam',
  key: { salt: 'c2FsdA', digest: 'ZGlnZXN0' },
  created_at: '2026-01-01T00:00:00.000Z',
};

describe('InProcessHost', () => {
  test('a device room rebuilt after a restart asks whether the link it stored survived, however recently it was heard from', async () => {
    const first = boot('link-restart');
    await first.rooms.device('cam').register({ ...registration, key: await hashDeviceKey('cam-key') });
    // The link is connection room `d`, which holds no socket: as after a crash that took it.
    assert.equal((await first.rooms.device('cam').deviceHello('d', 'cam-key')).ok, true);
    assert.equal((await first.rooms.device('cam').info())?.online, true, 'this room saw the hello a moment ago');
    first.host.shutdown('test');
    first.store.close();
    // Back within a second of the hello, with nothing in memory.
    const second = boot('link-restart');
    assert.equal((await second.rooms.device('cam').info())?.online, false);
    second.host.shutdown('test');
    second.store.close();
  });

  test('an idle room is evicted and rebuilt from storage on next use', async () => {
    const { host, rooms, store, clock } = boot('evict');
    assert.equal(await rooms.device('cam').register(registration), 'created');
    assert.ok(host.loadedRooms().includes('device:cam'));
    host.evictIdle(clock.now() + 5_000);
    assert.ok(!host.loadedRooms().includes('device:cam'));
    assert.equal((await rooms.device('cam').info())?.name, 'Cam');
    host.shutdown('test');
    store.close();
  });

  test('a room with a pending alarm is not evicted, and is woken again after a restart', async () => {
    const first = boot('alarm');
    const { clock } = first;
    const limits = { maxFailures: 1, windowMs: 60_000, maxConcurrent: 1, maxPerMinute: 10 };
    assert.equal(await first.rooms.limiter('user:x').begin(limits), 0);
    await first.rooms.limiter('user:x').end('failure', 60_000);
    first.host.evictIdle(clock.now() + 5_000);
    assert.ok(first.host.loadedRooms().includes('limiter:user:x'));
    first.host.shutdown('test');
    first.store.close();

    const second = boot('alarm');
    assert.ok(second.host.loadedRooms().includes('limiter:user:x'), 'the alarm brought the room back');
    assert.equal((await second.rooms.limiter('user:x').begin(limits)) > 0, true);
    second.host.shutdown('test');
    second.store.close();
  });

  test('an alarm further off than one timer can wait (24.8 days) does not fire at once', async (t) => {
    const woken = t.mock.method(LimiterRoom.prototype, 'onAlarm');
    const { host, rooms, store } = boot('far-alarm');
    const limits = { maxFailures: 5, windowMs: 40 * DAY_MS, maxConcurrent: 1, maxPerMinute: 10 };
    assert.equal(await rooms.limiter('user:x').begin(limits), 0);
    await rooms.limiter('user:x').end('failure', 40 * DAY_MS);
    // Nothing to await: the wrong outcome is a timer firing within a millisecond.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(woken.mock.callCount(), 0);
    host.shutdown('test');
    store.close();
  });

  test('a connection room leaves memory when its socket closes, not at the idle sweep', () => {
    const { host, store } = boot('release');
    const events = host.connect(
      'connection:x',
      'x',
      { send() {}, close() {}, bufferedAmount: 0 },
      {
        path: '/ws/viewer',
        clientAddress: 'test',
      },
    );
    assert.ok(host.loadedRooms().includes('connection:x'));
    events.close(1000, 'bye');
    assert.ok(!host.loadedRooms().includes('connection:x'));
    host.shutdown('test');
    store.close();
  });

  test("a room's sockets are the open ones, after each connect and close", async () => {
    const { host, rooms, store } = boot('sockets');
    await rooms.device('cam').register(registration);
    const camera = { path: '/ws/camera/cam', clientAddress: 'test', camera: { role: 'device' as const } };
    const socket = () => ({ send() {}, close() {}, bufferedAmount: 0 });
    // The device room finds its /ws/camera/ device among its sockets: "online" says which it sees.
    const online = async () => (await rooms.device('cam').info())?.online;
    assert.equal(await online(), false);
    const first = host.connect('device:cam', 'a', socket(), camera);
    assert.equal(await online(), true);
    first.close(1000, 'bye');
    assert.equal(await online(), false, 'a closed socket is no longer listed');
    host.connect('device:cam', 'b', socket(), camera);
    assert.equal(await online(), true, 'a new socket is listed');
    host.shutdown('test');
    store.close();
  });

  test('a stub keeps the room it reached while the room is in memory, and lets go of it on eviction', async () => {
    const { host, rooms, store, clock } = boot('route');
    const routed = (stub: unknown) => (stub as { route?: { hosted?: unknown } }).route?.hosted !== undefined;
    await rooms.device('cam').register(registration);
    assert.ok(routed(rooms.device('cam')), 'the host kept the entry on the stub');
    host.evictIdle(clock.now() + 5_000);
    assert.ok(!routed(rooms.device('cam')), 'an evicted room is not kept alive by its stub');
    assert.equal((await rooms.device('cam').info())?.name, 'Cam');
    assert.ok(host.loadedRooms().includes('device:cam'), 'the call reached the room rebuilt in the host, not the evicted one');
    assert.ok(routed(rooms.device('cam')));

    // A connection room is reached both ways; when its socket closes, both stubs let go of it.
    const events = host.connect(
      'connection:x',
      'x',
      { send() {}, close() {}, bufferedAmount: 0 },
      { path: '/ws/viewer', clientAddress: 'test' },
    );
    assert.equal(await rooms.connection('x').alive(), true);
    rooms.tell.connection('x').disconnect(4999, 'test');
    assert.ok(routed(rooms.connection('x')) && routed(rooms.tell.connection('x')));
    events.close(1000, 'bye');
    assert.ok(!routed(rooms.connection('x')) && !routed(rooms.tell.connection('x')));
    host.shutdown('test');
    store.close();
  });

  test('a call through a stub that kept its room counts as use: the room is not evicted as idle', async () => {
    const { host, rooms, store, clock } = boot('used');
    await rooms.device('cam').register(registration);
    clock.ms += 900;
    await rooms.device('cam').info();
    clock.ms += 900;
    // ROOM_IDLE_S is 1: rooms unused for a second go; this one was used 900 ms ago, its registration 1.8 s ago.
    host.evictIdle(clock.now());
    assert.ok(host.loadedRooms().includes('device:cam'));
    clock.ms += 200;
    host.evictIdle(clock.now());
    assert.ok(!host.loadedRooms().includes('device:cam'), 'and once it has been idle a second, it goes');
    host.shutdown('test');
    store.close();
  });

  test('a call to a method a room does not have rejects instead of throwing', async () => {
    const { host, rooms, store } = boot('missing');
    const stub = rooms.device('cam') as unknown as Record<string, () => Promise<unknown>>;
    await assert.rejects(stub.noSuchMethod?.() as Promise<unknown>, /has no method noSuchMethod/);
    host.shutdown('test');
    store.close();
  });
});

describe('the per-user socket cap', () => {
  const fakeSocket = { send() {}, close() {}, bufferedAmount: 0 };

  test('survives the eviction of the user room, and frees places whose sockets are gone', async () => {
    const { host, rooms, store, clock } = boot('cap');
    await rooms.user('u').create({ username: 'u', role: 'viewer', devices: null }, 'password-1');
    // MAX_SOCKETS_PER_USER is 2 here: two live connections fill it.
    for (const name of ['a', 'b']) {
      host.connect(`connection:${name}`, name, fakeSocket, { path: '/ws/viewer', clientAddress: 'test' });
      assert.equal((await rooms.user('u').openSocket(name, null)).ok, true);
    }
    host.evictIdle(clock.now() + 5_000);
    assert.ok(!host.loadedRooms().includes('user:u'), 'the user room was evicted');
    assert.deepEqual(await rooms.user('u').openSocket('c', null), { ok: false, reason: 'too_many_sockets' });

    // A connection that died without telling (a crash) is found out at the cap and its place reused.
    host.shutdown('test');
    const after = boot('cap');
    assert.equal((await after.rooms.user('u').openSocket('d', null)).ok, true);
    after.host.shutdown('test');
    after.store.close();
    store.close();
  });
});

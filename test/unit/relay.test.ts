import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hashDeviceKey } from '../../src/core/auth/device-key.ts';
import { signUserToken, tokenKey } from '../../src/core/auth/tokens.ts';
import { systemClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createLogger } from '../../src/core/log.ts';
import { Metrics } from '../../src/core/metrics/metrics.ts';
import type { Services } from '../../src/core/ports.ts';
import { roomsVia } from '../../src/core/rooms/index.ts';
import { shardOf } from '../../src/core/rooms/registry-room.ts';
import { type HostSocket, InProcessHost, type SocketEvents } from '../../src/runtime/in-process/host.ts';
import { SqliteStore } from '../../src/runtime/node/sqlite.ts';

/**
 * Signals go from one connection room straight to the other; the device room only hears of answers
 * and of signals that found nobody. Rooms run on the in-process host; calls between them go through a
 * recording `call` that can also play a connection room whose socket vanished without a close (a
 * crashed or restarted host).
 */

const dir = mkdtempSync(join(tmpdir(), 'edgecam-relay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Frame {
  type: string;
  payload: Record<string, unknown>;
}

class FakeSocket implements HostSocket {
  readonly frames: Frame[] = [];
  readonly bufferedAmount = 0;
  private readonly sent = new EventEmitter();
  send(data: string | Uint8Array): void {
    this.frames.push(JSON.parse(String(data)) as Frame);
    this.sent.emit('frame');
  }
  /** The close code, once the server closed this socket. */
  closed: number | undefined;
  close(code: number): void {
    this.closed = code;
  }

  /** The first frame of `type` sent so far or next, taken out of `frames`; fails after 2 s without one. */
  async next(type: string): Promise<Frame> {
    const deadline = AbortSignal.timeout(2_000);
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.type === type);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Frame;
      try {
        await once(this.sent, 'frame', { signal: deadline });
      } catch {
        throw new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`);
      }
    }
  }
}

/**
 * With `now`, one-way calls (`rooms.tell`) run at once, as Node and Deno run them; without, they are
 * calls nobody awaits, as on Workers.
 */
async function watching(name: string, now: boolean) {
  const store = new SqliteStore(join(dir, `${name}-${now}.db`));
  const host = new InProcessHost(store);
  const calls: string[] = [];
  /** Connection rooms that answer as if their socket had gone without a close. */
  const vanished = new Set<string>();
  const gone = (id: string, method: string) => vanished.has(id) && (method === 'relay' || method === 'alive');
  /** Connection rooms whose one-way calls fail (the host logs it). */
  const broken = new Set<string>();
  const metrics = new Metrics();
  const services: Services = {
    config: loadConfig({ PASSWORD_ITERATIONS: '100000' }),
    log: createLogger('silent'),
    rooms: roomsVia(
      (id, method, args, address) => {
        calls.push(`${id} ${method}`);
        return gone(id, method) ? Promise.resolve(false) : host.call(id, method, args, address);
      },
      (id, method, args, address) => {
        calls.push(`${id} ${method} tell`);
        if (gone(id, method)) {
          // What the room of a socket that vanished does with a signal: it tells the device room.
          const [from, session, device] = args as [string, string, string];
          void services.rooms.device(device).signalLost(from, session);
          return;
        }
        // A method the room lacks fails as a broken hop would; the host logs it.
        const target = broken.has(id) ? 'broken' : method;
        if (now) return host.tell(id, target, args, address);
        host.call(id, target, args, address).catch(() => {});
      },
      metrics,
    ),
    metrics,
    clock: systemClock,
    tokens: tokenKey('x'.repeat(32), 60, systemClock),
  };
  host.start(services);
  const { rooms } = services;
  // As POST /api/devices does it: the directory, the registry, then the device room.
  await rooms.directory().addDevice({ device_id: 'cam', name: 'Cam' });
  await rooms.registry(shardOf('cam')).add({ device_id: 'cam', name: 'Cam' });
  await rooms.device('cam').register({
    device_id: 'cam',
    name: 'Cam',
    key: await hashDeviceKey('cam-key'),
    created_at: '2026-01-01T00:00:00.000Z',
  });
  await rooms.user('ann').create({ username: 'ann', role: 'viewer', devices: null }, 'password-1');

  const connect = (conn: string, path: string) => {
    const socket = new FakeSocket();
    const events: SocketEvents = host.connect(`connection:${conn}`, conn, socket, { path, clientAddress: 'test' });
    const send = (type: string, payload: object) => events.message(JSON.stringify({ type, payload }));
    return { socket, send };
  };
  const device = connect('d', '/ws/device');
  device.send('hello', { device_id: 'cam', key: 'cam-key' });
  await device.socket.next('hello_ack');
  const viewer = connect('v', '/ws/viewer');
  const { gen } = (await rooms.user('ann').verify('password-1')) as { gen: string };
  viewer.send('hello', { token: await signUserToken(services.tokens, { sub: 'ann', role: 'viewer', gen }, Date.now() / 1000) });
  await viewer.socket.next('hello_ack');
  viewer.send('watch_request', { device_id: 'cam' });
  const session = (await viewer.socket.next('watch_ready')).payload.session_id as string;
  await device.socket.next('watch_request');
  // What came with the hellos (the device's settings, the viewer's state) is not what these tests look at.
  device.socket.frames.length = 0;
  viewer.socket.frames.length = 0;

  const stop = () => {
    host.shutdown('test');
    store.close();
  };
  return { rooms, calls, vanished, broken, device, viewer, session, stop };
}

/** Records every connection room whose stub `rooms` is asked for from now on, by either kind of hop. */
function recordLookups(rooms: Services['rooms']): string[] {
  const lookups: string[] = [];
  const spy =
    <T>(lookup: (id: string) => T) =>
    (id: string) => {
      lookups.push(id);
      return lookup(id);
    };
  rooms.tell.connection = spy(rooms.tell.connection);
  rooms.connection = spy(rooms.connection);
  return lookups;
}

const ice = (session: string) => ({ session_id: session, candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host' } });

for (const now of [false, true]) {
  describe(
    now ? 'signal relay, each hop a plain call (Node, Deno)' : 'signal relay, each hop an RPC nobody awaits (as on Workers)',
    () => {
      test('offer, answer and ICE go from one connection room to the other; the device room hears only of the answer', async () => {
        const { calls, device, viewer, session, stop } = await watching('direct', now);
        calls.length = 0;
        viewer.send('signal_offer', { session_id: session, sdp: { type: 'offer', sdp: 'v=0' } });
        device.send('signal_answer', { session_id: session, sdp: { type: 'answer', sdp: 'v=0' } });
        viewer.send('signal_ice', ice(session));
        device.send('signal_ice', ice(session));
        assert.equal((await device.socket.next('signal_offer')).payload.session_id, session);
        assert.equal((await viewer.socket.next('signal_answer')).payload.session_id, session);
        await device.socket.next('signal_ice');
        await viewer.socket.next('signal_ice');
        assert.deepEqual(calls, [
          `connection:d relay tell`,
          `connection:v relay tell`,
          'device:cam answered',
          `connection:d relay tell`,
          `connection:v relay tell`,
        ]);
        stop();
      });

      test("the other party's stub is looked up on the first signal of a session, not on every one", async () => {
        const { rooms, device, viewer, session, stop } = await watching('stub-kept', now);
        const lookups = recordLookups(rooms);
        for (let i = 0; i < 3; i++) viewer.send('signal_ice', ice(session));
        for (let i = 0; i < 3; i++) await device.socket.next('signal_ice');
        assert.deepEqual(lookups, ['d']);
        stop();
      });

      test('a state change reaches a subscriber through the stub kept when it subscribed, with no lookup', async () => {
        const { rooms, viewer, stop } = await watching('subscriber-stub-kept', now);
        const lookups = recordLookups(rooms);
        const admin = { kind: 'user', username: 'root', role: 'admin' } as const;
        for (let i = 0; i < 3; i++) {
          await rooms.device('cam').applyChanges(admin, { brightness: 10 + i }, { via: 'http' });
          assert.deepEqual((await viewer.socket.next('state')).payload.state, { brightness: 10 + i });
        }
        // (The device's own connection is looked up for its `settings`: one room, always in the cache.)
        assert.deepEqual(
          lookups.filter((id) => id === 'v'),
          [],
        );
        stop();
      });

      test('a signal to a device whose socket vanished without a close marks it offline and ends the session', async () => {
        const { rooms, vanished, viewer, session, stop } = await watching('device-gone', now);
        vanished.add('connection:d');
        viewer.send('signal_ice', ice(session));
        const ended = await viewer.socket.next('watch_ended');
        assert.deepEqual(ended.payload, { session_id: session, reason: 'device_disconnected', device_id: 'cam' });
        assert.equal((await rooms.device('cam').info())?.online, false);
        stop();
      });

      test('a signal to a viewer whose socket vanished without a close ends the session for the device', async () => {
        const { vanished, device, session, stop } = await watching('viewer-gone', now);
        vanished.add('connection:v');
        device.send('signal_ice', ice(session));
        assert.deepEqual((await device.socket.next('watch_ended')).payload, {
          session_id: session,
          reason: 'viewer_disconnected',
        });
        stop();
      });
      test('a hop that fails is logged; the sender keeps its socket and its session', async () => {
        const { broken, device, viewer, session, stop } = await watching('broken', now);
        broken.add('connection:d');
        viewer.send('signal_ice', ice(session));
        broken.clear();
        viewer.send('signal_ice', ice(session));
        await device.socket.next('signal_ice');
        assert.deepEqual(device.socket.frames, [], 'only the second signal arrived');
        assert.deepEqual(viewer.socket.frames, [], 'the viewer got no error and no watch_ended');
        assert.equal(viewer.socket.closed, undefined);
        stop();
      });

      test('a signal from someone who is not the other party of the session is not delivered', async () => {
        const { rooms, device, session, stop } = await watching('forged', now);
        await rooms.connection('d').relay('someone-else', session, 'cam', '{"type":"signal_ice"}');
        await rooms.connection('d').relay('v', 'constructor', 'cam', '{"type":"signal_ice"}');
        await rooms.connection('d').relay('v', session, 'cam', '{"type":"signal_ice","payload":{}}');
        await device.socket.next('signal_ice');
        assert.deepEqual(device.socket.frames, [], 'only the signal of the other party');
        // The session goes on: the forged signals ended nothing.
        assert.equal(await rooms.connection('d').alive(), true);
        stop();
      });
    },
  );
}

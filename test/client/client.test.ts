import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { backoffDelay } from '../../src/client/backoff.ts';
import {
  EdgecamError,
  EdgecamViewer,
  login,
  type StateEvent,
  type ViewerEvents,
  type ViewerOptions,
} from '../../src/client/index.ts';
import { StateCache } from '../../src/client/state-cache.ts';
import { connectDevice } from '../helpers/client.ts';
import { api, registerDevice } from '../helpers/http.ts';
import { ADMIN_PASSWORD, startServer, type TestServer } from '../helpers/server.ts';

/** The client SDK against the real server, with `ws` as its WebSocket. Every wait is bounded. */

const fast = { initialMs: 50, maxMs: 400, stableMs: 5_000 };

function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `event` matching `match`, bounded. */
function next<E extends keyof ViewerEvents>(
  viewer: EdgecamViewer,
  event: E,
  match: (value: ViewerEvents[E]) => boolean = () => true,
  ms = 5_000,
): Promise<ViewerEvents[E]> {
  let off = () => {};
  const seen = new Promise<ViewerEvents[E]>((resolve) => {
    off = viewer.on(event, (value) => {
      if (match(value)) resolve(value);
    });
  });
  return within(seen, `${String(event)} event`, ms).finally(off);
}

async function expectError(promise: Promise<unknown>, code: string): Promise<EdgecamError> {
  const error = await within(
    promise.then(
      () => assert.fail(`expected a rejection with ${code}`),
      (e: unknown) => e,
    ),
    `rejection ${code}`,
  );
  assert.ok(error instanceof EdgecamError, `not an EdgecamError: ${error}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('client SDK', () => {
  let server: TestServer;
  let token: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'edgecam-client-'));
  const viewers: EdgecamViewer[] = [];
  let deviceCount = 0;

  function viewer(options: Partial<ViewerOptions> = {}): EdgecamViewer {
    const v = new EdgecamViewer({ url: server.url, token, WebSocket, backoff: fast, ...options });
    viewers.push(v);
    return v;
  }

  async function device(): Promise<{ id: string; key: string }> {
    const id = `cam-${++deviceCount}`;
    return { id, key: await registerDevice(server.url, token, id) };
  }

  async function patch(deviceId: string, body: Record<string, unknown>): Promise<number> {
    const res = await api(server.url, 'PATCH', `/api/devices/${deviceId}/state`, { token, body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return Number(res.headers.get('x-state-seq'));
  }

  before(async () => {
    // Our own data dir, so a second server can start on it (the harness deletes only dirs it made).
    server = await startServer({ dataDir });
    token = (await login(server.url, 'admin', ADMIN_PASSWORD)).token;
  });

  after(async () => {
    for (const v of viewers) v.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('login returns a token and the user; bad credentials are clear errors', async () => {
    const result = await login(server.url, 'admin', ADMIN_PASSWORD);
    assert.equal(result.user.username, 'admin');
    assert.equal(result.token_type, 'Bearer');
    const error = await expectError(login(server.url, 'admin', 'wrong-password'), 'invalid_credentials');
    assert.equal(error.status, 401);
    // LOGIN_MAX_FAILURES (10) per username, then 429 with the wait in seconds.
    for (let i = 0; i < 10; i++) await expectError(login(server.url, 'nobody', 'x'), 'invalid_credentials');
    const throttled = await expectError(login(server.url, 'nobody', 'x'), 'rate_limited');
    assert.equal(throttled.status, 429);
    assert.ok((throttled.retryAfter ?? 0) > 0, `retryAfter ${throttled.retryAfter}`);
    assert.match(throttled.message, /retry after \d+ s/);
  });

  test('hello: open reports the user; a bad token stops without reconnecting', async () => {
    const v = viewer({ autoConnect: false });
    const opened = next(v, 'open');
    v.connect();
    const ack = await opened;
    assert.equal(ack.user_id, 'admin');
    assert.equal(ack.role, 'admin');
    assert.equal(ack.reconnected, false);
    assert.equal(v.connected, true);

    const bad = viewer({ token: 'not-a-token', autoConnect: false });
    const failed = next(bad, 'error');
    const closed = next(bad, 'close');
    bad.connect();
    assert.equal((await failed).code, 'invalid_token');
    const close = await closed;
    assert.equal(close.code, 1008);
    assert.equal(close.reconnecting, false);
    await expectError(bad.fetchState('anything'), 'closed');
  });

  test('a subscribe of more ids than one message may carry goes out in several and answers as one', async () => {
    const v = viewer();
    const ids = Array.from({ length: 300 }, (_, i) => `no-cam-${i}`);
    const reply = await v.subscribe(ids);
    assert.deepEqual(reply, { device_ids: [], not_found: ids });
    assert.deepEqual(await v.unsubscribe(ids), { device_ids: ids });
    v.close();
  });

  test('subscribe gets the snapshot, then live changes merged into the state', async () => {
    const cam = await device();
    const v = viewer();
    const snapshot = next(v, 'state', (e) => e.device_id === cam.id);
    const status = next(v, 'status', (e) => e.device_id === cam.id);
    const reply = await v.subscribe([cam.id, 'no-such-cam']);
    assert.deepEqual(reply, { device_ids: [cam.id], not_found: ['no-such-cam'] });
    const first = await snapshot;
    assert.equal(first.snapshot, true);
    assert.equal((await status).online, false);
    assert.ok('brightness' in first.state);

    const changed = next(v, 'state', (e) => e.device_id === cam.id && !e.snapshot);
    const seq = await patch(cam.id, { brightness: 33 });
    const event = await changed;
    assert.deepEqual(event.changed, ['brightness']);
    assert.equal(event.seq, seq);
    assert.equal(event.state.brightness, 33);
    // The merged state keeps every other key of the snapshot.
    assert.deepEqual(Object.keys(event.state).sort(), Object.keys(first.state).sort());
    assert.deepEqual(v.getState(cam.id), { state: event.state, seq });
  });

  test('setState resolves with the applied values; a refused value rejects with invalid_value', async () => {
    const cam = await device();
    const v = viewer();
    await v.subscribe([cam.id]);
    const ack = await v.setState(cam.id, { brightness: 60, record: true });
    assert.equal(ack.device_id, cam.id);
    assert.deepEqual(ack.state, { brightness: 60, record: 'on' });
    assert.ok(ack.seq > 0);
    const error = await expectError(v.setState(cam.id, { brightness: 150 }), 'invalid_value');
    assert.equal(error.key, 'brightness');
    assert.equal(error.message, 'Invalid value');
    assert.match(error.detail ?? '', /between 0 and 100/);
    await expectError(v.setState(cam.id, { no_such_key: 1 }), 'unknown_key');
    // The broadcast of the accepted change reached the held state; the refused one changed nothing.
    const reply = await v.fetchState(cam.id);
    assert.equal(reply.snapshot, true);
    assert.equal(v.getState(cam.id)?.state.brightness, 60);
    assert.equal(v.getState(cam.id)?.seq, ack.seq);
  });

  test('several requests in flight each get their own reply', async () => {
    const [a, b] = [await device(), await device()];
    const v = viewer();
    await next(v, 'open');
    const results = await Promise.allSettled([
      v.setState(a.id, { brightness: 10 }),
      v.setState(b.id, { brightness: 20 }),
      v.fetchState(a.id),
      v.setState(a.id, { contrast: 999 }),
      v.watch(b.id),
      v.setState(b.id, { contrast: 70 }),
    ]);
    const [setA, setB, getA, badA, watchB, setB2] = results;
    assert.equal(setA.status === 'fulfilled' && setA.value.device_id, a.id);
    assert.deepEqual(setA.status === 'fulfilled' && setA.value.state, { brightness: 10 });
    assert.deepEqual(setB.status === 'fulfilled' && setB.value.state, { brightness: 20 });
    assert.equal(getA.status === 'fulfilled' && getA.value.device_id, a.id);
    assert.equal(badA.status === 'rejected' && (badA.reason as EdgecamError).key, 'contrast');
    assert.equal(watchB.status === 'rejected' && (watchB.reason as EdgecamError).code, 'device_offline');
    assert.deepEqual(setB2.status === 'fulfilled' && setB2.value.state, { contrast: 70 });
  });

  test('watch, offer/answer and ICE relay through the SDK to the device, then endWatch', async () => {
    const cam = await device();
    const cameraSocket = await connectDevice(server.wsUrl, cam.id, cam.key);
    try {
      const v = viewer();
      const ready = await v.watch(cam.id);
      assert.equal(ready.device_id, cam.id);
      assert.ok(Array.isArray(ready.ice_servers));
      const request = await cameraSocket.next('watch_request');
      assert.equal(request.payload.session_id, ready.session_id);

      v.sendOffer(ready.session_id, { type: 'offer', sdp: 'v=0 offer' });
      assert.deepEqual((await cameraSocket.next('signal_offer')).payload.sdp, { type: 'offer', sdp: 'v=0 offer' });

      const answer = next(v, 'signal_answer');
      cameraSocket.envelope('signal_answer', { session_id: ready.session_id, sdp: { type: 'answer', sdp: 'v=0 answer' } });
      assert.deepEqual(await answer, { session_id: ready.session_id, sdp: { type: 'answer', sdp: 'v=0 answer' } });

      const ice = next(v, 'signal_ice');
      const candidate = { candidate: 'candidate:1 1 UDP 1 10.0.0.2 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
      cameraSocket.envelope('signal_ice', { session_id: ready.session_id, candidate });
      assert.deepEqual((await ice).candidate, candidate);

      v.sendIce(ready.session_id, candidate);
      assert.deepEqual((await cameraSocket.next('signal_ice')).payload.candidate, candidate);
      v.sendIce(ready.session_id, null);
      assert.equal((await cameraSocket.next('signal_ice')).payload.candidate, null);

      const ended = await v.endWatch(ready.session_id);
      assert.equal(ended.reason, 'user_ended');
      assert.equal((await cameraSocket.next('watch_ended')).payload.reason, 'user_ended');

      // A signal for the ended session is refused by the server: an `error` event (no request_id).
      const refused = next(v, 'error');
      v.sendOffer(ready.session_id, { type: 'offer', sdp: 'late' });
      assert.equal((await refused).code, 'session_not_found');
    } finally {
      cameraSocket.close();
    }
  });

  test('reconnect: catch-up without gaps after a server restart; the offline queue; close() stops', async () => {
    const cam = await device();
    // The gate lets the test hold the client offline, so a change is surely made while it is away.
    let offline = false;
    class GatedWebSocket extends WebSocket {
      constructor(url: string) {
        super(offline ? 'ws://127.0.0.1:1/ws/viewer' : url);
      }
    }
    const v = viewer({ WebSocket: GatedWebSocket, maxQueue: 2 });
    const seqs: number[] = [];
    let snapshots = 0;
    v.on('state', (e: StateEvent) => {
      if (e.device_id !== cam.id) return;
      seqs.push(e.seq);
      if (e.snapshot) snapshots++;
    });
    const snapshot = next(v, 'state', (e) => e.device_id === cam.id);
    await v.subscribe([cam.id]);
    await snapshot;
    const live = next(v, 'state', (e) => e.device_id === cam.id && e.state.brightness === 41);
    await patch(cam.id, { brightness: 41 });
    await live;

    // The server goes away (1001 going away); the client starts retrying.
    offline = true;
    const closed = next(v, 'close');
    const port = new URL(server.url).port;
    await server.stop();
    const close = await closed;
    assert.equal(close.reconnecting, true);
    assert.equal(v.connected, false);

    // Requests made while disconnected wait in the queue; one more than it holds is refused.
    const queued = v.setState(cam.id, { contrast: 55 });
    const queued2 = v.fetchState(cam.id);
    await expectError(v.fetchState(cam.id), 'queue_full');

    server = await startServer({ dataDir, env: { PORT: port } });
    const missedSeq = await patch(cam.id, { brightness: 42 });

    const reopened = next(v, 'open', undefined, 10_000);
    const caughtUp = next(v, 'state', (e) => e.device_id === cam.id && e.seq >= missedSeq + 1, 10_000);
    offline = false;
    assert.equal((await reopened).reconnected, true);
    const ack = await within(queued, 'queued setState', 10_000);
    assert.deepEqual(ack.state, { contrast: 55 });
    assert.equal(ack.seq, missedSeq + 1);
    assert.equal((await within(queued2, 'queued fetchState')).device_id, cam.id);
    await caughtUp;

    const held = v.getState(cam.id);
    assert.equal(held?.state.brightness, 42);
    assert.equal(held?.state.contrast, 55);
    assert.equal(held?.seq, missedSeq + 1);
    // One snapshot, then every change exactly once, in order: the missed one came from the catch-up.
    assert.equal(snapshots, 1, 'the reconnect re-subscribed with since and got changes, not a snapshot');
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] as number) + 1, `seqs ${seqs}`);

    // close() stops for good: queued requests are refused, no reconnect, nothing more arrives.
    const finalClose = next(v, 'close');
    v.close();
    assert.equal((await finalClose).reconnecting, false);
    await expectError(v.setState(cam.id, { brightness: 1 }), 'closed');
    let opens = 0;
    v.on('open', () => opens++);
    await patch(cam.id, { brightness: 43 });
    await new Promise((resolve) => setTimeout(resolve, fast.maxMs * 2)); // the only sleep: proving nothing happens
    assert.equal(opens, 0);
    assert.equal(v.getState(cam.id)?.state.brightness, 42);
  });

  test('close() while disconnected rejects the queue and stops retrying', async () => {
    let attempts = 0;
    class CountedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        attempts++;
      }
    }
    const v = viewer({ url: 'ws://127.0.0.1:1', WebSocket: CountedWebSocket });
    // Two failed attempts: it is retrying.
    await next(v, 'close', (e) => e.reconnecting);
    await next(v, 'close', (e) => e.reconnecting);
    const queued = v.fetchState('cam-1');
    v.close();
    await expectError(queued, 'closed');
    const tried = attempts;
    // Proving nothing happens: twice the longest retry delay, and no attempt more.
    await new Promise((resolve) => setTimeout(resolve, fast.maxMs * 2));
    assert.equal(attempts, tried, 'a closed client tried to connect again');
    assert.equal(v.connected, false);
  });
});

describe('client SDK pieces', () => {
  test('backoff: full jitter under an exponential bound, capped', () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    assert.equal(
      backoffDelay(0, options, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.5),
      400,
    );
    assert.equal(
      backoffDelay(10, options, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelay(5_000, options, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelay(4, options, () => 0),
      0,
    );
  });

  test('state cache: only newer seqs apply; snapshots replace, changes merge', () => {
    const cache = new StateCache();
    assert.equal(cache.apply('cam', 3, false, { a: 1 }, true), undefined, 'no base to merge into yet');
    assert.deepEqual(cache.apply('cam', 5, true, { a: 1, b: 2 }, true)?.changed, ['a', 'b']);
    assert.deepEqual(cache.apply('cam', 6, false, { b: 3 }, true)?.state, { a: 1, b: 3 });
    // A state_get answer that crossed the broadcast of seq 6 changes nothing.
    assert.equal(cache.apply('cam', 5, true, { a: 1, b: 2 }, false), undefined);
    assert.deepEqual(cache.get('cam'), { state: { a: 1, b: 3 }, seq: 6 });
    // After a re-subscribe, an older snapshot means the server lost its history: it wins.
    cache.markCatchingUp('cam');
    assert.deepEqual(cache.apply('cam', 2, true, { a: 9 }, true)?.state, { a: 9 });
    assert.equal(cache.seq('cam'), 2);
  });
});

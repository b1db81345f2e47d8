import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { collectGarbage, envelope, open, pool, sleep, waitFor } from './ws-util.ts';

/**
 * Relay: K device/viewer pairs, viewers sending `signal_ice` envelopes of a fixed size to their device.
 * This is the max-throughput run; `load-relay-rate.ts` is the fixed-rate latency run.
 */

export type RelayTarget = 'edgecam' | 'pass' | 'json';

/** Where the pairs connect, and for edgecam who they are. */
export interface PairSetup {
  wsUrl: string;
  size: number;
  token?: string;
  devices?: { id: string; key: string }[];
}

export interface RelayTask extends PairSetup {
  kind: 'relay';
  target: RelayTarget;
  pairs: number;
  warmupMs: number;
  measureMs: number;
}

export interface Pair {
  viewer: WebSocket;
  device: WebSocket;
  head: string;
  tail: string;
  next: number;
}

const STAMP_WIDTH = 14;

/** A `signal_ice` envelope of exactly `size` bytes (ASCII), with a fixed-width timestamp slot. */
function template(sessionId: string, size: number): { head: string; tail: string } {
  const head = `{"type":"signal_ice","ts":"${new Date().toISOString()}","payload":{"session_id":"${sessionId}","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.168.1.10 54321 typ host generation 0 t=`;
  let tail = ' pad=","sdpMid":"0","sdpMLineIndex":0}}}';
  const missing = size - head.length - STAMP_WIDTH - tail.length;
  if (missing > 0) tail = tail.replace('pad=', `pad=${'x'.repeat(missing)}`);
  return { head, tail };
}

/** The send time stamped into a frame, or NaN if it has none. */
export function stampOf(data: Buffer): number {
  const at = data.indexOf(STAMP_MARK);
  return at < 0 ? Number.NaN : Number(data.toString('latin1', at + 3, at + 3 + STAMP_WIDTH));
}

const STAMP_MARK = Buffer.from(' t=');

/** The frame pair `pair` sends at time `t`. */
export function frameAt(pair: Pair, t: number): string {
  return pair.head + t.toFixed(3).padStart(STAMP_WIDTH, '0') + pair.tail;
}

/** The pairs of one target, connected (and watching, on edgecam) 50 at a time. */
export async function setupPairs(target: RelayTarget, setup: PairSetup, count: number): Promise<Pair[]> {
  const pairs: Pair[] = new Array(count);
  await pool(count, 50, async (i) => {
    pairs[i] = target === 'edgecam' ? await setupEdgecam(setup, i) : await setupRaw(target, setup, i);
  });
  return pairs;
}

async function setupEdgecam(task: PairSetup, i: number): Promise<Pair> {
  const dev = task.devices?.[i];
  if (!dev) throw new Error(`no device ${i} registered`);
  const device = await open(`${task.wsUrl}/ws/device`);
  let ack = waitFor(device, (t) => t.includes('"hello_ack"'), 'device hello_ack');
  device.send(envelope('hello', { device_id: dev.id, key: dev.key }));
  await ack;
  const viewer = await open(`${task.wsUrl}/ws/viewer`);
  ack = waitFor(viewer, (t) => t.includes('"hello_ack"'), 'viewer hello_ack');
  viewer.send(envelope('hello', { token: task.token }));
  await ack;
  const asked = waitFor(device, (t) => t.includes('"watch_request"'), 'device watch_request');
  const ready = waitFor(viewer, (t) => t.includes('"watch_ready"') || t.includes('"error"'), 'watch_ready');
  viewer.send(envelope('watch_request', { device_id: dev.id }));
  const answer = JSON.parse(await ready) as { type: string; payload: { session_id: string } };
  if (answer.type !== 'watch_ready') throw new Error(`watch_request refused: ${JSON.stringify(answer)}`);
  await asked;
  const sessionId = answer.payload.session_id;
  device.send(envelope('signal_answer', { session_id: sessionId, sdp: { type: 'answer', sdp: 'v=0\r\n' } }));
  return { viewer, device, ...template(sessionId, task.size), next: 0 };
}

async function setupRaw(target: RelayTarget, task: PairSetup, i: number): Promise<Pair> {
  const base = `${task.wsUrl}/${target}?pair=${i}`;
  const device = await open(`${base}&role=device`);
  const viewer = await open(`${base}&role=viewer`);
  return { viewer, device, ...template(`raw-session-${i}`, task.size), next: 0 };
}

const DRAIN_QUIET_MS = 200;
const DRAIN_MAX_MS = 5_000;

export async function runRelay(task: RelayTask): Promise<Record<string, unknown>> {
  const setupStart = performance.now();
  const pairs = await setupPairs(task.target, task, task.pairs);
  const setupMs = performance.now() - setupStart;
  await sleep(200);
  collectGarbage();

  const windowStart = performance.now() + task.warmupMs;
  const windowEnd = windowStart + task.measureMs;
  let delivered = 0;
  let sentInWindow = 0;
  let closed = 0;
  let lastArrival = 0;
  for (const pair of pairs) {
    // Throughput: the frames sent inside the window, counted whenever they arrive. Counting what arrived
    // inside the window credited a target with its pre-window backlog when that drained (the JSON
    // forwarder once "delivered" 13 % more than was sent in its window); counting only what was both
    // sent and delivered inside it cut each target short by its own queueing delay.
    pair.device.on('message', (data: Buffer) => {
      lastArrival = performance.now();
      const sent = stampOf(data);
      if (sent >= windowStart && sent <= windowEnd) delivered++;
    });
    for (const ws of [pair.viewer, pair.device]) ws.on('close', () => closed++);
  }
  // Keep every viewer's socket buffer topped up until the window ends.
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      if (now > windowEnd) return resolve();
      for (const pair of pairs) {
        for (let n = 0; n < 16 && pair.viewer.bufferedAmount < 32_768; n++) {
          const t = performance.now();
          pair.viewer.send(frameAt(pair, t));
          if (t >= windowStart && t <= windowEnd) sentInWindow++;
        }
      }
      setImmediate(pump);
    };
    pump();
  });
  // What is still in flight arrives: until nothing has for DRAIN_QUIET_MS, at most DRAIN_MAX_MS.
  const drainUntil = performance.now() + DRAIN_MAX_MS;
  while (performance.now() - lastArrival < DRAIN_QUIET_MS && performance.now() < drainUntil) await sleep(20);
  const closedEarly = closed;
  for (const pair of pairs) {
    pair.viewer.terminate();
    pair.device.terminate();
  }
  return { setupMs, sentInWindow, delivered, closedEarly, perSecond: delivered / (task.measureMs / 1000) };
}

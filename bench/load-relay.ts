import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { cpuSeconds, runQueueSeconds } from './proc-stat.ts';
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

/** A target of the relay scenarios: where its pairs connect, and its server's pid (for its CPU). */
export type TargetSetup = PairSetup & { target: RelayTarget; pid: number };

export interface RelayTask {
  kind: 'relay';
  targets: TargetSetup[];
  pairs: number;
  size: number;
  /** Traffic before each turn's window. */
  warmupMs: number;
  /** Measured time per target, in `turns` turns. */
  measureMs: number;
  turns: number;
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

/** What both relay scenarios keep of a target: its pairs, and how many of their sockets closed. */
export interface ConnectedTarget {
  name: RelayTarget;
  pid: number;
  pairs: Pair[];
  setupMs: number;
  closed: number;
}

/**
 * Every target's pairs, connected one target after the other. `make` adds a scenario's own fields;
 * `onFrame` hears every frame a target's devices receive.
 */
export async function connectTargets<T extends ConnectedTarget>(
  setups: TargetSetup[],
  size: number,
  count: number,
  make: (connected: ConnectedTarget) => T,
  onFrame: (target: T, data: Buffer) => void,
): Promise<T[]> {
  const targets: T[] = [];
  for (const setup of setups) {
    const started = performance.now();
    const pairs = await setupPairs(setup.target, { ...setup, size }, count);
    const target = make({ name: setup.target, pid: setup.pid, pairs, setupMs: performance.now() - started, closed: 0 });
    for (const pair of pairs) {
      pair.device.on('message', (data: Buffer) => onFrame(target, data));
      for (const ws of [pair.viewer, pair.device]) ws.on('close', () => target.closed++);
    }
    targets.push(target);
  }
  return targets;
}

/** Drops a target's pairs; returns how many of their sockets had closed before (the server closed them). */
export function disconnect(target: ConnectedTarget): number {
  const closedEarly = target.closed;
  for (const pair of target.pairs) {
    pair.viewer.terminate();
    pair.device.terminate();
  }
  return closedEarly;
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

interface Target extends ConnectedTarget {
  /** The measured windows so far, [start, end] in performance.now() ms. */
  windows: [number, number][];
  /** Frames sent inside each window, and those of them delivered (whenever they arrived). */
  sent: number[];
  delivered: number[];
  lastArrival: number;
  cpuSeconds: number;
  waitingSeconds: number;
}

/**
 * The max-throughput relay. All targets are connected at once and measured in turns (edgecam, the
 * byte forwarder, the JSON forwarder, then again in a rotated order), as the fixed-rate relay is: one
 * window per target, one after the other, put each target in a different stretch of this machine's
 * speed, and the JSON forwarder came out up to 1.6 times as fast as the byte forwarder, which does
 * less. Throughput counts the frames sent inside a target's windows, whenever they arrive: counting
 * what arrived inside them credited a target with its pre-window backlog (the JSON forwarder once
 * "delivered" 13 % more than was sent), counting only what was also delivered inside them cut each
 * target short by its own queueing delay.
 */
export async function runRelay(task: RelayTask): Promise<Record<string, unknown>> {
  const targets = await connectTargets(
    task.targets,
    task.size,
    task.pairs,
    (connected): Target => ({
      ...connected,
      windows: [],
      sent: [],
      delivered: [],
      lastArrival: 0,
      cpuSeconds: 0,
      waitingSeconds: 0,
    }),
    record,
  );
  // One unmeasured round first. Without it the first turns ran on fresh processes (the JSON forwarder's
  // first turn relayed 160k-200k msgs/s, its later ones 100k-110k) on a load generator still compiling
  // its code (edgecam's, always first).
  for (const target of targets) {
    await topUp(target, performance.now() + task.warmupMs);
    await drain(target);
  }
  await sleep(200);
  collectGarbage();

  const turnMs = task.measureMs / task.turns;
  for (let turn = 0; turn < task.turns; turn++) {
    for (let k = 0; k < targets.length; k++) await drive(targets[(turn + k) % targets.length] as Target, task.warmupMs, turnMs);
  }

  const result: Record<string, unknown> = {};
  const seconds = task.measureMs / 1000;
  for (const target of targets) {
    const closedEarly = disconnect(target);
    const sentInWindow = sum(target.sent);
    const delivered = sum(target.delivered);
    result[target.name] = {
      setupMs: target.setupMs,
      sentInWindow,
      delivered,
      closedEarly,
      perSecond: delivered / seconds,
      turnPerSecond: target.delivered.map((count) => Math.round(count / (turnMs / 1000))),
      serverCpu: Number((target.cpuSeconds / seconds).toFixed(2)),
      serverWaiting: Number((target.waitingSeconds / seconds).toFixed(3)),
    };
  }
  return result;
}

/** A frame sent inside one of its target's windows counts for that window, whenever it arrives. */
function record(target: Target, data: Buffer): void {
  target.lastArrival = performance.now();
  const sent = stampOf(data);
  for (let i = target.windows.length - 1; i >= 0; i--) {
    const [start, end] = target.windows[i] as [number, number];
    if (sent > end) return;
    if (sent >= start) {
      target.delivered[i] = (target.delivered[i] ?? 0) + 1;
      return;
    }
  }
}

/**
 * One turn: every viewer of `target` keeps its socket buffer topped up for `warmupMs` + `measureMs`;
 * then what is still in flight arrives, so the next target's turn starts with the server idle.
 */
async function drive(target: Target, warmupMs: number, measureMs: number): Promise<void> {
  const windowStart = performance.now() + warmupMs;
  const windowEnd = windowStart + measureMs;
  const turn = target.windows.push([windowStart, windowEnd]) - 1;
  target.sent[turn] = 0;
  target.delivered[turn] = 0;
  let cpuAtStart = Number.NaN;
  let waitingAtStart = Number.NaN;
  await topUp(target, windowEnd, (t) => {
    if (Number.isNaN(cpuAtStart) && t >= windowStart) {
      cpuAtStart = cpuSeconds(target.pid);
      waitingAtStart = runQueueSeconds(target.pid);
    }
    if (t >= windowStart && t <= windowEnd) target.sent[turn] = (target.sent[turn] ?? 0) + 1;
  });
  // The server's CPU share is read over the window itself, as the fixed-rate relay's is.
  if (!Number.isNaN(cpuAtStart)) {
    target.cpuSeconds += cpuSeconds(target.pid) - cpuAtStart;
    target.waitingSeconds += runQueueSeconds(target.pid) - waitingAtStart;
  }
  await drain(target);
}

/** Keeps every viewer's socket buffer of `target` topped up until `until`; `sent` hears of each frame. */
function topUp(target: Target, until: number, sent?: (t: number) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const pump = () => {
      if (performance.now() > until) return resolve();
      for (const pair of target.pairs) {
        for (let n = 0; n < 16 && pair.viewer.bufferedAmount < 32_768; n++) {
          const t = performance.now();
          pair.viewer.send(frameAt(pair, t));
          sent?.(t);
        }
      }
      setImmediate(pump);
    };
    pump();
  });
}

/** Until nothing has arrived for DRAIN_QUIET_MS (at most DRAIN_MAX_MS): what was in flight is in. */
async function drain(target: Target): Promise<void> {
  const drainUntil = performance.now() + DRAIN_MAX_MS;
  while (performance.now() - target.lastArrival < DRAIN_QUIET_MS && performance.now() < drainUntil) await sleep(20);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

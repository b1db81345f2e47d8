import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { summarize } from './stats.ts';
import { envelope, open, pool, sleep, waitFor } from './ws-util.ts';

/** Relay: K device/viewer pairs, viewers sending `signal_ice` envelopes of a fixed size to their device. */

export interface RelayTask {
  kind: 'relay';
  target: 'edgecam' | 'pass' | 'json';
  wsUrl: string;
  pairs: number;
  /** `max`: offered load as high as the sockets take; `rate`: `rate` msgs/s per pair. */
  mode: 'max' | 'rate';
  rate: number;
  size: number;
  warmupMs: number;
  measureMs: number;
  token?: string;
  devices?: { id: string; key: string }[];
}

interface Pair {
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

function stamp(t: number): string {
  return t.toFixed(3).padStart(STAMP_WIDTH, '0');
}

async function setupEdgecam(task: RelayTask, i: number): Promise<Pair> {
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

async function setupRaw(task: RelayTask, i: number): Promise<Pair> {
  const base = `${task.wsUrl}/${task.target}?pair=${i}`;
  const device = await open(`${base}&role=device`);
  const viewer = await open(`${base}&role=viewer`);
  return { viewer, device, ...template(`raw-session-${i}`, task.size), next: 0 };
}

export async function runRelay(task: RelayTask): Promise<Record<string, unknown>> {
  const pairs: Pair[] = new Array(task.pairs);
  const setupStart = performance.now();
  await pool(task.pairs, 50, async (i) => {
    pairs[i] = task.target === 'edgecam' ? await setupEdgecam(task, i) : await setupRaw(task, i);
  });
  const setupMs = performance.now() - setupStart;
  await sleep(200);

  const start = performance.now();
  const windowStart = start + task.warmupMs;
  const windowEnd = windowStart + task.measureMs;
  let delivered = 0;
  let sentInWindow = 0;
  const latencies: number[] = [];
  let closed = 0;
  for (const pair of pairs) {
    pair.device.on('message', (data: Buffer) => {
      const now = performance.now();
      if (now < windowStart || now > windowEnd + 1000) return;
      if (task.mode === 'max') {
        // Throughput: what arrives inside the window, whenever it was sent.
        if (now <= windowEnd) delivered++;
        return;
      }
      const text = data.toString('latin1');
      const at = text.indexOf(' t=');
      if (at < 0) return;
      const sent = Number(text.slice(at + 3, at + 3 + STAMP_WIDTH));
      if (sent < windowStart || sent > windowEnd) return;
      delivered++;
      latencies.push(now - sent);
    });
    for (const ws of [pair.viewer, pair.device]) ws.on('close', () => closed++);
  }

  if (task.mode === 'max') {
    // Keep every viewer's socket buffer topped up until the window ends.
    await new Promise<void>((resolve) => {
      const pump = () => {
        const now = performance.now();
        if (now > windowEnd) return resolve();
        for (const pair of pairs) {
          for (let n = 0; n < 16 && pair.viewer.bufferedAmount < 32_768; n++) {
            const t = performance.now();
            pair.viewer.send(pair.head + stamp(t) + pair.tail);
            if (t >= windowStart && t <= windowEnd) sentInWindow++;
          }
        }
        setImmediate(pump);
      };
      pump();
    });
  } else {
    const period = 1000 / task.rate;
    pairs.forEach((pair, i) => {
      pair.next = start + (i / pairs.length) * period;
    });
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (now > windowEnd) {
          clearInterval(timer);
          return resolve();
        }
        for (const pair of pairs) {
          while (pair.next <= now) {
            const t = performance.now();
            pair.viewer.send(pair.head + stamp(t) + pair.tail);
            if (t >= windowStart && t <= windowEnd) sentInWindow++;
            pair.next += period;
          }
        }
      }, 2);
    });
  }
  await sleep(Math.min(1000, task.measureMs / 2)); // let what is in flight arrive
  const closedEarly = closed;
  for (const pair of pairs) {
    pair.viewer.terminate();
    pair.device.terminate();
  }
  return {
    setupMs,
    sentInWindow,
    delivered,
    lost: task.mode === 'rate' ? sentInWindow - delivered : undefined,
    closedEarly,
    perSecond: delivered / (task.measureMs / 1000),
    latency: task.mode === 'rate' ? summarize(latencies) : undefined,
  };
}

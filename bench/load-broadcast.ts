import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { cpuSeconds } from './proc-stat.ts';
import { summarize } from './stats.ts';
import { collectGarbage, open, pool, sleep, waitFor } from './ws-util.ts';

/**
 * Broadcast: N subscribers of one device, one writer changing `brightness`, one change in flight at a
 * time: the time until the last subscriber has it, and deliveries per second. Both targets are
 * connected at once and measured in turns (edgecam, the raw broadcast, then the other way round), as
 * the relays are: measured one after the other, the two fell into different stretches of this
 * machine's speed, and the N=1,000 ratio moved between 0.75× and 1.17× from run to run.
 */

export interface BroadcastTask {
  kind: 'broadcast';
  targets: BroadcastTarget[];
  subscribers: number;
  /** Measured time per target, in `turns` turns. */
  measureMs: number;
  /** At most this many changes per target. */
  maxChanges: number;
  turns: number;
}

interface BroadcastTarget {
  target: 'edgecam' | 'raw';
  wsUrl: string;
  pid: number;
  device?: string;
  token?: string;
}

interface Target {
  name: 'edgecam' | 'raw';
  pid: number;
  subs: WebSocket[];
  writer: WebSocket;
  setupMs: number;
  /** Subscribers that have the change in flight; `wake` runs when all have it. */
  got: number;
  wake: (() => void) | undefined;
  latencies: number[];
  timeouts: number;
  elapsedMs: number;
  cpuSeconds: number;
}

/** Between turns: the server finishes what the last change left it (buffers, timers) before the next. */
const PAUSE_MS = 200;
const WARMUP_MS = 300;
const WARMUP_CHANGES = 20;

export async function runBroadcast(task: BroadcastTask): Promise<Record<string, unknown>> {
  const targets: Target[] = [];
  for (const setup of task.targets) targets.push(await connect(setup, task.subscribers));
  // A few changes unmeasured first, so no target's first turn runs on code still being compiled.
  for (const target of targets) {
    await measure(target, WARMUP_MS, WARMUP_CHANGES);
    Object.assign(target, { latencies: [], elapsedMs: 0, cpuSeconds: 0 });
  }
  await sleep(300);
  collectGarbage();

  const turnMs = task.measureMs / task.turns;
  const changesPerTurn = Math.ceil(task.maxChanges / task.turns);
  for (let turn = 0; turn < task.turns; turn++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(turn + k) % targets.length] as Target;
      if (target.timeouts === 0) await measure(target, turnMs, changesPerTurn);
      await sleep(PAUSE_MS);
    }
  }

  const result: Record<string, unknown> = {};
  for (const target of targets) {
    const closedEarly = target.subs.filter((ws) => ws.readyState !== ws.OPEN).length;
    for (const ws of [target.writer, ...target.subs]) ws.terminate();
    result[target.name] = {
      setupMs: target.setupMs,
      changes: target.latencies.length,
      timeouts: target.timeouts,
      closedEarly,
      deliveriesPerSecond: (target.latencies.length * task.subscribers) / (target.elapsedMs / 1000),
      latency: summarize(target.latencies),
      serverCpu: Number((target.cpuSeconds / (target.elapsedMs / 1000)).toFixed(2)),
    };
  }
  return result;
}

async function connect(setup: BroadcastTarget, subscribers: number): Promise<Target> {
  const edgecam = setup.target === 'edgecam';
  const subUrl = edgecam ? `${setup.wsUrl}/api/v1?device=${setup.device}` : `${setup.wsUrl}/bcast?role=recv`;
  const writerUrl = edgecam ? `${setup.wsUrl}/api/v1?device=${setup.device}` : `${setup.wsUrl}/bcast?role=sender`;
  const setupStart = performance.now();
  const subs: WebSocket[] = [];
  const target = { name: setup.target, pid: setup.pid, subs, got: 0, wake: undefined } as Target;
  await pool(subscribers, 100, async () => {
    const ws = await open(subUrl);
    ws.on('message', (data: Buffer) => {
      if (data.includes('"brightness"') && ++target.got === subscribers) target.wake?.();
    });
    subs.push(ws);
  });
  const writer = await open(writerUrl);
  if (edgecam) {
    const auth = waitFor(writer, (t) => t.includes('"authenticated"'), 'authenticated');
    writer.send(JSON.stringify({ token: setup.token }));
    const answer = JSON.parse(await auth) as { authenticated: boolean };
    if (!answer.authenticated) throw new Error(`writer not authenticated: ${JSON.stringify(answer)}`);
  }
  return Object.assign(target, {
    writer,
    setupMs: performance.now() - setupStart,
    latencies: [],
    timeouts: 0,
    elapsedMs: 0,
    cpuSeconds: 0,
  });
}

/** One turn: changes one after the other, each once every subscriber has the previous one. */
async function measure(target: Target, turnMs: number, maxChanges: number): Promise<void> {
  const cpuAtStart = cpuSeconds(target.pid);
  const start = performance.now();
  for (let i = 0; i < maxChanges && performance.now() - start < turnMs; i++) {
    target.got = 0;
    const all = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      target.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    const t0 = performance.now();
    target.writer.send(JSON.stringify({ brightness: target.latencies.length % 2 === 0 ? 20 : 30 }));
    if (!(await all)) {
      target.timeouts++;
      break;
    }
    target.latencies.push(performance.now() - t0);
  }
  target.elapsedMs += performance.now() - start;
  target.cpuSeconds += cpuSeconds(target.pid) - cpuAtStart;
}

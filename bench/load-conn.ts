import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type WebSocket from 'ws';
import { cpuSeconds } from './proc-stat.ts';
import { envelope, open, pool, sleep, waitFor } from './ws-util.ts';

/** Idle sockets (held until the runner has read the server's RSS) and connection churn. */

export interface IdleTask {
  kind: 'idle';
  target: 'edgecam' | 'raw';
  wsUrl: string;
  sockets: number;
  token?: string;
}

export interface ConnectTask {
  kind: 'connect';
  targets: { target: 'edgecam' | 'raw'; wsUrl: string; pid: number; token?: string }[];
  concurrency: number;
  /** Measured time per target, in `turns` turns. */
  measureMs: number;
  turns: number;
}

async function connectOne(target: 'edgecam' | 'raw', wsUrl: string, token?: string): Promise<WebSocket> {
  if (target === 'raw') return open(`${wsUrl}/idle`);
  const ws = await open(`${wsUrl}/ws/viewer`);
  const ack = waitFor(ws, (t) => t.includes('"hello_ack"') || t.includes('"error"'), 'hello_ack');
  ws.send(envelope('hello', { token }));
  const answer = await ack;
  if (!answer.includes('"hello_ack"')) throw new Error(`hello refused: ${answer}`);
  return ws;
}

export async function runIdle(task: IdleTask, ready: (info: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
  const sockets: WebSocket[] = [];
  const start = performance.now();
  let failed = 0;
  let firstError = '';
  await pool(task.sockets, 100, async () => {
    try {
      sockets.push(await connectOne(task.target, task.wsUrl, task.token));
    } catch (error) {
      failed++;
      firstError ||= String(error);
    }
  });
  const info = { connected: sockets.length, failed, firstError, setupMs: performance.now() - start };
  ready(info);
  // Hold them until the runner says it has measured.
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => {
    lines.once('line', () => resolve());
    lines.once('close', () => resolve());
  });
  lines.close();
  const stillOpen = sockets.filter((ws) => ws.readyState === ws.OPEN).length;
  for (const ws of sockets) ws.terminate();
  return { ...info, stillOpen };
}

/** Between turns: the server finishes closing the last turn's sockets before the next. */
const PAUSE_MS = 200;
const WARMUP_MS = 500;

/**
 * Connection churn, the targets in turns (edgecam, the raw server, then the other way round) as in the
 * other scenarios: one after the other, they fell into different stretches of this machine's speed.
 */
export async function runConnect(task: ConnectTask): Promise<Record<string, unknown>> {
  // Unmeasured first: the first turn in a fresh process ran at half the speed of the later ones.
  for (const target of task.targets) await churn(target, task.concurrency, WARMUP_MS);
  const turnMs = task.measureMs / task.turns;
  const totals = task.targets.map(() => ({
    completed: 0,
    failed: 0,
    firstError: '',
    elapsedMs: 0,
    cpuSeconds: 0,
    turns: [] as number[],
  }));
  for (let turn = 0; turn < task.turns; turn++) {
    for (let k = 0; k < task.targets.length; k++) {
      const i = (turn + k) % task.targets.length;
      const target = task.targets[i] as ConnectTask['targets'][number];
      const total = totals[i] as (typeof totals)[number];
      const cpuAtStart = cpuSeconds(target.pid);
      const result = await churn(target, task.concurrency, turnMs);
      total.cpuSeconds += cpuSeconds(target.pid) - cpuAtStart;
      total.completed += result.completed;
      total.failed += result.failed;
      total.firstError ||= result.firstError;
      total.elapsedMs += result.elapsedMs;
      total.turns.push(Math.round(result.completed / (result.elapsedMs / 1000)));
      await sleep(PAUSE_MS);
    }
  }
  const out: Record<string, unknown> = {};
  task.targets.forEach((target, i) => {
    const total = totals[i] as (typeof totals)[number];
    const seconds = total.elapsedMs / 1000;
    out[target.target] = {
      completed: total.completed,
      failed: total.failed,
      firstError: total.firstError,
      perSecond: total.completed / seconds,
      turnPerSecond: total.turns,
      serverCpu: Number((total.cpuSeconds / seconds).toFixed(2)),
    };
  });
  return out;
}

/** `concurrency` loops of connect (+ hello on edgecam) and drop, for `ms`. */
async function churn(
  target: ConnectTask['targets'][number],
  concurrency: number,
  ms: number,
): Promise<{ completed: number; failed: number; firstError: string; elapsedMs: number }> {
  let completed = 0;
  let failed = 0;
  let firstError = '';
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          const ws = await connectOne(target.target, target.wsUrl, target.token);
          ws.terminate();
          completed++;
        } catch (error) {
          failed++;
          firstError ||= String(error);
        }
      }
    }),
  );
  return { completed, failed, firstError, elapsedMs: performance.now() - start };
}

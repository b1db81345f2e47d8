import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type WebSocket from 'ws';
import { envelope, open, pool, waitFor } from './ws-util.ts';

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
  target: 'edgecam' | 'raw';
  wsUrl: string;
  concurrency: number;
  measureMs: number;
  token?: string;
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

export async function runConnect(task: ConnectTask): Promise<Record<string, unknown>> {
  let done = 0;
  let failed = 0;
  let firstError = '';
  const start = performance.now();
  const end = start + task.measureMs;
  await Promise.all(
    Array.from({ length: task.concurrency }, async () => {
      while (performance.now() < end) {
        try {
          const ws = await connectOne(task.target, task.wsUrl, task.token);
          ws.terminate();
          done++;
        } catch (error) {
          failed++;
          firstError ||= String(error);
        }
      }
    }),
  );
  const elapsed = performance.now() - start;
  return { completed: done, failed, firstError, perSecond: done / (elapsed / 1000) };
}

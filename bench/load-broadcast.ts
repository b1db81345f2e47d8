import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { summarize } from './stats.ts';
import { collectGarbage, open, pool, sleep, waitFor } from './ws-util.ts';

/**
 * Broadcast: N subscribers of one device, one writer changing `brightness`, one change in flight at a
 * time: the time until the last subscriber has it, and deliveries per second.
 */

export interface BroadcastTask {
  kind: 'broadcast';
  target: 'edgecam' | 'raw';
  wsUrl: string;
  subscribers: number;
  device?: string;
  token?: string;
  measureMs: number;
  maxChanges: number;
}

export async function runBroadcast(task: BroadcastTask): Promise<Record<string, unknown>> {
  const subUrl = task.target === 'edgecam' ? `${task.wsUrl}/api/v1?device=${task.device}` : `${task.wsUrl}/bcast?role=recv`;
  const writerUrl = task.target === 'edgecam' ? `${task.wsUrl}/api/v1?device=${task.device}` : `${task.wsUrl}/bcast?role=sender`;
  const subs: WebSocket[] = [];
  let got = 0;
  let wake: (() => void) | undefined;
  const setupStart = performance.now();
  await pool(task.subscribers, 100, async () => {
    const ws = await open(subUrl);
    ws.on('message', (data: Buffer) => {
      if (data.includes('"brightness"') && ++got === task.subscribers) wake?.();
    });
    subs.push(ws);
  });
  const writer = await open(writerUrl);
  if (task.target === 'edgecam') {
    const auth = waitFor(writer, (t) => t.includes('"authenticated"'), 'authenticated');
    writer.send(JSON.stringify({ token: task.token }));
    const answer = JSON.parse(await auth) as { authenticated: boolean };
    if (!answer.authenticated) throw new Error(`writer not authenticated: ${JSON.stringify(answer)}`);
  }
  const setupMs = performance.now() - setupStart;
  await sleep(300);
  collectGarbage();

  const latencies: number[] = [];
  let timeouts = 0;
  const start = performance.now();
  for (let i = 0; i < task.maxChanges && performance.now() - start < task.measureMs; i++) {
    got = 0;
    const all = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    const t0 = performance.now();
    writer.send(JSON.stringify({ brightness: i % 2 === 0 ? 20 : 30 }));
    if (!(await all)) {
      timeouts++;
      break;
    }
    latencies.push(performance.now() - t0);
  }
  const elapsed = performance.now() - start;
  const closedEarly = subs.filter((ws) => ws.readyState !== ws.OPEN).length;
  for (const ws of [writer, ...subs]) ws.terminate();
  return {
    setupMs,
    changes: latencies.length,
    timeouts,
    closedEarly,
    deliveriesPerSecond: (latencies.length * task.subscribers) / (elapsed / 1000),
    latency: summarize(latencies),
  };
}

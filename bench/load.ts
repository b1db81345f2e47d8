import { readFileSync } from 'node:fs';
import { type BroadcastTask, runBroadcast } from './load-broadcast.ts';
import { type ConnectTask, type IdleTask, runConnect, runIdle } from './load-conn.ts';
import { type RelayTask, runRelay } from './load-relay.ts';
import { type RelayRateTask, runRelayRate } from './load-relay-rate.ts';

/**
 * The load generator, a process of its own (pinned to another core than the server). It reads one task
 * as JSON from the file BENCH_TASK_FILE names, runs it and prints `RESULT <json>` (the idle task prints `READY <json>`
 * first and waits for a line on stdin). The runner bounds it with a timeout.
 */

export type Task = RelayTask | RelayRateTask | BroadcastTask | IdleTask | ConnectTask;

async function main(): Promise<void> {
  const file = process.env.BENCH_TASK_FILE;
  if (!file) throw new Error('BENCH_TASK_FILE is not set: bench/run.ts starts this process');
  const task = JSON.parse(readFileSync(file, 'utf8')) as Task;
  let result: Record<string, unknown>;
  if (task.kind === 'relay') result = await runRelay(task);
  else if (task.kind === 'relay-rate') result = await runRelayRate(task);
  else if (task.kind === 'broadcast') result = await runBroadcast(task);
  else if (task.kind === 'idle') result = await runIdle(task, (info) => console.log(`READY ${JSON.stringify(info)}`));
  else if (task.kind === 'connect') result = await runConnect(task);
  else throw new Error(`unknown task ${JSON.stringify(task)}`);
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

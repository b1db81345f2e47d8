import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from '../scripts/child-process.ts';
import { cpuSeconds } from './proc-stat.ts';

export { freePort, root, rssKb } from '../scripts/child-process.ts';

/** Child processes of the bench: started pinned to a core where possible, always killed at the end. */

const children = new Set<Child>();

export function killAll(): void {
  for (const child of children) child.signal('SIGKILL');
  children.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** The open-file limit a child gets when it asks for `want` (the soft limit, raised up to the hard one). */
export function fdLimit(want: number): number {
  const out = spawnSync('sh', ['-c', `ulimit -n ${want} 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null; ulimit -n`]);
  const value = out.stdout.toString().trim();
  return value === 'unlimited' ? want : Number(value) || 1024;
}

/** `sh -c` wrapper: raise the fd limit, then exec the command, pinned with taskset when it exists. */
function wrapped(core: number, fds: number, command: string[]): string[] {
  const pin = canPin ? ['taskset', '-c', String(core)] : [];
  return ['sh', '-c', `ulimit -n ${fds} 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null; exec "$@"`, 'sh', ...pin, ...command];
}

export interface Started extends Child {
  port: number;
}

/**
 * Starts a server and waits for its `… listening url=http://127.0.0.1:<port>` line or, with `probe`
 * (a URL), until that URL answers.
 */
export async function startServer(
  name: string,
  command: string[],
  env: Record<string, string>,
  core: number,
  fds: number,
  probe?: { port: number; path: string },
): Promise<Started> {
  const started = startProcess(command, env, core, fds);
  const listening = started
    .waitFor(/listening url=http:\/\/[^:\s]+:(\d+)/, 30_000, `${name} listening`)
    .then((match) => Number(match[1]));
  const answering = probe ? answers(started, probe) : new Promise<never>(() => {});
  const port = await Promise.race([listening, answering]);
  listening.catch(() => {});
  return Object.assign(started, { port });
}

/** Resolves once `probe` answers over HTTP, for a server whose LOG_LEVEL hides its start-up line. */
async function answers(started: Child, probe: { port: number; path: string }): Promise<number> {
  while (!started.done) {
    try {
      const res = await fetch(`http://127.0.0.1:${probe.port}${probe.path}`);
      await res.arrayBuffer();
      return probe.port;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return new Promise<never>(() => {});
}

/** Starts `command` pinned to `core`, in its own process group, killed when the bench exits. */
export function startProcess(command: string[], env: Record<string, string>, core: number, fds = 1024): Child {
  // sh and taskset exec, so the child's pid is the command's own.
  const child = spawnChild(wrapped(core, fds, command), { env, group: true });
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

/**
 * The load generator's V8 flags: `gc()` for `collectGarbage`, and a young generation large enough that
 * the garbage of 20,000 messages/s dies young instead of growing the old generation toward a major
 * collection inside a window.
 */
const LOAD_NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=32'];

/** SIGTERM to its group, SIGKILL after 3 s. */
export async function stop(started: Child): Promise<void> {
  await started.stop(3_000);
}

/** Load tasks started so far: each one's file gets its own name. */
let tasks = 0;

/**
 * Runs one load-generator task (bench/load.ts) in its own process on `core`; resolves with its result.
 * `onReady` runs when the task prints READY (the idle task), and the task is released when it resolves.
 */
export function runLoad(
  task: object,
  core: number,
  fds: number,
  timeoutMs: number,
  onReady?: (info: Record<string, unknown>) => Promise<void>,
): Promise<Record<string, unknown>> {
  // In a file, not the environment: one environment string holds at most 128 KiB on Linux, and the
  // task of 2,000 relay pairs (their ids and tokens) is larger (spawn failed with E2BIG).
  const taskFile = join(tmpdir(), `edgecam-bench-task-${process.pid}-${++tasks}.json`);
  writeFileSync(taskFile, JSON.stringify(task));
  const load = spawnChild(wrapped(core, fds, [process.execPath, ...LOAD_NODE_FLAGS, '--import', 'tsx', 'bench/load.ts']), {
    env: { BENCH_TASK_FILE: taskFile },
    group: true,
    stdin: true,
  });
  children.add(load);
  let stdout = '';
  let failure = '';
  let result: Record<string, unknown> | undefined;
  load.child.stdout?.on('data', (chunk) => {
    stdout += chunk;
    let newline = stdout.indexOf('\n');
    while (newline >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      if (line.startsWith('READY ')) {
        const info = JSON.parse(line.slice(6)) as Record<string, unknown>;
        (onReady ? onReady(info) : Promise.resolve())
          .catch((error) => {
            failure += String(error);
          })
          .finally(() => load.child.stdin?.end('go\n'));
      } else if (line.startsWith('RESULT ')) {
        result = JSON.parse(line.slice(7)) as Record<string, unknown>;
      }
      newline = stdout.indexOf('\n');
    }
  });
  const timer = setTimeout(() => load.signal('SIGKILL'), timeoutMs);
  return load.exited.then((code) => {
    clearTimeout(timer);
    children.delete(load);
    rmSync(taskFile, { force: true });
    if (code === 0 && result) return result;
    const why = code === null ? `was killed (timed out after ${timeoutMs} ms?)` : `exited with ${code}`;
    throw new Error(`load task ${why}:\n${(load.output() + failure).slice(-2000)}`);
  });
}

/**
 * Waits (at most `maxMs`) until none of `pids` uses more than a tick of CPU in 250 ms. A server still
 * draining the previous measurement's backlog (the max relay leaves megabytes in socket buffers)
 * shares core 0 with the next measurement and would slow down whichever server is measured next.
 */
export async function settle(pids: number[], maxMs = 15_000): Promise<number> {
  const start = performance.now();
  const total = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  let before = total();
  while (performance.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = total();
    if (now - before <= 0.01 * pids.length) break;
    before = now;
  }
  return Math.round(performance.now() - start);
}

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from './proc-stat.ts';

/** Child processes of the bench: started pinned to a core where possible, always killed at the end. */

export const root = new URL('..', import.meta.url).pathname;
const children = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of children) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }
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

export interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  output(): string;
}

/** A free loopback port (for a server whose start-up line LOG_LEVEL=warn hides). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
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
  const { child, output } = startProcess(command, env, core, fds);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s:\n${output()}`)), 30_000);
    const check = () => {
      const match = /listening url=http:\/\/[^:\s]+:(\d+)/.exec(output());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    if (probe) {
      const poll = async () => {
        while (child.exitCode === null) {
          try {
            const res = await fetch(`http://127.0.0.1:${probe.port}${probe.path}`);
            await res.arrayBuffer();
            clearTimeout(timer);
            return resolve(probe.port);
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      void poll();
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${output()}`));
    });
  });
  return { child, pid: child.pid as number, port, output };
}

/** Starts `command` pinned to `core`, in its own process group, killed when the bench exits. */
export function startProcess(command: string[], env: Record<string, string>, core: number, fds = 1024): Omit<Started, 'port'> {
  const [cmd, ...args] = wrapped(core, fds, command);
  const child = spawn(cmd as string, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  // sh and taskset exec, so the child's pid is the command's own.
  return { child, pid: child.pid as number, output: () => output };
}

/**
 * The load generator's V8 flags: `gc()` for `collectGarbage`, and a young generation large enough that
 * the garbage of 20,000 messages/s dies young instead of growing the old generation toward a major
 * collection inside a window.
 */
const LOAD_NODE_FLAGS = ['--expose-gc', '--max-semi-space-size=32'];

export function stop(started: Started): Promise<void> {
  return new Promise((resolve) => {
    if (started.child.exitCode !== null || started.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-started.pid, 'SIGKILL');
      } catch {}
    }, 3000);
    started.child.once('exit', () => {
      clearTimeout(timer);
      children.delete(started.child);
      resolve();
    });
    try {
      process.kill(-started.pid, 'SIGTERM');
    } catch {
      resolve();
    }
  });
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
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
  const [cmd, ...args] = wrapped(core, fds, [process.execPath, ...LOAD_NODE_FLAGS, '--import', 'tsx', 'bench/load.ts']);
  // In a file, not the environment: one environment string holds at most 128 KiB on Linux, and the
  // task of 2,000 relay pairs (their ids and tokens) is larger (spawn failed with E2BIG).
  const taskFile = join(tmpdir(), `edgecam-bench-task-${process.pid}-${++tasks}.json`);
  writeFileSync(taskFile, JSON.stringify(task));
  const child = spawn(cmd as string, args, {
    cwd: root,
    env: { ...process.env, BENCH_TASK_FILE: taskFile },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let result: Record<string, unknown> | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {}
      reject(new Error(`load task timed out after ${timeoutMs} ms:\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      let newline = stdout.indexOf('\n');
      while (newline >= 0) {
        const line = stdout.slice(0, newline);
        stdout = stdout.slice(newline + 1);
        if (line.startsWith('READY ')) {
          const info = JSON.parse(line.slice(6)) as Record<string, unknown>;
          (onReady ? onReady(info) : Promise.resolve())
            .catch((error) => {
              stderr += String(error);
            })
            .finally(() => child.stdin?.end('go\n'));
        } else if (line.startsWith('RESULT ')) {
          result = JSON.parse(line.slice(7)) as Record<string, unknown>;
        }
        newline = stdout.indexOf('\n');
      }
    });
    child.stdin?.on('error', () => {});
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      rmSync(taskFile, { force: true });
      if (code === 0 && result) resolve(result);
      else reject(new Error(`load task exited with ${code}:\n${stderr.slice(-2000)}`));
    });
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

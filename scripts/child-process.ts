import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';

/**
 * How the tests and the bench start the programs they drive (the server on each runtime, the device
 * agent, the bench's load generators): one place that keeps a child's output for the error that needs
 * it, knows when it has exited, and stops it — the whole process group when it has one, so that what
 * it started (workerd under Miniflare, a pinned command under `sh`) goes with it.
 */

export const root = new URL('..', import.meta.url).pathname;

export interface Child {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far, interleaved as they arrived; or one of them. */
  output(stream?: 'stdout' | 'stderr'): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** True once it has exited. */
  readonly done: boolean;
  /** Sends `signal` to the child, or to its whole group when it was started with `group`. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** Resolves with the first match of `pattern` in the output; rejects on exit or after `ms`. */
  waitFor(pattern: RegExp, ms: number, what: string): Promise<RegExpExecArray>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Its own process group: signals reach everything it started. */
  group?: boolean;
  /** A pipe to write to (the bench's load tasks wait for "go" on stdin). */
  stdin?: boolean;
}

export function spawnChild(command: readonly string[], options: SpawnOptions = {}): Child {
  const [cmd, ...args] = command;
  const child = spawn(cmd as string, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  let output = '';
  const streams = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.on('data', (chunk: Buffer) => {
      output += chunk;
      streams[name] += chunk;
    });
  }
  child.stdin?.on('error', () => {});
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    });
    // A command that cannot be started emits 'error' and no 'exit'.
    child.once('error', (error) => {
      output += `\n${error.message}`;
      done = true;
      resolve(null);
    });
  });
  const signal = (name: NodeJS.Signals) => {
    if (done) return;
    try {
      if (options.group) process.kill(-(child.pid as number), name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  return {
    child,
    pid: child.pid as number,
    output: (stream) => (stream ? streams[stream] : output),
    exited,
    get done() {
      return done;
    },
    signal,
    async stop(graceMs = 8_000) {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    waitFor(pattern, ms, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (!match) return false;
          finish();
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${what} did not happen in ${ms / 1000} s:\n${output}`));
        }, ms);
        // The child keeps the event loop alive while it runs; this timer alone should not.
        timer.unref();
        const finish = () => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.stderr?.off('data', check);
        };
        if (check()) return;
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        exited.then((code) => {
          if (check()) return;
          finish();
          reject(new Error(`exited with ${code} before ${what}:\n${output}`));
        });
      });
    },
  };
}

/** A free loopback port, for a program that cannot pick one itself (wrangler dev, a server whose log is quiet). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resident memory of a process, in KiB (Linux). */
export function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

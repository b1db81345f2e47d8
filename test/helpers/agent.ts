import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { eventually } from './eventually.ts';

/**
 * The device agent as users run it: `src/agent/main.ts` as a child process, its output kept for the
 * assertion that fails. Every agent a test starts is stopped by `stopAgents()` in the file's `after`,
 * even when an assertion failed first.
 */

const root = new URL('../..', import.meta.url).pathname;
const running = new Set<AgentProcess>();

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 8 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function runAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/agent/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const agent: AgentProcess = {
    child,
    pid: child.pid as number,
    output: () => output,
    exited,
    async stop() {
      running.delete(agent);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  running.add(agent);
  return agent;
}

export async function stopAgents(): Promise<void> {
  await Promise.all([...running].map((agent) => agent.stop()));
}

/** The file descriptors a process holds (sockets included): what a leak shows up in. */
export function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** `eventually`, with the agent's output when it fails. */
export function waitFor<T>(what: string, check: () => T | Promise<T>, ms = 5_000, agent?: AgentProcess) {
  return eventually(what, check, { ms, everyMs: 50, context: agent ? () => `agent output:\n${agent.output()}` : undefined });
}

import { readdirSync } from 'node:fs';
import { type Child, spawnChild } from '../../scripts/child-process.ts';
import { eventually } from './eventually.ts';

/**
 * The device agent as users run it: `src/agent/main.ts` as a child process, its output kept for the
 * assertion that fails. Every agent a test starts is stopped by `stopAgents()` in the file's `after`,
 * even when an assertion failed first.
 */

const running = new Set<AgentProcess>();

export type AgentProcess = Child;

export function runAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const agent = spawnChild([process.execPath, '--import', 'tsx', 'src/agent/main.ts', ...args], { env });
  running.add(agent);
  agent.exited.then(() => running.delete(agent));
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

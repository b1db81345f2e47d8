import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts the real server as a child process on a free loopback port. The conformance suite is written
 * against this, so the same tests can run against every runtime: EDGECAM_TARGET picks which one.
 */

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export type TargetName = 'node' | 'deno' | 'workerd';

export function currentTarget(): TargetName {
  const name = process.env.EDGECAM_TARGET ?? 'node';
  if (name !== 'node' && name !== 'deno' && name !== 'workerd') throw new Error(`unknown EDGECAM_TARGET ${name}`);
  return name;
}

const root = new URL('../..', import.meta.url).pathname;
const commands: Record<TargetName, () => string[]> = {
  node: () => [process.execPath, '--import', 'tsx', 'src/runtime/node/main.ts'],
  deno: () => [`${root}node_modules/.bin/deno`, 'run', '-A', 'src/runtime/deno/main.ts'],
  workerd: () => [process.execPath, '--import', 'tsx', 'scripts/start-worker.ts'],
};

/**
 * What a runtime cannot do, with the reason; a test that needs it is skipped there, saying why.
 * docs/deploy.md lists the same differences.
 */
export function unsupported(
  feature:
    | 'pings'
    | 'send-buffer'
    | 'graceful-close'
    | 'strict-upgrade'
    | 'if-none-match-star'
    | 'process-memory'
    | 'frame-size-at-header'
    | 'prompt-teardown',
): string | false {
  if (currentTarget() !== 'workerd') return false;
  return {
    pings: "Durable Objects cannot send WebSocket pings; Cloudflare's edge drops dead TCP peers",
    'send-buffer': 'Workers expose no bufferedAmount; the runtime buffers and bounds output itself',
    'graceful-close': 'stopping wrangler dev kills workerd without a close frame; deploys close sockets the same way',
    'strict-upgrade': "wrangler dev's local proxy completes a malformed upgrade itself before the Worker sees it",
    'if-none-match-star': "Cloudflare's asset server answers the panel's files there, and it does not honour If-None-Match: *",
    'process-memory': 'the Worker runs inside workerd, whose memory the harness does not measure; an isolate has 128 MB',
    'prompt-teardown':
      'local workerd ends the connection of a socket that never sent a frame about 10 s after a close it did not start (the close frame itself arrives at once)',
    'frame-size-at-header':
      'workerd reads a whole message (up to 32 MiB, the platform limit) before the Durable Object can refuse it',
  }[feature];
}

/** wrangler dev cannot pick a free port itself (PORT=0), so the harness finds one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface TestServer {
  url: string;
  wsUrl: string;
  dataDir: string;
  /** The server process (Node, Deno); for workerd, the harness that runs it. */
  pid: number;
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'edgecam-test-'));
  const [command, ...args] = commands[currentTarget()]();
  const child = spawn(command as string, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: currentTarget() === 'workerd' ? String(await freePort()) : '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      PASSWORD_ITERATIONS: '100000',
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a kill also reaches what it started (workerd under Miniflare).
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const onData = () => {
      const match = /edgecam listening url=http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const owned = opts.dataDir === undefined;
  const cleanup = () => {
    if (owned) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    dataDir,
    pid: child.pid as number,
    output: () => output,
    async stop() {
      signalGroup(child, 'SIGTERM');
      const code = await exited;
      cleanup();
      return code;
    },
    async kill() {
      signalGroup(child, 'SIGKILL');
      await exited;
    },
  };
}

/** SIGTERM goes to the server alone (it stops what it started); SIGKILL to its whole group. */
function signalGroup(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): void {
  try {
    if (signal === 'SIGKILL') process.kill(-(child.pid as number), signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

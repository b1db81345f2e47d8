import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, rssKb, spawnChild } from '../../scripts/child-process.ts';

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

/** How the server of `target` is started (cwd: the repository's root). */
export function serverCommand(target = currentTarget()): string[] {
  return commands[target]();
}

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
    | 'prompt-teardown'
    | 'tls',
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
    tls: "TLS_CERT and TLS_KEY are for Node and Deno: on Workers Cloudflare's edge serves HTTPS, and the local Worker refuses them",
    'frame-size-at-header':
      'workerd reads a whole message (up to 32 MiB, the platform limit) before the Durable Object can refuse it',
  }[feature];
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

/** The "listening" line in either log format: `… url=http://host:port` or `{…"url":"https://host:port"…}`. */
const LISTENING = /edgecam listening.*?url"?[=:]"?(https?):\/\/[^:]+:(\d+)/;

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'edgecam-test-'));
  const server = spawnChild(serverCommand(), {
    env: {
      PORT: currentTarget() === 'workerd' ? String(await freePort()) : '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      PASSWORD_ITERATIONS: '100000',
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    // Its own process group, so a kill also reaches what it started (workerd under Miniflare).
    group: true,
  });
  const [, scheme, port] = await server.waitFor(LISTENING, 60_000, 'the server listening');
  const owned = opts.dataDir === undefined;
  return {
    // With TLS_CERT and TLS_KEY the server speaks https and wss.
    url: `${scheme}://127.0.0.1:${port}`,
    wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    dataDir,
    pid: server.pid,
    output: server.output,
    async stop() {
      // SIGTERM to the server alone: it stops what it started, as it would under a service manager.
      server.child.kill('SIGTERM');
      const code = await server.exited;
      if (owned) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    async kill() {
      server.signal('SIGKILL');
      await server.exited;
    },
  };
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  return rssKb(pid) * 1024;
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { createLogger, errorText } from '../../core/log.ts';
import { VERSION } from '../../core/version.ts';
import type { HostSocket, SocketEvents } from '../in-process/host.ts';
import { storedSecret } from '../in-process/secret-file.ts';
import { createLocalServer } from '../in-process/server.ts';
import { SqliteStore } from '../node/sqlite.ts';

/** `npm run start:deno`: the same server on Deno — Deno.serve, Deno's WebSockets, the same SQLite store. */

async function main(): Promise<void> {
  const config = loadConfig(Deno.env.toObject());
  const log = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true });
  config.jwtSecret = storedSecret(config.dataDir, config.jwtSecret, (path) =>
    log.info('generated JWT_SECRET and saved it', { path }),
  );
  const store = new SqliteStore(
    join(config.dataDir, 'edgecam.db'),
    Deno.env.get('SQLITE_SYNCHRONOUS') === 'full' ? 'full' : 'normal',
    (error) => log.error('store flush failed', { error: errorText(error) }),
  );

  const { host, app } = await createLocalServer({
    config,
    log,
    store,
    runtime: 'deno',
    version: VERSION,
    clientAddress: (c) => {
      const info = (c.env as { remoteAddr?: Deno.NetAddr } | undefined)?.remoteAddr;
      return info?.hostname || 'unknown';
    },
    upgrade: (c, roomId, info) => {
      // Deno pings idle sockets itself and closes those that do not answer: the dead-peer check.
      const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
        idleTimeout: Math.max(1, Math.round(config.heartbeatTimeoutMs / 3000)),
      });
      socket.binaryType = 'arraybuffer';
      const orderly = orderlyClose(socket);
      socket.onopen = () => attach(socket, orderly, host.connect(roomId, crypto.randomUUID(), orderly, info));
      return response;
    },
  });

  const server = Deno.serve(
    {
      port: config.port,
      hostname: config.host,
      onListen: ({ port }) =>
        log.info('edgecam listening', {
          url: `http://${config.host}:${port}`,
          runtime: 'deno',
          version: VERSION,
          data: config.dataDir,
        }),
    },
    (request, info) => app.fetch(request, { remoteAddr: info.remoteAddr }),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    host.shutdown('Server shutting down');
    await server.shutdown();
    store.close();
    log.info('stopped');
    Deno.exit(0);
  };
  Deno.addSignalListener('SIGTERM', () => void stop('SIGTERM'));
  Deno.addSignalListener('SIGINT', () => void stop('SIGINT'));
}

/**
 * Deno's send() is asynchronous and close() does not wait for it: an error frame sent just before a
 * close could be lost. And closing while the client's frames are still arriving (a flood cut off with
 * 1008) resets the connection: the client sees 1006 and loses what we sent last, the reason included.
 * So a close waits, at most a second, until what was sent has gone out and the client has been quiet
 * for QUIET_MS: 200, because 50 still lost the close once in a loaded test run (the rest of a flood
 * arrived after a longer pause).
 */
const QUIET_MS = 200;

function orderlyClose(socket: WebSocket): HostSocket & { heard(): void } {
  let lastHeard = 0;
  return {
    heard: () => {
      lastHeard = Date.now();
    },
    send: (data) => socket.send(data),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    close(code, reason) {
      const deadline = Date.now() + 1_000;
      const attempt = () => {
        const busy = socket.bufferedAmount > 0 || Date.now() - lastHeard < QUIET_MS;
        if (busy && Date.now() < deadline) return void setTimeout(attempt, 10);
        try {
          socket.close(code, reason);
        } catch {
          // already closed
        }
      };
      attempt();
    },
  };
}

function attach(socket: WebSocket, orderly: { heard(): void }, events: SocketEvents): void {
  socket.onmessage = (event) => {
    orderly.heard();
    events.message(event.data as string | ArrayBuffer);
  };
  socket.onclose = (event) => events.close(event.code, event.reason);
  socket.onerror = () => {};
}

globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  console.error(`${new Date().toISOString()} error unhandled rejection error=${JSON.stringify(errorText(event.reason))}`);
});

main().catch((error) => {
  if (error instanceof ConfigError) console.error(`edgecam: ${error.message}`);
  else console.error(error);
  Deno.exit(1);
});

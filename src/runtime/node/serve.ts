import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { serve as listen } from '@hono/node-server';
import type { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { createLogger, errorText } from '../../core/log.ts';
import { VERSION } from '../../core/version.ts';
import type { SocketEvents } from '../in-process/host.ts';
import { storedSecret } from '../in-process/secret-file.ts';
import { createLocalServer } from '../in-process/server.ts';
import { KeepAlive } from './keepalive.ts';
import { flushCorked, NodeSocket } from './socket.ts';
import { SqliteStore } from './sqlite.ts';
import { readTlsFiles } from './tls.ts';
import { type NodeEnv, NodeUpgrades } from './upgrade.ts';

/**
 * The self-hosted server over `node:http` (`node:https` with TLS_CERT and TLS_KEY) and `ws`: `npm start`
 * on Node.js, and `npm run start:deno` on Deno, through its Node compatibility. Rooms in-process, state
 * in SQLite under DATA_DIR. `ws` reads a frame's length from its header and refuses one over
 * MAX_MESSAGE_BYTES (1009) before buffering it; Deno's own `Deno.upgradeWebSocket` buffers a whole
 * frame, up to 64 MiB, before the server sees it.
 */
export async function serve(runtime: 'node' | 'deno'): Promise<void> {
  const config = loadConfig(process.env);
  // Read before anything is created, so a bad certificate stops the start with nothing to undo.
  const tls = config.tls && readTlsFiles(config.tls);
  const log = createLogger(config.logLevel, console.log, config.logFormat);
  mkdirSync(config.dataDir, { recursive: true });
  config.jwtSecret = storedSecret(config.dataDir, config.jwtSecret, (path) =>
    log.info('generated JWT_SECRET and saved it', { path }),
  );
  const synchronous = process.env.SQLITE_SYNCHRONOUS === 'full' ? 'full' : 'normal';
  const store = new SqliteStore(join(config.dataDir, 'edgecam.db'), synchronous, (error) =>
    log.error('store flush failed', { error: errorText(error) }),
  );

  const upgrades = new NodeUpgrades(config.maxMessageBytes);
  const keepAlive = new KeepAlive(Math.max(1000, config.heartbeatTimeoutMs / 3));
  const { host, app } = await createLocalServer({
    config,
    log,
    store,
    runtime,
    version: VERSION,
    clientAddress: (c) => (c.env as NodeEnv).incoming.socket.remoteAddress || 'unknown',
    upgrade: (c, roomId, info) =>
      upgrades.accept(c, (ws, tcp) => attach(ws, host.connect(roomId, randomUUID(), new NodeSocket(ws, tcp), info), keepAlive)),
  });

  // With TLS the port speaks only TLS: a plain HTTP request fails the handshake and gets no answer.
  const https = tls ? { createServer: createHttpsServer, serverOptions: tls } : {};
  const server = listen({ fetch: app.fetch, port: config.port, hostname: config.host, ...https }, (address) => {
    const [scheme, wsScheme] = tls ? ['https', 'wss'] : ['http', 'ws'];
    log.info('edgecam listening', {
      url: `${scheme}://${config.host}:${address.port}`,
      ws: `${wsScheme}://${config.host}:${address.port}/ws/`,
      runtime,
      version: VERSION,
      data: config.dataDir,
    });
  });
  upgrades.listen(server as Server, (request, env) => app.fetch(request, env));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    keepAlive.stop();
    server.close();
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    host.shutdown('Server shutting down');
    flushCorked();
    store.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function attach(ws: WebSocket, events: SocketEvents, keepAlive: KeepAlive): void {
  keepAlive.track(ws);
  ws.on('message', (data, isBinary) => {
    keepAlive.seen(ws);
    if (!isBinary) return events.message(data.toString());
    const buffer = data as Buffer;
    events.message(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer);
  });
  ws.on('close', (code, reason) => events.close(code, reason.toString()));
  // Without an error listener a socket error would crash the process (websockets/ws#1716); a close follows.
  ws.on('error', () => {});
}

/** Runs the server; a bad configuration is reported in one line and exits 1. */
export function run(runtime: 'node' | 'deno'): void {
  process.on('unhandledRejection', (error) => {
    console.error(`${new Date().toISOString()} error unhandled rejection error=${JSON.stringify(errorText(error))}`);
  });
  serve(runtime).catch((error) => {
    if (error instanceof ConfigError) console.error(`edgecam: ${error.message}`);
    else console.error(error);
    process.exit(1);
  });
}

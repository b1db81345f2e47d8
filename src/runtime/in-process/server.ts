import { tokenKey } from '../../core/auth/tokens.ts';
import { systemClock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { type AppOptions, createApp } from '../../core/http/app.ts';
import type { Logger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics/metrics.ts';
import type { Services } from '../../core/ports.ts';
import { roomsVia } from '../../core/rooms/index.ts';
import { REGISTRY_SHARDS } from '../../core/rooms/registry-room.ts';
import { type HostStore, InProcessHost } from './host.ts';
import { loadStaticFiles, PUBLIC_DIR } from './static-files.ts';

/**
 * The parts of a self-hosted server that Node and Deno share: the room host, services, the app and
 * the first-start bootstrap. Each runtime adds its HTTP server, sockets and store.
 */

export interface LocalServerOptions {
  config: Config;
  log: Logger;
  store: HostStore;
  runtime: 'node' | 'deno';
  version: string;
  upgrade: AppOptions['upgrade'];
  clientAddress: AppOptions['clientAddress'];
}

export async function createLocalServer(opts: LocalServerOptions) {
  const host = new InProcessHost(opts.store);
  const metrics = new Metrics();
  const services: Services = {
    config: opts.config,
    log: opts.log,
    rooms: roomsVia(host.call, host.tell, metrics),
    metrics,
    clock: systemClock,
    tokens: tokenKey(opts.config.jwtSecret ?? '', opts.config.tokenTtlS, systemClock, opts.config.tokenCacheSize),
  };
  host.start(services);
  const staticFiles = loadStaticFiles();
  if (staticFiles) opts.log.info('web panel', { files: staticFiles.size, dir: PUBLIC_DIR });
  else opts.log.warn('web panel not built: / shows a plain page; run `npm run build`', { dir: PUBLIC_DIR });
  const app = createApp({
    services,
    runtime: opts.runtime,
    version: opts.version,
    startedAt: services.clock.now(),
    upgrade: opts.upgrade,
    clientAddress: opts.clientAddress,
    socketsOpen: () => host.socketCount(),
    metricsScope: 'process',
    staticFiles,
  });
  await services.rooms.directory().bootstrap();
  // Every socket of the last run closed with its process: no listing may still show its device online.
  await Promise.all(Array.from({ length: REGISTRY_SHARDS }, (_, shard) => services.rooms.registry(shard).restarted()));
  return { host, app, services };
}

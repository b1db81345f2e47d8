import { ConfigError } from '../../core/config.ts';
import { createApp } from '../../core/http/app.ts';
import { errorText } from '../../core/log.ts';
import { VERSION } from '../../core/version.ts';
import { CONNECT_HEADER, ROOM_HEADER } from './room-object.ts';
import { createServices, type Env, roomStub } from './services.ts';

export { RoomObject } from './room-object.ts';

/**
 * The Worker: the core's HTTP app, with every room a Durable Object (`RoomObject`) reached by RPC
 * and every socket handed to its room's object, which accepts it with the Hibernation API.
 */

interface Worker {
  app: ReturnType<typeof createApp>;
  /** The first-start admin, made once per isolate before the first request is served (cheap after). */
  ready: Promise<void> | undefined;
  bootstrap(): Promise<void>;
}

let worker: Worker | undefined;

function buildWorker(env: Env): Worker {
  const services = createServices(env, 'worker');
  const app = createApp({
    services,
    runtime: 'workerd',
    version: VERSION,
    startedAt: services.clock.now(),
    // Cloudflare tells who connected; behind a proxy of yours, TRUST_PROXY applies as everywhere.
    clientAddress: (c) => c.req.header('cf-connecting-ip') || 'unknown',
    // Each isolate sees only a share of the sockets, so there is no count to give.
    socketsOpen: () => null,
    metricsScope: 'front',
    upgrade: (c, roomId, info) => {
      const headers = new Headers(c.req.raw.headers);
      headers.set(ROOM_HEADER, roomId);
      headers.set(CONNECT_HEADER, JSON.stringify(info));
      return roomStub(env, roomId).fetch(new Request(c.req.raw.url, { headers }));
    },
  });
  return { app, ready: undefined, bootstrap: () => services.rooms.directory().bootstrap() };
}

export default {
  async fetch(request, env, ctx) {
    let current: Worker;
    try {
      current = worker ??= buildWorker(env);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : errorText(error);
      console.error(`${new Date().toISOString()} error edgecam cannot start: ${message}`);
      return Response.json({ error: `Server misconfigured: ${message}` }, { status: 500 });
    }
    current.ready ??= current.bootstrap().catch((error) => {
      current.ready = undefined;
      console.error(`${new Date().toISOString()} error bootstrap failed error=${JSON.stringify(errorText(error))}`);
    });
    await current.ready;
    return current.app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

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

let app: ReturnType<typeof createApp> | undefined;

function buildApp(env: Env) {
  const services = createServices(env);
  return createApp({
    services,
    runtime: 'workerd',
    version: VERSION,
    startedAt: Date.now(),
    clientAddress: (c) => c.req.header('cf-connecting-ip') ?? 'unknown',
    // Each isolate sees only a share of the sockets, so there is no count to give.
    socketsOpen: () => null,
    upgrade: (c, roomId, info) => {
      const headers = new Headers(c.req.raw.headers);
      headers.set(ROOM_HEADER, roomId);
      headers.set(CONNECT_HEADER, JSON.stringify(info));
      return roomStub(env, roomId).fetch(new Request(c.req.raw.url, { headers }));
    },
  });
}

export default {
  fetch(request, env, ctx) {
    try {
      app ??= buildApp(env);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : errorText(error);
      console.error(`${new Date().toISOString()} error edgecam cannot start: ${message}`);
      return Response.json({ error: `Server misconfigured: ${message}` }, { status: 500 });
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

import { Hono } from 'hono';
import { describeKeys } from '../../state/describe.ts';
import { countDevices } from '../device-listing.ts';
import type { AppOptions, Env } from '../env.ts';
import { openApiDocument } from '../openapi/document.ts';

/** What the server is: a greeting, a health check, its status, the camera state's keys and the API's OpenAPI document. */
export function about(opts: AppOptions): Hono<Env> {
  const { services } = opts;
  const { rooms, config } = services;
  return new Hono<Env>()
    .get('/', (c) =>
      c.text(
        `edgecam ${opts.version}: a camera-control and WebRTC-signaling server. See /api/status.\n` +
          'The web panel is not built: run `npm run build` (npm start does it for you).\n',
      ),
    )
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/api/status', async (c) => {
      const counts = await countDevices(rooms);
      return c.json({
        version: opts.version,
        runtime: opts.runtime,
        uptime_s: Math.floor((services.clock.now() - opts.startedAt) / 1000),
        devices_registered: counts.devices,
        devices_online: counts.online,
        sockets_open: opts.socketsOpen(),
      });
    })
    .get('/api/schema', (c) => c.json({ anonymous_read: config.anonymousRead, keys: describeKeys() }))
    .get('/api/openapi.json', (c) => c.json(openApiDocument()));
}

import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { errorText } from '../log.ts';
import { serveStatic } from './assets.ts';
import type { AppOptions, Env } from './env.ts';
import { guards } from './guards.ts';
import { originAllowed } from './origin.ts';
import { about } from './routes/about.ts';
import { devices } from './routes/devices.ts';
import { metrics } from './routes/metrics.ts';
import { presets } from './routes/presets.ts';
import { schedules } from './routes/schedules.ts';
import { session } from './routes/session.ts';
import { sockets } from './routes/sockets.ts';
import { users } from './routes/users.ts';

export type { AppOptions } from './env.ts';

/**
 * The HTTP app every runtime serves: the checks every request passes (origin, CORS, body size), the
 * panel's files where the runtime serves them, then the routes, one sub-app per resource (`routes/`).
 */
export function createApp(opts: AppOptions): Hono<Env> {
  const { services } = opts;
  const { config, log } = services;
  const app = new Hono<Env>();

  app.use(
    '/api/*',
    cors({ origin: (origin, c) => (originAllowed(origin, c.req.header('host'), config.allowedOrigins) ? origin : null) }),
  );
  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !originAllowed(origin, c.req.header('host'), config.allowedOrigins)) {
      log.warn('origin refused', { origin, path: c.req.path });
      return c.json({ error: 'Origin not allowed', origin, hint: 'add this origin to ALLOWED_ORIGINS' }, 403);
    }
    await next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: (c) => c.json({ error: 'Request body too large', max_bytes: config.maxBodyBytes }, 413),
    }),
  );
  if (opts.staticFiles) app.use('*', serveStatic(opts.staticFiles));

  const guard = guards(opts);
  app.route('/', about(opts));
  app.route('/', metrics(opts, guard));
  app.route('/api', session(services, guard));
  app.route('/api/users', users(services, guard));
  app.route('/api/devices', devices(services, guard));
  app.route('/api/presets', presets(services, guard));
  app.route('/api/schedules', schedules(services, guard));
  app.route('/', sockets(opts, guard));

  app.notFound((c) => c.json({ error: 'Not found', path: c.req.path }, 404));
  app.onError((error, c) => {
    log.error('request failed', { method: c.req.method, path: c.req.path, error: errorText(error) });
    return c.json({ error: 'Internal server error' }, 500);
  });
  return app;
}

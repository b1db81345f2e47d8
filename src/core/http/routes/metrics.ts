import { Hono } from 'hono';
import { constantTimeEqual, utf8 } from '../../crypto.ts';
import { exposition } from '../../metrics/exposition.ts';
import { countDevices } from '../device-listing.ts';
import type { AppOptions, Env } from '../env.ts';
import { bearerOf, type Guards } from '../guards.ts';

/** GET /metrics: Prometheus text, for METRICS_TOKEN or an admin's token. */
export function metrics(opts: AppOptions, { userOf }: Guards): Hono<Env> {
  const { services } = opts;
  const { config } = services;

  const allowed = async (token: string | undefined): Promise<boolean> => {
    if (!token) return false;
    if (config.metricsToken && constantTimeEqual(utf8(token), utf8(config.metricsToken))) return true;
    const user = await userOf(token);
    return typeof user === 'object' && user?.role === 'admin';
  };

  return new Hono<Env>().get('/metrics', async (c) => {
    if (!(await allowed(bearerOf(c))))
      return c.json(
        {
          error: 'Unauthorized',
          hint: config.metricsToken
            ? 'send Authorization: Bearer <METRICS_TOKEN>, or an admin token'
            : "send an admin's token as Authorization: Bearer <token>, or set METRICS_TOKEN for a scraper",
        },
        401,
      );
    const text = exposition({ devices: await countDevices(services.rooms), metrics: services.metrics, scope: opts.metricsScope });
    return c.body(text, 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}

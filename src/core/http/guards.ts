import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { verifyUserToken } from '../auth/tokens.ts';
import type { AppOptions, Env } from './env.ts';

/** The middleware the routes share: who is asking, and from where. */
export function guards(opts: AppOptions) {
  const { services } = opts;
  const requireUser = createMiddleware<Env>(async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match)
      return c.json(
        { error: 'Missing bearer token', hint: 'log in with POST /api/login and send Authorization: Bearer <token>' },
        401,
      );
    const claims = await verifyUserToken(services.tokens, match[1] as string);
    if (!claims) return c.json({ error: 'Invalid or expired token', hint: 'log in again with POST /api/login' }, 401);
    // The user record, not the token, says what they may do now; a token issued before the user was
    // changed or removed (another generation) is no longer theirs.
    const profile = await services.rooms.user(claims.sub).session(claims.gen);
    if (!profile) {
      return c.json({ error: 'Invalid or expired token', hint: 'this user was changed or removed: log in again' }, 401);
    }
    c.set('user', profile);
    await next();
  });
  const requireAdmin = createMiddleware<Env>(async (c, next) => {
    if (c.get('user').role !== 'admin') return c.json({ error: 'Forbidden: this needs the admin role' }, 403);
    await next();
  });
  // Behind a proxy of yours (TRUST_PROXY), the client is the first X-Forwarded-For entry.
  const clientOf = (c: Context) =>
    (services.config.trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined) || opts.clientAddress(c);
  return { requireUser, requireAdmin, clientOf };
}

export type Guards = ReturnType<typeof guards>;

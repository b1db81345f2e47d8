import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { verifyUserToken } from '../auth/tokens.ts';
import type { Profile } from '../contract.ts';
import type { AppOptions, Env } from './env.ts';

/** The middleware the routes share: who is asking, and from where. */
export function guards(opts: AppOptions) {
  const { services } = opts;
  /** The user a bearer token stands for now: `invalid` for a bad or expired token, null for a changed user. */
  const userOf = async (token: string): Promise<Profile | 'invalid' | null> => {
    const claims = await verifyUserToken(services.tokens, token);
    if (!claims) return 'invalid';
    // The user record, not the token, says what they may do now; a token issued before the user was
    // changed or removed (another generation) is no longer theirs.
    return services.rooms.user(claims.sub).session(claims.gen);
  };
  const requireUser = createMiddleware<Env>(async (c, next) => {
    const token = bearerOf(c);
    if (!token)
      return c.json(
        { error: 'Missing bearer token', hint: 'log in with POST /api/login and send Authorization: Bearer <token>' },
        401,
      );
    const profile = await userOf(token);
    if (profile === 'invalid')
      return c.json({ error: 'Invalid or expired token', hint: 'log in again with POST /api/login' }, 401);
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
  return { requireUser, requireAdmin, clientOf, userOf };
}

/** The token of an `Authorization: Bearer` header, if there is one. */
export function bearerOf(c: Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
}

export type Guards = ReturnType<typeof guards>;

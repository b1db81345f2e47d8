import { Hono } from 'hono';
import { passwordLogin } from '../../auth/login.ts';
import { signUserToken } from '../../auth/tokens.ts';
import type { Services } from '../../ports.ts';
import { readBody } from '../body.ts';
import type { Env } from '../env.ts';
import type { Guards } from '../guards.ts';
import { LoginBody } from '../schemas.ts';

/** Logging in (a JWT for a username and password) and who the token's holder is. */
export function session(services: Services, { requireUser, clientOf }: Guards): Hono<Env> {
  const { config, log } = services;
  return new Hono<Env>()
    .post('/login', async (c) => {
      const body = await readBody(c, LoginBody);
      if (body instanceof Response) return body;
      const result = await passwordLogin(services, body.username, body.password, clientOf(c));
      if (!result.ok && result.retryAfter) {
        c.header('Retry-After', String(result.retryAfter));
        return c.json({ error: 'Too many failed logins; try again later', retry_after: result.retryAfter }, 429);
      }
      if (!result.ok) return c.json({ error: 'Invalid username or password' }, 401);
      const profile = result.session;
      const nowS = Math.floor(services.clock.now() / 1000);
      const claims = { sub: profile.username, role: profile.role, gen: profile.gen };
      const token = await signUserToken(services.tokens, claims, nowS);
      log.info('login', { username: profile.username, role: profile.role });
      return c.json({
        token,
        token_type: 'Bearer',
        expires_in: config.tokenTtlS,
        user: { username: profile.username, role: profile.role },
      });
    })
    .get('/me', requireUser, (c) => c.json(c.get('user')));
}

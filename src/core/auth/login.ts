import type { Services } from '../ports.ts';
import type { Session } from '../rooms/user-room.ts';

/**
 * Password login with throttling, for POST /api/login and the /api/v1 auth message alike: at most
 * LOGIN_MAX_FAILURES failures per username and LOGIN_MAX_FAILURES_PER_CLIENT per client address in
 * LOGIN_WINDOW_S; past that every attempt is refused, the right password too, until the window moves.
 */

export type LoginResult = { ok: true; session: Session } | { ok: false; retryAfter?: number };

export async function passwordLogin(
  services: Services,
  username: string,
  password: string,
  client: string,
): Promise<LoginResult> {
  const { config, rooms, log } = services;
  const window = config.loginWindowMs;
  const byClient = rooms.limiter(`client:${client}`);
  const byAccount = rooms.limiter(`user:${username}`);
  const wait = Math.max(
    await byClient.retryAfter(config.loginMaxFailuresPerClient, window),
    await byAccount.retryAfter(config.loginMaxFailures, window),
  );
  if (wait > 0) {
    log.warn('login throttled', { username, client, retry_after: wait });
    return { ok: false, retryAfter: wait };
  }
  await rooms.directory().bootstrap();
  const session = await rooms.user(username).verify(password);
  if (!session) {
    await Promise.all([byClient.fail(window), byAccount.fail(window)]);
    log.warn('login failed', { username, client });
    return { ok: false };
  }
  return { ok: true, session };
}

import type { LoginLimits, LoginOutcome, Session } from '../contract.ts';
import type { Services } from '../ports.ts';

/**
 * Password login with throttling, for POST /api/login and the /api/v1 auth message alike. Each attempt
 * is reserved with the username's and the client's limiters before the password is hashed (so parallel
 * guesses are counted before any is checked), and its outcome recorded after. Per username: at most
 * LOGIN_MAX_FAILURES failures in LOGIN_WINDOW_S (past that every attempt is refused, the right password
 * too, until the window moves); per client address LOGIN_MAX_FAILURES_PER_CLIENT. For both, at most
 * LOGIN_MAX_CONCURRENT attempts being checked at once and LOGIN_MAX_PER_MINUTE attempts of any outcome.
 */

export type LoginResult = { ok: true; session: Session } | { ok: false; retryAfter?: number };

export async function passwordLogin(
  services: Services,
  username: string,
  password: string,
  client: string,
): Promise<LoginResult> {
  const { config, rooms, log } = services;
  const limits = (maxFailures: number): LoginLimits => ({
    maxFailures,
    windowMs: config.loginWindowMs,
    maxConcurrent: config.loginMaxConcurrent,
    maxPerMinute: config.loginMaxPerMinute,
  });
  const byAccount = rooms.limiter(`user:${username}`);
  const byClient = rooms.limiter(`client:${client}`);
  const throttled = (retryAfter: number): LoginResult => {
    log.warn('login throttled', { username, client, retry_after: retryAfter });
    return { ok: false, retryAfter };
  };
  const accountWait = await byAccount.begin(limits(config.loginMaxFailures));
  if (accountWait > 0) return throttled(accountWait);
  const clientWait = await byClient.begin(limits(config.loginMaxFailuresPerClient));
  if (clientWait > 0) {
    await byAccount.end('cancelled', config.loginWindowMs);
    return throttled(clientWait);
  }
  const end = (outcome: LoginOutcome) =>
    Promise.all([byAccount.end(outcome, config.loginWindowMs), byClient.end(outcome, config.loginWindowMs)]);
  let session: Session | null;
  try {
    await rooms.directory().bootstrap();
    session = await rooms.user(username).verify(password);
  } catch (error) {
    await end('cancelled');
    throw error;
  }
  await end(session ? 'success' : 'failure');
  if (!session) {
    log.warn('login failed', { username, client });
    services.metrics.loginFailures++;
    return { ok: false };
  }
  return { ok: true, session };
}

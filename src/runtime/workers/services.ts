import { tokenKey } from '../../core/auth/tokens.ts';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { createLogger, errorText } from '../../core/log.ts';
import { Metrics } from '../../core/metrics/metrics.ts';
import type { Services } from '../../core/ports.ts';
import { type RoomCall, roomsVia } from '../../core/rooms/index.ts';
import { roomCall } from './room-call.ts';
import type { RoomObject } from './room-object.ts';

/** Bindings from wrangler.toml, plus every environment variable and secret as a string. */
export interface Env {
  ROOMS: DurableObjectNamespace<RoomObject>;
  [variable: string]: unknown;
}

export function roomStub(env: Env, id: string) {
  return env.ROOMS.get(env.ROOMS.idFromName(id));
}

/**
 * The same services in the Worker and in every Durable Object; throws ConfigError on a bad environment.
 * A Durable Object calls other rooms through kept stubs (`roomCall`), so its calls to one room stay in
 * order. The Worker makes a stub per call: one set of services serves all of an isolate's requests,
 * and a stub made for one request cannot be used by another.
 */
export function createServices(env: Env, host: 'worker' | 'durable-object'): Services {
  const config = loadConfig(env);
  // There is no disk to keep a generated secret on, and every isolate must sign with the same key.
  if (!config.jwtSecret) {
    throw new ConfigError(
      'JWT_SECRET is not set: run `wrangler secret put JWT_SECRET` (at least 32 bytes, e.g. from `openssl rand -base64 48`)',
    );
  }
  const log = createLogger(config.logLevel, console.log, config.logFormat);
  const call: RoomCall =
    host === 'durable-object'
      ? roomCall((id) => roomStub(env, id))
      : (id, method, args) => roomStub(env, id).call(id, method, args) as Promise<unknown>;
  const metrics = new Metrics();
  return {
    config,
    log,
    // One-way calls are RPCs nobody awaits; their failures are logged.
    rooms: roomsVia(
      call,
      (id, method, args, address) => {
        call(id, method, args, address).catch((error) =>
          log.error('one-way call failed', { room: id, method, error: errorText(error) }),
        );
      },
      metrics,
    ),
    metrics,
    clock: systemClock,
    tokens: tokenKey(config.jwtSecret, config.tokenTtlS, systemClock, config.tokenCacheSize),
  };
}

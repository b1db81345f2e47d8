// `PORT=N npm run start:worker`: the Worker in workerd through Miniflare, offline, reading the same
// environment variables as the Node and Deno servers. JWT_SECRET, when not set, is generated once into
// DATA_DIR as on Node; Durable Object storage persists under DATA_DIR/workerd. (`npx wrangler dev`
// works too; this starts in a second instead of ten, and shuts down cleanly on SIGTERM.)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { ENV_VARIABLES } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { storedSecret } from '../src/runtime/in-process/secret-file.ts';
import { PUBLIC_DIR } from '../src/runtime/in-process/static-files.ts';
import { bundleWorker, compatibilityDate } from './worker-bundle.ts';

const env = process.env;
// Refused rather than ignored: serving plain HTTP while the operator believes it is HTTPS is worse.
if (env.TLS_CERT || env.TLS_KEY) {
  console.error(
    'edgecam: TLS_CERT and TLS_KEY are for the Node and Deno servers; the local Worker serves plain HTTP (on Cloudflare, the edge serves HTTPS). Unset them, or run npm start or npm run start:deno',
  );
  process.exit(1);
}
const host = env.HOST || '0.0.0.0';
const port = Number(env.PORT || '8000');
const dataDir = env.DATA_DIR || './data';
const log = createLogger('info', console.log, env.LOG_FORMAT === 'json' ? 'json' : 'text');
mkdirSync(join(dataDir, 'workerd'), { recursive: true });

const bindings: Record<string, string> = {};
for (const name of ENV_VARIABLES) {
  const value = name === 'JWT_SECRET' ? storedSecret(dataDir, env.JWT_SECRET) : env[name];
  if (value) bindings[name] = value;
}

const scriptPath = join(dataDir, 'workerd', 'worker.js');
await bundleWorker(scriptPath);
const mf = new Miniflare({
  modules: true,
  scriptPath,
  modulesRoot: join(dataDir, 'workerd'),
  compatibilityDate,
  durableObjects: { ROOMS: { className: 'RoomObject', useSQLite: true } },
  durableObjectsPersist: join(dataDir, 'workerd', 'durable-objects'),
  // The web panel, as [assets] in wrangler.toml: served before the Worker, with dist/public/_headers.
  assets: {
    directory: PUBLIC_DIR,
    routerConfig: { has_user_worker: true },
    assetConfig: { html_handling: 'auto-trailing-slash', not_found_handling: 'none' },
  },
  bindings,
  host,
  port,
  // No `request.cf` lookup: it fetches Cloudflare's sample object from the internet on every start.
  cf: false,
  log: new Log(LogLevel.WARN),
});
const url = await mf.ready;
// The first request bootstraps the Worker (and prints a generated admin password, if any).
await mf.dispatchFetch(new URL('/api/status', url));
log.info('edgecam listening', { url: `http://${host}:${url.port}`, runtime: 'workerd' });

// Miniflare installs a signal hook that exits with 143 before workerd is stopped; ours stops workerd
// (every acknowledged write is already committed to SQLite) and exits 0, like the other runtimes.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.removeAllListeners(signal);
  process.once(signal, () => {
    log.info('shutting down', { signal });
    mf.dispose().finally(() => process.exit(0));
  });
}

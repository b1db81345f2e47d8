// `PORT=N npm run start:worker`: the Worker in workerd (wrangler dev), offline, reading the same
// environment variables as the Node and Deno servers. JWT_SECRET, when not set, is generated once
// into DATA_DIR as on Node; Durable Object storage persists under DATA_DIR/workerd.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARIABLES } from '../src/core/config.ts';
import { randomToken } from '../src/core/crypto.ts';

const env = process.env;
const host = env.HOST || '0.0.0.0';
const port = env.PORT || '8000';
const dataDir = env.DATA_DIR || './data';
mkdirSync(dataDir, { recursive: true });

function secret(): string {
  const path = join(dataDir, 'jwt-secret');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (stored) return stored;
  } catch {}
  const generated = randomToken(48);
  writeFileSync(path, `${generated}\n`, { mode: 0o600 });
  return generated;
}

const vars: string[] = [];
for (const name of ENV_VARIABLES) {
  const value = name === 'JWT_SECRET' ? env.JWT_SECRET || secret() : env[name];
  if (value) vars.push('--var', `${name}:${value}`);
}

const wrangler = spawn(
  join(import.meta.dirname, '../node_modules/.bin/wrangler'),
  [
    'dev',
    ...['--ip', host, '--port', port, '--persist-to', join(dataDir, 'workerd')],
    ...['--inspector-port', String(Number(port) + 10000), '--show-interactive-dev-session=false', '--log-level', 'log'],
    ...vars,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...env, WRANGLER_SEND_METRICS: 'false' } },
);

let announced = false;
wrangler.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (announced || !/Ready on/.test(chunk.toString())) return;
  announced = true;
  // The first request bootstraps the Worker (and prints a generated admin password, if any).
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  fetch(`${url}/api/status`)
    .then(() => console.log(`${new Date().toISOString()} info edgecam listening url=http://${host}:${port} runtime=workerd`))
    .catch((error) => console.error(`edgecam: the Worker did not answer: ${error}`));
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.on('exit', (code, signal) => process.exit(signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : (code ?? 0)));

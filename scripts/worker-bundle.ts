import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * The Worker bundled the way wrangler bundles it (ESM, workerd conditions, `cloudflare:*` external),
 * for running it in workerd through Miniflare: `npm run start:worker` and the Workers tests.
 */

const root = join(import.meta.dirname, '..');

export const compatibilityDate = /^compatibility_date\s*=\s*"([\d-]+)"/m.exec(
  readFileSync(join(root, 'wrangler.toml'), 'utf8'),
)?.[1] as string;

export async function bundleWorker(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(root, 'src/runtime/workers/index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    logLevel: 'silent',
  });
}

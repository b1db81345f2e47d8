// `npm run build`: the web panel and the simulator into dist/public — bundled, minified, named by content
// hash under assets/, pages pointing at them, and `_headers` for Workers static assets.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { build } from 'esbuild';
import { headersFile } from '../src/core/http/assets.ts';

const root = join(import.meta.dirname, '..');
const web = join(root, 'src/web');
const out = join(root, 'dist/public');

const started = performance.now();
rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { panel: join(web, 'panel/main.ts'), simulator: join(web, 'simulator/main.ts'), style: join(web, 'style.css') },
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

// 'panel.js' → '/assets/panel-HASH.js', from what esbuild wrote.
const built = new Map<string, string>();
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (!meta.entryPoint) continue;
  const name = basename(file).replace(/-[A-Z0-9]+\./, '.');
  built.set(name, `/${relative(out, join(root, file)).split('\\').join('/')}`);
}
for (const page of ['index.html', 'simulator.html']) {
  const html = readFileSync(join(web, page), 'utf8').replace(/%([a-z]+\.(?:js|css))%/g, (_, name: string) => {
    const path = built.get(name);
    if (!path) throw new Error(`${page} refers to %${name}%, which the build did not produce`);
    return path;
  });
  writeFileSync(join(out, page), html);
}
copyFileSync(join(web, 'favicon.svg'), join(out, 'favicon.svg'));
writeFileSync(join(out, '_headers'), `${headersFile()}\n`);
console.log(`built the web panel into ${relative(root, out)} in ${Math.round(performance.now() - started)} ms`);

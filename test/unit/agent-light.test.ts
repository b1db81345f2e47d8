import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';

/**
 * werift (some 25 MB) is loaded only by `--webrtc rtp`: nothing the agent imports statically reaches
 * it. esbuild follows the import graph; with code splitting, a module reached only through
 * `await import()` lands in a chunk of its own, which the entry point imports dynamically.
 */

test("the agent's static imports do not reach werift; --webrtc rtp loads it on demand", async () => {
  const result = await build({
    entryPoints: ['src/agent/main.ts'],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path]?.entryPoint === 'src/agent/main.ts') as string;
  // Everything loaded with the entry point: its chunk and the chunks it imports statically, transitively.
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const dependency of outputs[path]?.imports ?? []) if (dependency.kind === 'import-statement') visit(dependency.path);
  };
  visit(entry);
  const inputsOf = (paths: Iterable<string>) => [...paths].flatMap((path) => Object.keys(outputs[path]?.inputs ?? {}));
  assert.deepEqual(
    inputsOf(loaded).filter((input) => input.includes('node_modules/werift')),
    [],
  );
  const onDemand = Object.keys(outputs).filter((path) => !loaded.has(path));
  assert.ok(
    inputsOf(onDemand).some((input) => input.includes('node_modules/werift/')),
    'werift is in a chunk loaded on demand',
  );
  assert.ok(inputsOf(onDemand).includes('src/agent/webrtc/rtp-backend.ts'));
});

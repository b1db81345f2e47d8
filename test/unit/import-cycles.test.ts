import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/**
 * The core's import graph has no circle, type-only imports included: the contract (contract.ts,
 * ports.ts) sits beneath the rooms, never among them. A circle shows up here as the files it runs
 * through, in order.
 */

const root = new URL('../../src/core', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The core files `file` imports (static `import … from` and `export … from`, types too). */
function imports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), match[1] as string);
    if (target.startsWith(root)) found.push(target);
  }
  for (const match of source.matchAll(/import\('(\.{1,2}\/[^']+)'\)/g)) {
    const target = resolve(dirname(file), match[1] as string);
    if (target.startsWith(root)) found.push(target);
  }
  return found;
}

test('no file in src/core imports itself through others', () => {
  const graph = new Map(files(root).map((file) => [file, imports(file)]));
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(' → '));
      return;
    }
    state.set(file, 'visiting');
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file);
  assert.deepEqual(cycles, []);
});

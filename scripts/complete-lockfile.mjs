#!/usr/bin/env node
// The npm registry this project is built against serves only the platform packages of the
// machines we use (linux). npm then leaves other platforms' optional binaries (@biomejs/cli-darwin-*,
// @deno/win32-*, …) out of package-lock.json, and `npm ci` refuses the lockfile as out of sync.
// This adds each missing optional dependency as a version-only entry: `npm ci` accepts it and, on a
// platform that does not need it, never fetches it. Run after changing dependencies: npm run lockfile
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;

/** Where Node would find `name` from the package at `from`, or undefined. */
function resolve(from, name) {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
  }
}

let added = 0;
for (const [at, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolve(at, name)) continue;
    const target = packages[`node_modules/${name}`] ? `${at}/node_modules/${name}` : `node_modules/${name}`;
    packages[target] = { version: range, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} optional platform entries`);

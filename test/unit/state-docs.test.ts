import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { stateMarkdown } from '../../src/core/state/describe.ts';
import { KEYS } from '../../src/core/state/keys.ts';

test('docs/state.md is generated from the schema and up to date (npm run docs:state)', () => {
  const docs = readFileSync(new URL('../../docs/state.md', import.meta.url), 'utf8');
  assert.equal(docs, stateMarkdown());
  for (const def of KEYS) assert.ok(docs.includes(`| \`${def.key}\` |`), `${def.key} is listed`);
});

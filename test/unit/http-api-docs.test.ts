import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { httpApiMarkdown } from '../../scripts/http-api-markdown.ts';
import { openApiDocument } from '../../src/core/http/openapi/document.ts';

test('docs/http-api.md is generated from the OpenAPI document and up to date (npm run docs:http)', () => {
  const docs = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
  assert.equal(docs, httpApiMarkdown(openApiDocument()));
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    for (const method of Object.keys(item))
      assert.ok(docs.includes(`### \`${method.toUpperCase()} ${path}\``), `${method} ${path}`);
  }
});

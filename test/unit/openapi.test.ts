import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { tokenKey } from '../../src/core/auth/tokens.ts';
import { systemClock } from '../../src/core/clock.ts';
import { loadConfig } from '../../src/core/config.ts';
import { createApp } from '../../src/core/http/app.ts';
import { openApiDocument } from '../../src/core/http/openapi/document.ts';
import { createLogger } from '../../src/core/log.ts';
import { Metrics } from '../../src/core/metrics/metrics.ts';
import { roomsVia } from '../../src/core/rooms/index.ts';

/**
 * GET /api/openapi.json stays in step with the app: every route the app registers is documented and
 * every documented operation is routed, and the document is valid OpenAPI 3.1 with no dangling or
 * unused schema. (test/conformance/openapi.test.ts checks what the running server serves.)
 */

/** The app's routes as "METHOD /path/{param}": handlers only, not the middleware on `/*` paths. */
function appRoutes(): Set<string> {
  const unused = () => {
    throw new Error('no room is called while routes are only listed');
  };
  const metrics = new Metrics();
  const app = createApp({
    services: {
      config: loadConfig({}),
      log: createLogger('silent'),
      rooms: roomsVia(unused, unused, metrics),
      clock: systemClock,
      tokens: tokenKey('x'.repeat(32), 60, systemClock),
      metrics,
    },
    runtime: 'node',
    version: 'test',
    startedAt: 0,
    upgrade: unused,
    clientAddress: () => '127.0.0.1',
    socketsOpen: () => 0,
    metricsScope: 'process',
  });
  return new Set(
    app.routes
      .filter((route) => !route.path.endsWith('*'))
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`),
  );
}

function documented(): Set<string> {
  const operations = Object.entries(openApiDocument().paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  return new Set(operations);
}

/** Every `$ref` anywhere in `value`. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner)));
}

test('every route the app registers is in the document', () => {
  const missing = [...appRoutes()].filter((route) => !documented().has(route));
  assert.deepEqual(missing, [], 'add these to src/core/http/openapi/operations.ts');
});

test('every operation in the document is a route of the app', () => {
  const routes = appRoutes();
  const unrouted = [...documented()].filter((op) => !routes.has(op));
  assert.deepEqual(unrouted, [], 'documented but not routed: remove them or route them');
});

test('the document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(openApiDocument()) as unknown as Record<string, unknown>);
  assert.deepEqual(result.errors, undefined);
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.1');
});

test('every schema reference resolves, and every named schema is used', () => {
  const { paths, components } = openApiDocument();
  const names = Object.keys(components.schemas);
  const all = refs(openApiDocument()).map((ref) => ref.replace('#/components/schemas/', ''));
  assert.deepEqual(
    all.filter((name) => !names.includes(name)),
    [],
    'references to schemas the document does not hold',
  );
  // Reachable from the operations, through other schemas.
  const used = new Set(refs(paths).map((ref) => ref.replace('#/components/schemas/', '')));
  for (const name of used) for (const ref of refs(components.schemas[name])) used.add(ref.replace('#/components/schemas/', ''));
  assert.deepEqual(
    names.filter((name) => !used.has(name)),
    [],
    'named schemas no operation uses',
  );
});

test("each path's {templates} are its operations' path parameters, no more, no fewer", () => {
  for (const [path, item] of Object.entries(openApiDocument().paths)) {
    const templates = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
    for (const [method, op] of Object.entries(item)) {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(params, templates, `${method.toUpperCase()} ${path}`);
    }
  }
});

test('operation ids are unique', () => {
  const ids = Object.values(openApiDocument().paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
  assert.equal(new Set(ids).size, ids.length);
});

test('the document is built once', () => {
  assert.equal(openApiDocument(), openApiDocument());
});

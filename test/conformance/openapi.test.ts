import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { ApiDocument, OperationObject } from '../../src/core/http/openapi/document.ts';
import { api } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * GET /api/openapi.json as the running server serves it, on every runtime: valid OpenAPI 3.1, made
 * from the schemas the routes validate with, and saying what the server really answers.
 * (test/unit/openapi.test.ts checks it against the app's routes.)
 */

let server: TestServer;
let doc: ApiDocument;

before(async () => {
  server = await startServer();
  const res = await api(server.url, 'GET', '/api/openapi.json');
  assert.equal(res.status, 200, 'served without a token');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  doc = res.body;
});
after(() => server.stop());

// biome-ignore lint/suspicious/noExplicitAny: the tests walk whatever JSON Schema the document holds.
type Json = any;

/** `schema` with its `$ref` followed (to components.schemas). */
function resolve(schema: Json): Json {
  const ref: string | undefined = schema?.$ref;
  if (ref === undefined) return schema;
  const name = ref.replace('#/components/schemas/', '');
  assert.ok(doc.components.schemas[name], `${ref} is in components.schemas`);
  return resolve(doc.components.schemas[name]);
}

function operation(method: 'get' | 'post' | 'patch', path: string): OperationObject {
  const op = doc.paths[path]?.[method];
  assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
  return op;
}

test('the document is valid OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
  assert.deepEqual(result.errors, undefined);
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.1');
  assert.equal(doc.openapi, '3.1.0');
});

test("POST /api/devices takes device_id with DeviceId's pattern, and answers 201, 400, 401, 403, 409 and 413", () => {
  const op = operation('post', '/api/devices');
  const body = resolve(op.requestBody?.content['application/json']?.schema);
  assert.equal(body.type, 'object');
  assert.deepEqual(body.required, ['device_id']);
  const deviceId = resolve(body.properties.device_id);
  assert.equal(deviceId.type, 'string');
  assert.equal(deviceId.pattern, '^[A-Za-z0-9._-]{1,64}$');
  assert.equal(resolve(body.properties.name).maxLength, 64);
  assert.deepEqual(Object.keys(op.responses), ['201', '400', '401', '403', '409', '413']);
  assert.deepEqual(resolve(op.responses['201']?.content?.['application/json']?.schema).required, ['device_id', 'name', 'key']);
});

test('login: 200 with the token, 401 for bad credentials, 429 with Retry-After, and no security', () => {
  const op = operation('post', '/api/login');
  assert.equal(op.security, undefined);
  assert.ok(op.responses['401'], 'bad credentials are documented');
  assert.ok(op.responses['429']?.headers?.['Retry-After'], 'the throttle and its Retry-After are documented');
  const reply = resolve(op.responses['200']?.content?.['application/json']?.schema);
  assert.deepEqual(reply.properties.token_type, { const: 'Bearer' });
});

test('the devices listing takes limit (1-1000), cursor and q, and answers {devices, next_cursor}', () => {
  const op = operation('get', '/api/devices');
  const params = new Map((op.parameters ?? []).map((p) => [p.name, p]));
  assert.deepEqual([...params.keys()], ['limit', 'cursor', 'q']);
  for (const param of params.values()) assert.equal(param.in, 'query');
  for (const param of params.values()) assert.equal(param.required, false);
  // A query's number arrives as a string of digits.
  assert.deepEqual(params.get('limit')?.schema, { type: 'string', pattern: '^\\d{1,15}$' });
  assert.match(params.get('limit')?.description ?? '', /1 to 1000/);
  assert.equal(params.get('cursor')?.schema.pattern, '^[A-Za-z0-9_-]{1,128}$');
  assert.equal(params.get('q')?.schema.maxLength, 64);
  const page = resolve(op.responses['200']?.content?.['application/json']?.schema);
  assert.deepEqual(page.required, ['devices', 'next_cursor']);
});

test('a state change takes the camera-state keys, each with its own range, and no other key', () => {
  const op = operation('patch', '/api/devices/{id}/state');
  const body = resolve(op.requestBody?.content['application/json']?.schema);
  assert.equal(body.additionalProperties, false);
  assert.deepEqual(
    { ...body.properties.brightness, description: undefined },
    { type: 'integer', minimum: 0, maximum: 100, description: undefined },
  );
  assert.deepEqual(Object.keys(op.responses), ['200', '400', '401', '403', '404', '413']);
});

test('the WebSocket endpoints are GETs answering 101, and 426 to a plain GET', async () => {
  for (const path of ['/ws/device', '/ws/viewer', '/api/v1', '/ws/camera/', '/ws/camera']) {
    const op = operation('get', path);
    assert.ok(op.responses['101'], `${path}: 101 Switching Protocols`);
    assert.ok(op.responses['426'], `${path}: 426 Upgrade Required`);
    assert.equal((await api(server.url, 'GET', path)).status, 426, `${path} really answers 426`);
  }
});

test('the 401 of every token-guarded GET without parameters is what the server answers', async () => {
  const guarded = Object.entries(doc.paths).filter(
    ([path, item]) => !path.includes('{') && item.get?.security?.[0]?.user !== undefined,
  );
  assert.ok(guarded.length >= 5, 'the document marks the guarded operations');
  for (const [path, item] of guarded) {
    assert.ok(item.get?.responses['401'], `${path} documents its 401`);
    const res = await api(server.url, 'GET', path);
    assert.equal(res.status, 401, path);
    assert.equal(typeof res.body.error, 'string');
  }
});

test('a body that is not what the operation takes is the documented 400: error and message', async () => {
  const op = operation('post', '/api/login');
  const invalid = resolve(op.responses['400']?.content?.['application/json']?.schema);
  assert.deepEqual(invalid.required, ['error']);
  const res = await api(server.url, 'POST', '/api/login', { body: { username: 'admin' } });
  assert.equal(res.status, 400);
  assert.ok(invalid.properties.error.enum.includes(res.body.error), res.body.error);
  assert.match(res.body.message, /^body\.password: /);
});

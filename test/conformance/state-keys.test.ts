import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { api, login, registerDevice } from '../helpers/http.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/**
 * Every key's boundaries, derived from GET /api/schema: in range, just out of range, wrong type.
 * A key the schema grows without cases here fails the test rather than going unchecked.
 */

interface KeyDescription {
  key: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'trigger';
  default: unknown;
  min?: number;
  max?: number;
  values?: string[];
  pattern?: string;
  accepts?: unknown[];
  write: string;
}

let server: TestServer;
let admin: string;
let schema: KeyDescription[];

before(async () => {
  server = await startServer();
  admin = await login(server.url);
  await registerDevice(server.url, admin, 'cam');
  schema = (await api(server.url, 'GET', '/api/schema')).body.keys;
});
after(() => server.stop());

/** Strings whose format a length rule does not capture: [valid, invalid]. */
const stringCases: Record<string, [unknown[], unknown[]]> = {
  resolution: [
    ['160x120', '7680x4320', '1920x1080'],
    ['159x120', '160x119', '7681x4320', '7680x4321', '1920*1080', '1920x', 1920],
  ],
  bitrate: [
    ['100k', '50M', '800k', '2M', '1.5M'],
    ['99k', '50.1M', '2G', 'fast', '', 2000000],
  ],
  'ai-model': [
    ['a', 'object_detection', 'x'.repeat(64)],
    ['A', 'face recognition', 'x'.repeat(65), '', 3],
  ],
};

function cases(d: KeyDescription): [unknown[], unknown[]] {
  switch (d.type) {
    case 'integer': {
      const [min, max] = [d.min as number, d.max as number];
      return [
        [min, max, Math.round((min + max) / 2)],
        [min - 1, max + 1, min + 0.5, String(min), null, true],
      ];
    }
    case 'number': {
      const [min, max] = [d.min as number, d.max as number];
      return [
        [min, max, (min + max) / 2],
        [min - 0.01, max + 0.01, String(max), null],
      ];
    }
    case 'boolean':
      return [
        [true, false, 'on', 'off'],
        ['yes', 1, 0, null],
      ];
    case 'enum':
      return [
        [...(d.values ?? []), ...(d.accepts ?? [])],
        ['nope', 1, null],
      ];
    case 'trigger':
      return [[true], [false, 'yes', 1]];
    case 'string': {
      const custom = stringCases[d.key];
      if (custom) return custom;
      const max = Number(/^\^\.\{1,(\d+)\}\$$/.exec(d.pattern ?? '')?.[1]);
      assert.ok(max > 0, `no boundary cases for string key ${d.key}: add some to stringCases`);
      return [
        ['x', 'y'.repeat(max)],
        ['', 'z'.repeat(max + 1), 5, null],
      ];
    }
  }
}

test('every key accepts its boundaries and refuses what lies just outside them', async () => {
  assert.ok(schema.length >= 31, 'the schema lists every key');
  for (const d of schema) {
    const [valid, invalid] = cases(d);
    for (const value of valid) {
      const res = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { [d.key]: value } });
      if (d.write === 'device') {
        assert.deepEqual([res.status, res.body], [403, { error: 'Permission denied', key: d.key }], `${d.key} is read-only`);
      } else {
        assert.equal(res.status, 200, `${d.key} = ${JSON.stringify(value)} should be accepted: ${JSON.stringify(res.body)}`);
      }
    }
    if (d.write === 'device') continue;
    for (const value of invalid) {
      const res = await api(server.url, 'PATCH', '/api/devices/cam/state', { token: admin, body: { [d.key]: value } });
      assert.equal(res.status, 400, `${d.key} = ${JSON.stringify(value)} should be refused`);
      assert.equal(res.body.error, 'Invalid value');
      assert.equal(res.body.key, d.key);
      assert.equal(typeof res.body.message, 'string');
    }
  }
});

test('defaults in the schema are what a fresh device reports', async () => {
  await registerDevice(server.url, admin, 'fresh');
  const state = (await api(server.url, 'GET', '/api/devices/fresh/state', { token: admin })).body;
  for (const d of schema) {
    if (d.type === 'trigger') assert.ok(!(d.key in state), `${d.key} is not stored`);
    else assert.deepEqual(state[d.key], d.default, d.key);
  }
});

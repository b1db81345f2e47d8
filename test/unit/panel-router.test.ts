import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoute } from '../../src/web/panel/router.ts';

test('routes decode device ids, and a malformed escape stays as typed instead of throwing', () => {
  assert.deepEqual(parseRoute('#/devices/kitchen%20cam'), { name: 'device', id: 'kitchen cam' });
  assert.deepEqual(parseRoute('#/devices/%E0'), { name: 'device', id: '%E0' });
  assert.deepEqual(parseRoute('#/admin/users'), { name: 'users' });
  assert.deepEqual(parseRoute('#/nowhere'), { name: 'devices' });
});

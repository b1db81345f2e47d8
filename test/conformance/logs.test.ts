import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api } from '../helpers/http.ts';
import { startServer } from '../helpers/server.ts';

/** LOG_FORMAT=json: what a log shipper reads, one JSON object per line. */

test('with LOG_FORMAT=json every line the server prints is one JSON object with time, level and message', async (t) => {
  const server = await startServer({ env: { LOG_FORMAT: 'json' } });
  t.after(() => server.stop());
  const refused = await api(server.url, 'POST', '/api/login', { body: { username: 'admin', password: 'not-the-password' } });
  assert.equal(refused.status, 401);
  await server.stop();

  const lines = server
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '');
  const entries = lines.map((line) => {
    assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    return JSON.parse(line) as Record<string, unknown>;
  });
  for (const entry of entries) {
    assert.ok(!Number.isNaN(Date.parse(String(entry.time))), `time: ${JSON.stringify(entry)}`);
    assert.match(String(entry.level), /^(debug|info|warn|error)$/);
    assert.equal(typeof entry.message, 'string');
  }
  const listening = entries.find((e) => e.message === 'edgecam listening');
  assert.match(String(listening?.url), /^http:\/\/127\.0\.0\.1:\d+$/);
  const failed = entries.find((e) => e.message === 'login failed');
  assert.equal(failed?.level, 'warn');
  assert.equal(failed?.username, 'admin');
});

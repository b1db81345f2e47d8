import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, type TestServer, unsupported } from '../helpers/server.ts';

/**
 * The built web panel (npm run build) as each runtime serves it: Node and Deno from memory, Workers
 * as static assets. Same paths, types, caching and security headers everywhere.
 */

let server: TestServer;

before(async () => {
  server = await startServer();
});
after(() => server.stop());

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.url + path, { headers, redirect: 'manual' });
}

/** The hashed script and stylesheet the panel's page refers to. */
async function assetPaths(): Promise<string[]> {
  const html = await (await get('/')).text();
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
}

describe('the web panel files', () => {
  test('/ is the panel page, revalidated on each load, with a content security policy', async () => {
    const res = await get('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=0|no-cache/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await res.text(), /<div id="app">/);
  });

  test('/simulator is the simulator page', async () => {
    const res = await get('/simulator');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /camera simulator/);
  });

  test('hashed assets have their content type and are cached for a year', async () => {
    const paths = await assetPaths();
    assert.deepEqual(paths.map((p) => p.replace(/-[A-Z0-9]+\./, '.')).sort(), ['/assets/panel.js', '/assets/style.css']);
    for (const path of paths) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', path.endsWith('.js') ? /javascript/ : /^text\/css/);
      assert.match(res.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
      await res.arrayBuffer();
    }
  });

  test('a page fetched again with its ETag is answered 304 Not Modified', async () => {
    const first = await get('/');
    const etag = first.headers.get('etag');
    await first.text();
    assert.ok(etag, 'an ETag');
    const again = await get('/', { 'if-none-match': etag });
    assert.equal(again.status, 304);
    // The weak form a proxy may send back matches too (weak comparison, RFC 9110).
    assert.equal((await get('/', { 'if-none-match': `W/${etag.replace(/^W\//, '')}` })).status, 304);
    const other = await get('/', { 'if-none-match': '"something-else"' });
    assert.equal(other.status, 200);
    await other.text();
  });

  test('If-None-Match: * is answered 304', { skip: unsupported('if-none-match-star') }, async () => {
    assert.equal((await get('/', { 'if-none-match': '*' })).status, 304);
  });

  test('the API still answers next to the files, and unknown files are 404', async () => {
    const status = await get('/api/status');
    assert.equal(status.status, 200);
    assert.equal(((await status.json()) as { version: string }).version.length > 0, true);
    const missing = await get('/assets/nothing-here.js');
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});

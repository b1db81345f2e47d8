import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { after, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { Backoff } from '../../src/agent/backoff.ts';
import { Link } from '../../src/agent/link.ts';
import { createLogger } from '../../src/core/log.ts';
import { eventually } from '../helpers/eventually.ts';
import { makeTestCertificates } from '../helpers/tls.ts';

/** The agent's link against a bare `ws` server that misbehaves on purpose. */

const lines: string[] = [];
const log = createLogger('info', (line) => lines.push(line));
const links: Link[] = [];
after(() => Promise.all(links.map((link) => link.stop())));

async function server(options: { autoPong?: boolean } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  return { wss, url: `ws://127.0.0.1:${port}/ws/device` };
}

function link(url: string, timing: { pingMs?: number; deadMs?: number; ca?: string } = {}) {
  const received: string[] = [];
  const l = new Link(
    { url, log, backoff: new Backoff({ baseMs: 20, capMs: 100, jitter: true }), ...timing },
    { open: (send) => send('hello'), message: (data) => received.push(data.toString()) },
  );
  links.push(l);
  l.start();
  return { link: l, received };
}

test('says hello on every connection and reconnects after the server closes it', async () => {
  const { wss, url } = await server();
  const hellos: string[] = [];
  wss.on('connection', (ws) => ws.on('message', (data) => hellos.push(data.toString())));
  link(url);
  const [first] = await once(wss, 'connection');
  await eventually('the first hello', () => hellos.length === 1);
  first.close(1001, 'restarting');
  await once(wss, 'connection');
  await eventually('the second hello', () => hellos.length === 2);
  assert.deepEqual(hellos, ['hello', 'hello']);
  assert.ok(lines.some((l) => l.includes('disconnected code=1001') && l.includes('reconnect_in_ms=')));
  wss.close();
});

test('keeps retrying while the server is down, then connects', async () => {
  const { wss, url } = await server();
  const port = Number(new URL(url).port);
  wss.close();
  await once(wss, 'close');
  link(url);
  await eventually(
    'two failed attempts',
    () => lines.filter((l) => l.includes('connection failed') && l.includes(`:${port}`)).length >= 2,
  );
  const again = new WebSocketServer({ port, host: '127.0.0.1' });
  await once(again, 'connection');
  again.close();
});

test('drops a connection whose server stopped answering pings, and connects again', async () => {
  // autoPong off: a server that is "there" but never answers, like a peer behind a dead VPN.
  const { wss, url } = await server({ autoPong: false });
  link(url, { pingMs: 50, deadMs: 200 });
  const [first] = await once(wss, 'connection');
  const started = Date.now();
  const [second] = await once(wss, 'connection');
  assert.ok(Date.now() - started >= 150, 'not before the dead timeout');
  assert.ok(lines.some((l) => l.includes('no sign of life from the server')));
  first.terminate();
  second.terminate();
  wss.close();
});

test('a server that keeps talking is never dropped, pongs or not', async () => {
  const { wss, url } = await server({ autoPong: false });
  let connections = 0;
  // 80 ticks 20 ms apart: over three dead-times, counted in ticks sent, so a stalled machine stretches it.
  const talked = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      connections += 1;
      if (connections > 1) resolve(); // dropped: fail now rather than wait
      let ticks = 0;
      const timer = setInterval(() => {
        ws.send('tick');
        if (++ticks === 80) resolve();
      }, 20);
      ws.on('close', () => clearInterval(timer));
    });
  });
  const { received } = link(url, { pingMs: 100, deadMs: 500 });
  await talked;
  assert.equal(connections, 1);
  assert.ok(received.length > 5);
  for (const ws of wss.clients) ws.terminate();
  wss.close();
});

test('over wss, trusts the self-signed certificate given as ca, and without it says to pass --ca', async () => {
  const certs = makeTestCertificates();
  const https = createHttpsServer({ cert: readFileSync(certs.selfSignedFile), key: readFileSync(certs.selfSignedKeyFile) });
  const wss = new WebSocketServer({ server: https });
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  const url = `wss://127.0.0.1:${(https.address() as { port: number }).port}/ws/device`;
  try {
    const untrusting = link(url).link;
    await eventually('a refused connection', () =>
      lines.some((l) => l.includes('connection failed') && l.includes('self-signed certificate') && l.includes('--ca <pem>')),
    );
    await untrusting.stop();
    const hellos: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (data) => hellos.push(data.toString())));
    link(url, { ca: readFileSync(certs.selfSignedFile, 'utf8') });
    await eventually('the hello over wss', () => hellos.length === 1);
  } finally {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    https.close();
    certs.remove();
  }
});

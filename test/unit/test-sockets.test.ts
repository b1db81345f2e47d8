import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { TestSocket } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';

/** The tests' own socket helper: what a test leaves open, its cleanup closes. */

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
let url: string;
let open = 0;
server.on('connection', (ws) => {
  open++;
  ws.on('close', () => open--);
});
before(() =>
  new Promise<void>((resolve) => server.once('listening', resolve)).then(() => {
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }),
);
after(() => new Promise((resolve) => server.close(resolve)));

test('a test that leaves its sockets open (as one whose assertion failed would)', async () => {
  await TestSocket.open(url);
  await TestSocket.open(url);
  assert.equal(open, 2);
});

test('finds them closed by the time the next test runs', async () => {
  await eventually('the server to see both sockets closed', () => open === 0);
});

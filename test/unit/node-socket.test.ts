import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import WebSocketClient, { type WebSocket, WebSocketServer } from 'ws';
import { NodeSocket } from '../../src/runtime/node/socket.ts';

/** The Node adapter's socket: frames sent in one event-loop iteration leave in one write. */

/** Closed after each test, passed or failed, so a failure cannot leave the process running. */
const open: (() => void)[] = [];
afterEach(() => {
  for (const close of open.splice(0)) close();
});

async function pair() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket, unknown]>;
  const client = new WebSocketClient(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  await once(client, 'open');
  const [ws] = await accepted;
  const tcp = (ws as unknown as { _socket: Socket })._socket;
  let writes = 0;
  const writev = tcp._writev?.bind(tcp);
  const write = tcp._write.bind(tcp);
  // Count what reaches the TCP socket's own write functions: one call per system write.
  tcp._writev = (chunks, callback) => {
    writes++;
    writev?.(chunks, callback);
  };
  tcp._write = (chunk, encoding, callback) => {
    writes++;
    write(chunk, encoding, callback);
  };
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  /** Resolves once `count` messages have arrived at the client. */
  const receivedAll = async (count: number) => {
    while (received.length < count) await once(client, 'message');
    return received;
  };
  open.push(() => {
    client.terminate();
    wss.close();
  });
  return { socket: new NodeSocket(ws, tcp), writes: () => writes, receivedAll };
}

describe('NodeSocket', () => {
  test('frames sent in one callback are written together, in order, once the iteration ends', async () => {
    const { socket, writes, receivedAll } = await pair();
    for (let i = 0; i < 50; i++) socket.send(`frame ${i}`);
    assert.equal(writes(), 0, 'nothing is written before the turn ends');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes(), 1);
    assert.deepEqual(
      await receivedAll(50),
      Array.from({ length: 50 }, (_, i) => `frame ${i}`),
    );
  });

  test('frames sent by separate callbacks of one iteration are written together', async () => {
    const { socket, writes, receivedAll } = await pair();
    // Two immediates queued together run in one check phase, as reads of several sockets run in one
    // poll. (Two equal timers are not enough: the clock can tick between them and split their phase.)
    await new Promise<void>((resolve) => {
      setImmediate(() => socket.send('from the first callback'));
      setImmediate(() => {
        socket.send('from the second callback');
        resolve();
      });
    });
    assert.equal(writes(), 0, 'nothing is written before the iteration ends');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes(), 1);
    assert.deepEqual(await receivedAll(2), ['from the first callback', 'from the second callback']);
  });

  test('a socket that has 16 KiB to send writes it without waiting for the iteration to end', async () => {
    const { socket, writes, receivedAll } = await pair();
    const kilobyte = 'x'.repeat(1024);
    for (let i = 0; i < 40; i++) socket.send(`${i} ${kilobyte}`);
    assert.ok(writes() >= 2, `written as it filled up, not only at the end (${writes()} writes so far)`);
    await new Promise((resolve) => setImmediate(resolve));
    const received = await receivedAll(40);
    assert.deepEqual(
      received.map((m) => Number(m.split(' ')[0])),
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  test('a send to more than 64 sockets in one iteration writes the first 64 at once', async () => {
    const pairs = await Promise.all(Array.from({ length: 65 }, () => pair()));
    for (const [i, { socket }] of pairs.entries()) socket.send(`to ${i}`);
    const written = pairs.map(({ writes }) => writes());
    assert.deepEqual(written.slice(0, 64), Array(64).fill(1), 'the first 64 are written when the 65th is sent');
    assert.equal(written[64], 0, 'the 65th waits for the iteration to end');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pairs[64]?.writes(), 1);
    for (const [i, { receivedAll }] of pairs.entries()) assert.deepEqual(await receivedAll(1), [`to ${i}`]);
  });

  test('a frame sent in a later iteration is written on its own', async () => {
    const { socket, writes, receivedAll } = await pair();
    socket.send('first');
    await new Promise((resolve) => setImmediate(resolve));
    socket.send('second');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes(), 2);
    assert.deepEqual(await receivedAll(2), ['first', 'second']);
  });
});

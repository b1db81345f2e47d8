import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { KeepAlive } from '../../src/runtime/node/keepalive.ts';

/** A socket that counts pings and remembers being terminated; `pong()` answers like a live peer. */
class FakeSocket extends EventEmitter {
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
  }
  pong(): void {
    this.emit('pong');
  }
}

function setup(count: number) {
  const clients = new Set<WebSocket>();
  // An interval long enough that only the test's own tick() calls run.
  const keepAlive = new KeepAlive({ clients }, 3_600_000);
  const sockets = Array.from({ length: count }, () => {
    const socket = new FakeSocket();
    const ws = socket as unknown as WebSocket;
    clients.add(ws);
    keepAlive.track(ws);
    return socket;
  });
  return { keepAlive, sockets };
}

const stops: KeepAlive[] = [];
after(() => {
  for (const keepAlive of stops) keepAlive.stop();
});

describe('KeepAlive', () => {
  test('spreads one round of pings over ten ticks instead of pinging everyone at once', () => {
    const { keepAlive, sockets } = setup(100);
    stops.push(keepAlive);
    const perTick: number[] = [];
    for (let tick = 0; tick < 10; tick++) {
      const before = sockets.reduce((sum, s) => sum + s.pings, 0);
      keepAlive.tick();
      perTick.push(sockets.reduce((sum, s) => sum + s.pings, 0) - before);
    }
    assert.deepEqual(perTick, Array(10).fill(10));
    assert.ok(sockets.every((s) => s.pings === 1));
  });

  test('terminates a socket that neither answered its ping nor sent anything', () => {
    const { keepAlive, sockets } = setup(3);
    stops.push(keepAlive);
    const [silent, ponging, talking] = sockets as [FakeSocket, FakeSocket, FakeSocket];
    for (let tick = 0; tick < 10; tick++) keepAlive.tick();
    ponging.pong();
    keepAlive.seen(talking as unknown as WebSocket);
    for (let tick = 0; tick < 10; tick++) keepAlive.tick();
    assert.equal(silent.terminated, true);
    assert.equal(ponging.terminated, false);
    assert.equal(talking.terminated, false);
    assert.equal(ponging.pings, 2);
  });
});

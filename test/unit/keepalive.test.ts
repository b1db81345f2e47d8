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

/** Ten slices, ticking so rarely that only the test's own tick() calls run. */
function setup(count: number) {
  const keepAlive = new KeepAlive(3_600_000, 360_000);
  const sockets = Array.from({ length: count }, () => {
    const socket = new FakeSocket();
    keepAlive.track(socket as unknown as WebSocket);
    return socket;
  });
  return { keepAlive, sockets };
}

function pingsPerTick(keepAlive: KeepAlive, sockets: FakeSocket[], ticks: number): number[] {
  const perTick: number[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    const before = sockets.reduce((sum, s) => sum + s.pings, 0);
    keepAlive.tick();
    perTick.push(sockets.reduce((sum, s) => sum + s.pings, 0) - before);
  }
  return perTick;
}

const stops: KeepAlive[] = [];
after(() => {
  for (const keepAlive of stops) keepAlive.stop();
});

describe('KeepAlive', () => {
  test('spreads one round of pings over its slices instead of pinging everyone at once', () => {
    const { keepAlive, sockets } = setup(100);
    stops.push(keepAlive);
    assert.deepEqual(pingsPerTick(keepAlive, sockets, 10), Array(10).fill(10));
    assert.ok(sockets.every((s) => s.pings === 1));
  });

  test('has a slice per 100 ms of the interval, so a tick pings a few sockets however many are open', () => {
    const keepAlive = new KeepAlive(30_000);
    stops.push(keepAlive);
    const sockets = Array.from({ length: 3_000 }, () => new FakeSocket());
    for (const socket of sockets) keepAlive.track(socket as unknown as WebSocket);
    const perTick = pingsPerTick(keepAlive, sockets, 300);
    assert.deepEqual(perTick, Array(300).fill(10));
  });

  test('forgets a socket once it closes', () => {
    const { keepAlive, sockets } = setup(20);
    stops.push(keepAlive);
    const [closed, open] = sockets as [FakeSocket, FakeSocket];
    closed.emit('close');
    for (let tick = 0; tick < 20; tick++) keepAlive.tick();
    assert.equal(closed.pings, 0);
    assert.equal(closed.terminated, false);
    assert.equal(open.pings, 1);
    assert.equal(open.terminated, true);
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

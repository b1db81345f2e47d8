import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import type { Connection } from '../../src/core/ports.ts';
import { StateOutbox } from '../../src/core/state/outbox.ts';

/** A slow reader gets the latest value of each key once it drains; nobody else waits for it. */

function socket(id: string) {
  const sent: string[] = [];
  const conn = { id, state: null, setState() {}, send: (data: string) => void sent.push(data), close() {}, bufferedAmount: 0 };
  return { conn: conn as Connection & { bufferedAmount: number }, sent };
}

const render = (changes: object, seq: number, stream: string) => JSON.stringify({ stream, seq, ...changes });

describe('StateOutbox', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('sends straight through while the socket keeps up', () => {
    const outbox = new StateOutbox(1000, render);
    const a = socket('a');
    outbox.send(a.conn, 'a', { fps: 10 }, 1, 'text-1');
    outbox.send(a.conn, 'a', { fps: 11 }, 2, 'text-2');
    assert.deepEqual(a.sent, ['text-1', 'text-2']);
  });

  test('merges changes while backed up and sends only the latest values once drained', () => {
    const outbox = new StateOutbox(1000, render);
    const slow = socket('slow');
    const fast = socket('fast');
    slow.conn.bufferedAmount = 5000;
    for (let seq = 1; seq <= 3; seq++) {
      outbox.send(slow.conn, 'slow', { fps: 10 + seq }, seq, `t${seq}`);
      outbox.send(fast.conn, 'fast', { fps: 10 + seq }, seq, `t${seq}`);
    }
    outbox.send(slow.conn, 'slow', { brightness: 7 }, 4, 't4');
    assert.deepEqual(fast.sent, ['t1', 't2', 't3'], 'the fast reader is not held back');
    assert.deepEqual(slow.sent, []);
    mock.timers.tick(100);
    assert.deepEqual(slow.sent, [], 'still backed up');
    slow.conn.bufferedAmount = 0;
    mock.timers.tick(100);
    assert.deepEqual(
      slow.sent.map((s) => JSON.parse(s)),
      [{ stream: 'slow', seq: 4, fps: 13, brightness: 7 }],
    );
  });

  test('keeps order: once a stream is waiting, later changes join it even if the buffer drained', () => {
    const outbox = new StateOutbox(1000, render);
    const a = socket('a');
    a.conn.bufferedAmount = 5000;
    outbox.send(a.conn, 'a', { fps: 20 }, 1, 't1');
    a.conn.bufferedAmount = 0;
    outbox.send(a.conn, 'a', { fps: 21 }, 2, 't2');
    assert.deepEqual(a.sent, []);
    mock.timers.tick(50);
    assert.deepEqual(
      a.sent.map((s) => JSON.parse(s)),
      [{ stream: 'a', seq: 2, fps: 21 }],
    );
  });

  test('forget drops what a closed socket was waiting for', () => {
    const outbox = new StateOutbox(1000, render);
    const a = socket('a');
    a.conn.bufferedAmount = 5000;
    outbox.send(a.conn, 'a', { fps: 20 }, 1, 't1');
    outbox.forget('a');
    a.conn.bufferedAmount = 0;
    mock.timers.tick(50);
    assert.deepEqual(a.sent, []);
  });
});

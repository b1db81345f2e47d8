import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { throttle } from '../../src/web/panel/throttle.ts';

/** The panel's slider throttle: the first value at once, then at most one per interval, always the latest. */

test('a burst sends the first value at once and the last one when the interval ends', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const sent: number[] = [];
    const t = throttle((v: number) => sent.push(v), 150);
    for (let v = 1; v <= 60; v++) t.call(v);
    assert.deepEqual(sent, [1]);
    mock.timers.tick(149);
    assert.deepEqual(sent, [1]);
    mock.timers.tick(1);
    assert.deepEqual(sent, [1, 60]);
    mock.timers.tick(1000);
    assert.deepEqual(sent, [1, 60], 'nothing more without new values');
  } finally {
    mock.timers.reset();
  }
});

test('flush sends the pending value now, and its interval starts again from the flush', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const sent: number[] = [];
    const t = throttle((v: number) => sent.push(v), 150);
    t.call(1);
    t.call(2);
    mock.timers.tick(100);
    t.flush();
    assert.deepEqual(sent, [1, 2]);
    // The timer the flush replaced (due at 150 ms) must not send the next value early.
    t.call(3);
    mock.timers.tick(50);
    assert.deepEqual(sent, [1, 2]);
    mock.timers.tick(100);
    assert.deepEqual(sent, [1, 2, 3]);
    mock.timers.tick(500);
    assert.deepEqual(sent, [1, 2, 3]);
  } finally {
    mock.timers.reset();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/agent/backoff.ts';

test('delays double from the base up to the cap', () => {
  const backoff = new Backoff({ baseMs: 500, capMs: 30_000, jitter: false });
  const delays = Array.from({ length: 10 }, () => backoff.next());
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
});

test('full jitter picks between zero and the exponential delay', () => {
  const backoff = new Backoff({ baseMs: 500, capMs: 30_000, jitter: true, random: () => 0.5 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [250, 500, 1000]);
  const low = new Backoff({ baseMs: 500, capMs: 30_000, jitter: true, random: () => 0 });
  assert.equal(low.next(), 0);
  const high = new Backoff({ baseMs: 500, capMs: 30_000, jitter: true, random: () => 0.999999 });
  for (let i = 0; i < 20; i++) high.next();
  assert.ok(high.next() < 30_000);
});

test('a thousand failures neither overflow nor pass the cap', () => {
  const backoff = new Backoff({ baseMs: 500, capMs: 30_000, jitter: false });
  for (let i = 0; i < 1000; i++) backoff.next();
  assert.equal(backoff.next(), 30_000);
});

test('reset starts again from the base', () => {
  const backoff = new Backoff({ baseMs: 500, capMs: 30_000, jitter: false });
  backoff.next();
  backoff.next();
  assert.equal(backoff.failures, 2);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 500);
});

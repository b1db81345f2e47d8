import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TokenBucket } from '../../src/core/rate-limit.ts';

const T0 = 1_000_000;

function takeAll(bucket: TokenBucket, now: number, tries: number): number {
  let granted = 0;
  for (let i = 0; i < tries; i++) if (bucket.take(now)) granted++;
  return granted;
}

describe('TokenBucket', () => {
  test('a new bucket allows exactly burst takes at once', () => {
    const bucket = new TokenBucket(10, 5, T0);
    assert.equal(takeAll(bucket, T0, 20), 5);
  });

  test('an empty bucket refuses the next take', () => {
    const bucket = new TokenBucket(10, 5, T0);
    takeAll(bucket, T0, 5);
    assert.equal(bucket.take(T0), false);
  });

  test('an empty bucket refills at perSecond tokens a second', () => {
    const bucket = new TokenBucket(10, 5, T0);
    takeAll(bucket, T0, 5);
    assert.equal(takeAll(bucket, T0 + 300, 20), 3);
  });

  test('less than one token of refill is not enough for a take', () => {
    const bucket = new TokenBucket(10, 5, T0);
    takeAll(bucket, T0, 5);
    assert.equal(bucket.take(T0 + 99), false);
  });

  test('partial refills add up across takes', () => {
    const bucket = new TokenBucket(10, 5, T0);
    takeAll(bucket, T0, 5);
    assert.equal(bucket.take(T0 + 50), false);
    assert.equal(bucket.take(T0 + 100), true);
  });

  test('refill never exceeds burst, however long the bucket sits idle', () => {
    const bucket = new TokenBucket(10, 5, T0);
    takeAll(bucket, T0, 5);
    assert.equal(takeAll(bucket, T0 + 3_600_000, 20), 5);
  });

  test('a steady rate at perSecond is always allowed', () => {
    const bucket = new TokenBucket(4, 1, T0);
    for (let i = 1; i <= 40; i++) assert.equal(bucket.take(T0 + i * 250), true, `take ${i}`);
  });
});

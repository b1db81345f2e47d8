import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VerifiedTokens } from '../../src/core/auth/verified-tokens.ts';

describe('VerifiedTokens', () => {
  test('a remembered token is found until its exp, and not from then on', () => {
    const cache = new VerifiedTokens<string>(10);
    cache.remember('t', 'alice', 100);
    assert.equal(cache.get('t', 99), 'alice');
    assert.equal(cache.get('t', 100), undefined);
    assert.equal(cache.get('t', 99), undefined, 'an expired entry is dropped');
  });

  test('a token that was never remembered misses', () => {
    const cache = new VerifiedTokens<string>(10);
    cache.remember('t', 'alice', 100);
    assert.equal(cache.get('t.', 1), undefined);
  });

  test('past its size the least recently used token is forgotten', () => {
    const cache = new VerifiedTokens<string>(2);
    cache.remember('a', 'A', 100);
    cache.remember('b', 'B', 100);
    cache.get('a', 1);
    cache.remember('c', 'C', 100);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', 1), undefined);
    assert.equal(cache.get('a', 1), 'A');
    assert.equal(cache.get('c', 1), 'C');
  });

  test('size 0 remembers nothing', () => {
    const cache = new VerifiedTokens<string>(0);
    cache.remember('a', 'A', 100);
    assert.equal(cache.get('a', 1), undefined);
  });
});

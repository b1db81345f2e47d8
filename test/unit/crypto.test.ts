import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { base64, base64url, constantTimeEqual, fromBase64url, randomToken, utf8 } from '../../src/core/crypto.ts';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('base64url / fromBase64url', () => {
  for (let length = 0; length <= 5; length++) {
    test(`round-trips ${length} bytes of every padding case`, () => {
      const input = new Uint8Array(length).map((_, i) => 250 - i * 61);
      assert.deepEqual(fromBase64url(base64url(input)), input);
    });
  }

  test('round-trips all 256 byte values', () => {
    const input = new Uint8Array(256).map((_, i) => i);
    assert.deepEqual(fromBase64url(base64url(input)), input);
  });

  test('uses the URL-safe alphabet without padding', () => {
    assert.equal(base64url(bytes(0xfb, 0xff)), '-_8');
  });

  test('matches Node Buffer base64url encoding', () => {
    const input = utf8('héllo wörld ✓ ??>');
    assert.equal(base64url(input), Buffer.from(input).toString('base64url'));
  });
});

describe('base64', () => {
  test('uses the standard alphabet with padding', () => {
    assert.equal(base64(bytes(0xfb, 0xff)), '+/8=');
  });
});

describe('randomToken', () => {
  test('encodes the requested number of random bytes', () => {
    assert.equal(fromBase64url(randomToken(16)).length, 16);
  });
});

describe('constantTimeEqual', () => {
  test('equal arrays are equal', () => {
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 3)), true);
  });

  test('two empty arrays are equal', () => {
    assert.equal(constantTimeEqual(bytes(), bytes()), true);
  });

  test('arrays differing in the last byte are not equal', () => {
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 4)), false);
  });

  test('arrays differing in the first byte are not equal', () => {
    assert.equal(constantTimeEqual(bytes(0, 2, 3), bytes(1, 2, 3)), false);
  });

  test('arrays of different lengths are not equal, even when one is a prefix of the other', () => {
    assert.equal(constantTimeEqual(bytes(1, 2), bytes(1, 2, 3)), false);
  });
});

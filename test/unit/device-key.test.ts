import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashDeviceKey, newDeviceKey, verifyDeviceKey } from '../../src/core/auth/device-key.ts';

describe('device keys', () => {
  test('a new key is 43 characters of base64url, i.e. 256 bits', () => {
    const key = newDeviceKey();
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(key, 'base64url').length, 32);
  });

  test('two new keys differ', () => {
    assert.notEqual(newDeviceKey(), newDeviceKey());
  });

  test('a hash verifies the key it was made from', async () => {
    const key = newDeviceKey();
    assert.equal(await verifyDeviceKey(key, await hashDeviceKey(key)), true);
  });

  test('a hash rejects another key', async () => {
    const stored = await hashDeviceKey(newDeviceKey());
    assert.equal(await verifyDeviceKey(newDeviceKey(), stored), false);
  });

  test('a hash rejects a string that looks like a user JWT', async () => {
    const stored = await hashDeviceKey(newDeviceKey());
    const jwtLike = 'eyJhbGciOiJIUzI1NiIsInR5cCI6ImVkZ2VjYW0tdXNlcitqd3QifQ.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    assert.equal(await verifyDeviceKey(jwtLike, stored), false);
  });

  test('two hashes of the same key use different salts', async () => {
    const key = newDeviceKey();
    const [a, b] = [await hashDeviceKey(key), await hashDeviceKey(key)];
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.digest, b.digest);
  });

  test('the stored hash does not contain the key', async () => {
    const key = newDeviceKey();
    const stored = await hashDeviceKey(key);
    assert.equal(JSON.stringify(stored).includes(key), false);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/core/auth/password.ts';

// 100,000 is the per-call cap on workerd; 200,000 takes two chained calls. Both keep the suite quick.
const ONE_CALL = 100_000;
const TWO_CALLS = 200_000;

describe('hashPassword / verifyPassword', () => {
  test('a hash verifies with the password it was made from', async () => {
    const stored = await hashPassword('correct horse battery staple', ONE_CALL);
    assert.equal(await verifyPassword('correct horse battery staple', stored), true);
  });

  test('a hash does not verify with a wrong password', async () => {
    const stored = await hashPassword('correct horse battery staple', ONE_CALL);
    assert.equal(await verifyPassword('correct horse battery stapler', stored), false);
  });

  test('two hashes of the same password differ because each has its own salt', async () => {
    const a = await hashPassword('same password', ONE_CALL);
    const b = await hashPassword('same password', ONE_CALL);
    assert.notEqual(a, b);
    assert.notEqual(a.split('$')[2], b.split('$')[2]);
  });

  test('the stored string records the scheme and the iteration count', async () => {
    const stored = await hashPassword('pw', TWO_CALLS);
    const [scheme, iterations, salt, hash] = stored.split('$');
    assert.equal(scheme, 'pbkdf2-sha256-chain');
    assert.equal(iterations, '200000');
    assert.match(salt ?? '', /^[A-Za-z0-9_-]{22}$/); // 16 bytes
    assert.match(hash ?? '', /^[A-Za-z0-9_-]{43}$/); // 32 bytes
  });

  test('the stored string does not contain the password', async () => {
    const stored = await hashPassword('plaintext-marker', ONE_CALL);
    assert.equal(stored.includes('plaintext-marker'), false);
    assert.equal(stored.includes(Buffer.from('plaintext-marker').toString('base64url')), false);
  });

  test('hashes made with different iteration counts both verify', async () => {
    const one = await hashPassword('pw', ONE_CALL);
    const two = await hashPassword('pw', TWO_CALLS);
    assert.equal(await verifyPassword('pw', one), true);
    assert.equal(await verifyPassword('pw', two), true);
  });

  test('more than 100,000 iterations chain calls, so the result differs from a single call', async () => {
    const stored = await hashPassword('pw', TWO_CALLS);
    const [, , salt, hash] = stored.split('$');
    // The same salt and hash under a count of 100,000 must not verify: the second round did real work.
    assert.equal(await verifyPassword('pw', `pbkdf2-sha256-chain$${ONE_CALL}$${salt}$${hash}`), false);
  });

  test('a hash whose iteration count was tampered with does not verify', async () => {
    const stored = await hashPassword('pw', ONE_CALL);
    assert.equal(await verifyPassword('pw', stored.replace('$100000$', '$100001$')), false);
  });

  for (const stored of [
    '',
    'not a hash',
    'bcrypt$10$c2FsdA$aGFzaA',
    'pbkdf2-sha256-chain$100000$c2FsdA',
    'pbkdf2-sha256-chain$100000$$aGFzaA',
    'pbkdf2-sha256-chain$100000$c2FsdA$aGFzaA$extra',
    'pbkdf2-sha256-chain$abc$c2FsdA$aGFzaA',
    'pbkdf2-sha256-chain$0$c2FsdA$aGFzaA',
    'pbkdf2-sha256-chain$-100000$c2FsdA$aGFzaA',
    'pbkdf2-sha256-chain$1e400$c2FsdA$aGFzaA',
    'pbkdf2-sha256-chain$100000$!!!$???',
  ]) {
    test(`a malformed stored string returns false: ${JSON.stringify(stored)}`, async () => {
      assert.equal(await verifyPassword('pw', stored), false);
    });
  }

  test('a non-numeric iteration count cannot turn the stored hash into the plain password', async () => {
    // With NaN iterations the chain loop never runs, so the "derived" key would be the password's bytes.
    const plain = Buffer.from('hunter22').toString('base64url');
    assert.equal(await verifyPassword('hunter22', `pbkdf2-sha256-chain$abc$c2FsdA$${plain}`), false);
  });

  for (const iterations of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    test(`hashing refuses an iteration count of ${iterations}`, async () => {
      await assert.rejects(hashPassword('pw', iterations), RangeError);
    });
  }
});

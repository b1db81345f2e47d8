import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { ISSUER, signUserToken, tokenKey, USER_AUDIENCE, verifyUserToken } from '../../src/core/auth/tokens.ts';
import { systemClock } from '../../src/core/clock.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const key = tokenKey(SECRET, 3600, systemClock);
const secretBytes = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token made with jose directly, so each test can get exactly one thing wrong. */
function craft(overrides: { typ?: string; iss?: string; aud?: string; exp?: number | null; role?: string } = {}) {
  const t = now();
  const jwt = new SignJWT({ role: overrides.role ?? 'viewer' })
    .setProtectedHeader({ alg: 'HS256', typ: overrides.typ ?? 'edgecam-user+jwt' })
    .setSubject('alice')
    .setIssuer(overrides.iss ?? ISSUER)
    .setAudience(overrides.aud ?? USER_AUDIENCE)
    .setIssuedAt(t);
  if (overrides.exp !== null) jwt.setExpirationTime(overrides.exp ?? t + 600);
  return jwt.sign(secretBytes);
}

describe('signUserToken / verifyUserToken', () => {
  test("a signed token verifies and carries sub, role and the user record's generation", async () => {
    const token = await signUserToken(key, { sub: 'alice', role: 'operator', gen: 'g1' }, now());
    assert.deepEqual(await verifyUserToken(key, token), { sub: 'alice', role: 'operator', gen: 'g1' });
    // Tokens from before generations existed carry none.
    const old = await signUserToken(key, { sub: 'alice', role: 'operator' }, now());
    assert.deepEqual(await verifyUserToken(key, old), { sub: 'alice', role: 'operator', gen: '' });
  });

  test('a signed token is HS256 with the user typ and expires ttl seconds after nowS', async () => {
    const t = now();
    const token = await signUserToken(key, { sub: 'alice', role: 'admin' }, t);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    assert.deepEqual(header, { alg: 'HS256', typ: 'edgecam-user+jwt' });
    assert.equal(payload.iat, t);
    assert.equal(payload.exp, t + 3600);
    assert.equal(payload.iss, ISSUER);
    assert.equal(payload.aud, USER_AUDIENCE);
  });

  test('a token made by crafting the same claims by hand verifies (the crafting helper is sound)', async () => {
    assert.deepEqual(await verifyUserToken(key, await craft()), { sub: 'alice', role: 'viewer', gen: '' });
  });

  test('a token signed with another secret is rejected', async () => {
    const other = tokenKey('another-secret-that-is-also-32-bytes-long!', 3600, systemClock);
    const token = await signUserToken(other, { sub: 'alice', role: 'admin' }, now());
    assert.equal(await verifyUserToken(key, token), null);
  });

  test('an expired token is rejected', async () => {
    const token = await signUserToken(key, { sub: 'alice', role: 'admin' }, now() - 10 * 3600);
    assert.equal(await verifyUserToken(key, token), null);
  });

  test("expiry and issue time are judged by the key's clock, remembered tokens too", async () => {
    let nowMs = Date.UTC(2030, 0, 1);
    const moved = tokenKey(SECRET, 3600, { now: () => nowMs }, 10);
    const token = await signUserToken(moved, { sub: 'alice', role: 'admin' }, nowMs / 1000);
    nowMs -= 120_000;
    assert.equal(await verifyUserToken(moved, token), null, 'issued two minutes ahead of this clock');
    nowMs += 120_000 + 3599_000;
    assert.deepEqual(await verifyUserToken(moved, token), { sub: 'alice', role: 'admin', gen: '' });
    nowMs += 2_000;
    assert.equal(await verifyUserToken(moved, token), null, 'expired, though remembered a moment ago');
  });

  test('an unsigned token with alg none is rejected', async () => {
    const t = now();
    const header = b64url({ alg: 'none', typ: 'edgecam-user+jwt' });
    const payload = b64url({ sub: 'alice', role: 'admin', iss: ISSUER, aud: USER_AUDIENCE, iat: t, exp: t + 600 });
    assert.equal(await verifyUserToken(key, `${header}.${payload}.`), null);
  });

  test('a token for another audience is rejected', async () => {
    assert.equal(await verifyUserToken(key, await craft({ aud: 'edgecam:device' })), null);
  });

  test('a token from another issuer is rejected', async () => {
    assert.equal(await verifyUserToken(key, await craft({ iss: 'someone-else' })), null);
  });

  test('a token without exp is rejected', async () => {
    assert.equal(await verifyUserToken(key, await craft({ exp: null })), null);
  });

  test('a token with another typ header is rejected', async () => {
    assert.equal(await verifyUserToken(key, await craft({ typ: 'JWT' })), null);
  });

  test('a token with an unknown role is rejected', async () => {
    assert.equal(await verifyUserToken(key, await craft({ role: 'superuser' })), null);
  });

  for (const garbage of ['', 'garbage', 'a.b.c', '...', 'eyJhbGciOiJIUzI1NiJ9..', `${'x'.repeat(5000)}`]) {
    test(`a garbage string is rejected: ${JSON.stringify(garbage.slice(0, 20))}`, async () => {
      assert.equal(await verifyUserToken(key, garbage), null);
    });
  }
});

describe('verifyUserToken with remembered tokens', () => {
  test('a token verified once verifies again from the cache with the same claims', async () => {
    const cached = tokenKey(SECRET, 3600, systemClock, 10);
    const token = await signUserToken(cached, { sub: 'alice', role: 'operator' }, now());
    assert.deepEqual(await verifyUserToken(cached, token), { sub: 'alice', role: 'operator', gen: '' });
    assert.equal(cached.verified.size, 1);
    assert.deepEqual(await verifyUserToken(cached, token), { sub: 'alice', role: 'operator', gen: '' });
  });

  test('a rejected token is never remembered', async () => {
    const cached = tokenKey(SECRET, 3600, systemClock, 10);
    assert.equal(await verifyUserToken(cached, await craft({ aud: 'edgecam:device' })), null);
    assert.equal(cached.verified.size, 0);
  });

  test('a token that differs from a remembered one in its signature is still rejected', async () => {
    const cached = tokenKey(SECRET, 3600, systemClock, 10);
    const token = await signUserToken(cached, { sub: 'alice', role: 'admin' }, now());
    await verifyUserToken(cached, token);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`;
    assert.equal(await verifyUserToken(cached, tampered), null);
  });
});

import { base64url, constantTimeEqual, fromBase64url, randomBytes, utf8 } from '../crypto.ts';

/**
 * Password hashing that is as strong on Workers as on Node.
 *
 * workerd refuses PBKDF2 above 100,000 iterations per call (cloudflare/workerd#1346), while OWASP asks
 * 600,000 for PBKDF2-HMAC-SHA256. So we chain calls: each round feeds the previous derived key back in
 * as the password, which keeps the work strictly sequential (total cost = rounds × 100,000).
 * Format: `pbkdf2-sha256-chain$<total iterations>$<salt>$<hash>`; the iteration count is stored with
 * each hash, so raising PASSWORD_ITERATIONS affects new passwords only.
 */

const PER_CALL = 100_000;
const SCHEME = 'pbkdf2-sha256-chain';

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number) {
  let material: Uint8Array<ArrayBuffer> = utf8(password);
  for (let done = 0; done < iterations; done += PER_CALL) {
    const key = await crypto.subtle.importKey('raw', material, 'PBKDF2', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: Math.min(PER_CALL, iterations - done) },
      key,
      256,
    );
    material = new Uint8Array(bits);
  }
  return material;
}

export async function hashPassword(password: string, iterations: number): Promise<string> {
  // Zero, NaN or a fraction would skip the loop and store the password itself as the "hash".
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError(`bad PBKDF2 iteration count: ${iterations}`);
  const salt = randomBytes(16);
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, iterations, salt, hash] = parts;
  if (parts.length !== 4 || scheme !== SCHEME || !iterations || !salt || !hash) return false;
  // Only a plain positive count: "abc" (NaN) would skip hashing altogether and "1e400" would never end.
  if (!/^[1-9][0-9]{0,15}$/.test(iterations)) return false;
  let saltBytes: Uint8Array<ArrayBuffer>;
  let expected: Uint8Array<ArrayBuffer>;
  try {
    saltBytes = fromBase64url(salt);
    expected = fromBase64url(hash);
  } catch {
    return false; // not base64url
  }
  const actual = await derive(password, saltBytes, Number(iterations));
  return constantTimeEqual(actual, expected);
}

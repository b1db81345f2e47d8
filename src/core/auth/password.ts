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
  const salt = randomBytes(16);
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${base64url(salt)}$${base64url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$');
  if (scheme !== SCHEME || !iterations || !salt || !hash) return false;
  const actual = await derive(password, fromBase64url(salt), Number(iterations));
  return constantTimeEqual(actual, fromBase64url(hash));
}

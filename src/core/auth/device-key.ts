import { base64url, constantTimeEqual, fromBase64url, hmac, randomBytes, randomToken, utf8 } from '../crypto.ts';

/**
 * Device keys are random 256-bit secrets, not passwords: nobody can guess them, so a slow hash buys
 * nothing. We store HMAC-SHA256(salt, key) with a per-device random salt, which makes a device hello
 * cost microseconds, and compare in constant time.
 */

export interface DeviceKeyHash {
  salt: string;
  digest: string;
}

export function newDeviceKey(): string {
  return randomToken(32);
}

export async function hashDeviceKey(key: string): Promise<DeviceKeyHash> {
  const salt = randomBytes(16);
  return { salt: base64url(salt), digest: base64url(await hmac('SHA-256', salt, utf8(key))) };
}

export async function verifyDeviceKey(key: string, stored: DeviceKeyHash): Promise<boolean> {
  const digest = await hmac('SHA-256', fromBase64url(stored.salt), utf8(key));
  return constantTimeEqual(digest, fromBase64url(stored.digest));
}

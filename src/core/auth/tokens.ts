import { jwtVerify, SignJWT } from 'jose';
import * as v from 'valibot';
import type { Clock } from '../clock.ts';
import { utf8 } from '../crypto.ts';
import { VerifiedTokens } from './verified-tokens.ts';

/**
 * User JWTs (RFC 8725 hygiene): HS256 pinned, `exp`/`iss`/`aud` required, and an explicit `typ`
 * header so no other token this server might mint can stand in for a user token.
 */

export const ISSUER = 'edgecam';
/** How far ahead of this server's clock a token's `iat` may be (another instance's clock, say). */
export const CLOCK_SKEW_S = 60;
export const USER_AUDIENCE = 'edgecam:user';
const USER_TYPE = 'edgecam-user+jwt';

export const Role = v.picklist(['admin', 'operator', 'viewer']);
export type Role = v.InferOutput<typeof Role>;

const Claims = v.object({
  sub: v.pipe(v.string(), v.minLength(1)),
  role: Role,
  // The generation of the user's record the token was issued for (rooms/user-room.ts); tokens from
  // before generations existed have none, and match records that have none.
  gen: v.optional(v.string(), ''),
});
export type UserClaims = v.InferOutput<typeof Claims>;

export interface TokenKey {
  key: Uint8Array<ArrayBuffer>;
  ttlS: number;
  /** What `exp` and `iat` are checked against. */
  clock: Clock;
  verified: VerifiedTokens<UserClaims>;
}

/** `cacheSize`: how many verified tokens are remembered (TOKEN_CACHE_SIZE; 0 verifies every time). */
export function tokenKey(secret: string, ttlS: number, clock: Clock, cacheSize = 1000): TokenKey {
  return { key: utf8(secret), ttlS, clock, verified: new VerifiedTokens(cacheSize) };
}

export async function signUserToken(k: TokenKey, claims: v.InferInput<typeof Claims>, nowS: number): Promise<string> {
  return new SignJWT({ role: claims.role, gen: claims.gen })
    .setProtectedHeader({ alg: 'HS256', typ: USER_TYPE })
    .setSubject(claims.sub)
    .setIssuer(ISSUER)
    .setAudience(USER_AUDIENCE)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + k.ttlS)
    .sign(k.key);
}

/**
 * The token's claims, or null for anything forged, expired, mistyped, malformed, issued in the future
 * or living longer than this server issues them. Verified tokens are remembered until their `exp`.
 */
export async function verifyUserToken(k: TokenKey, token: string): Promise<UserClaims | null> {
  const now = k.clock.now();
  const known = k.verified.get(token, Math.floor(now / 1000));
  if (known) return known;
  try {
    const { payload } = await jwtVerify(token, k.key, {
      currentDate: new Date(now),
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: USER_AUDIENCE,
      typ: USER_TYPE,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    // A token this server would never issue: from the future, or living longer than TOKEN_TTL_S.
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > now / 1000 + CLOCK_SKEW_S || exp - iat > k.ttlS) return null;
    const claims = v.safeParse(Claims, payload);
    if (!claims.success) return null;
    k.verified.remember(token, claims.output, payload.exp as number);
    return claims.output;
  } catch {
    return null;
  }
}

/**
 * Tokens that have verified, by their exact string, so a client that reconnects or opens many sockets
 * with the same JWT pays for the HMAC once. Only a string that passed full verification is ever stored,
 * so a forged or altered token always misses; an entry is used only while the token's `exp` is ahead.
 * Bounded: the least recently used entry goes first.
 */
export class VerifiedTokens<Claims> {
  private readonly entries = new Map<string, { claims: Claims; exp: number }>();

  constructor(private readonly max: number) {}

  get(token: string, nowS: number): Claims | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    // Re-inserted, so the Map's insertion order stays least recently used first.
    this.entries.delete(token);
    if (entry.exp <= nowS) return undefined;
    this.entries.set(token, entry);
    return entry.claims;
  }

  remember(token: string, claims: Claims, exp: number): void {
    if (this.max === 0) return;
    this.entries.delete(token);
    this.entries.set(token, { claims, exp });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

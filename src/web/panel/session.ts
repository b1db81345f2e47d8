/** The logged-in user, kept in localStorage so a reload (or a second tab) stays logged in until the token expires. */

export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  token: string;
  username: string;
  role: Role;
  /** ms since the epoch. */
  expiresAt: number;
}

const KEY = 'edgecam.session';

export function loadSession(now = Date.now()): Session | null {
  try {
    const session = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    // A minute's margin: a token that expires while the page loads would fail the hello.
    return session && session.expiresAt - 60_000 > now ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

const RANK: Record<string, number> = { viewer: 0, operator: 1, admin: 2 };

/** May `role` write a key whose schema says `write` ('operator', 'admin', or 'device' for read-only keys)? */
export function mayWrite(role: Role, write: string): boolean {
  return write in RANK && (RANK[role] as number) >= (RANK[write] as number);
}

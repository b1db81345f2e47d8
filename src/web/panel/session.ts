import { atLeast, isRole } from '../../core/auth/roles.ts';
import type { Role } from '../../core/auth/tokens.ts';

/** The logged-in user, kept in localStorage so a reload (or a second tab) stays logged in until the token expires. */

export type { Role };

export interface Session {
  token: string;
  username: string;
  role: Role;
  /** ms since the epoch. */
  expiresAt: number;
}

/** The localStorage key; other tabs watch it to log out together. */
export const SESSION_KEY = 'edgecam.session';

export function loadSession(now = Date.now()): Session | null {
  try {
    const session = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    // A minute's margin: a token that expires while the page loads would fail the hello.
    return session && session.expiresAt - 60_000 > now ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(SESSION_KEY);
}

/** May `role` write a key whose schema says `write` ('operator', 'admin', or 'device' for read-only keys)? */
export function mayWrite(role: Role, write: string): boolean {
  return isRole(write) && atLeast(role, write);
}

import type { Role } from './tokens.ts';

/**
 * Roles rank viewer < operator < admin. One table for the server's checks and the web panel's
 * controls; no dependencies, so the panel's bundle can import it.
 */
const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Does `role` have at least the rank of `needed`? */
export function atLeast(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

/** Whether `value` names a role (a key's `write` may also say 'device', which no user has). */
export function isRole(value: string): value is Role {
  return Object.hasOwn(rank, value);
}

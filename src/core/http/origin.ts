/**
 * Browsers send `Origin`; devices and CLI clients usually do not, and are not origin-checked.
 * The server's own origin is always allowed, plus ALLOWED_ORIGINS (`*` for any).
 */
export function originAllowed(origin: string, host: string | undefined, allowed: string[]): boolean {
  if (allowed.includes('*')) return true;
  if (allowed.includes(origin.replace(/\/+$/, ''))) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

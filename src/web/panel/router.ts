/** The views, by URL fragment: #/ (cameras), #/devices/<id>, #/admin/devices, #/admin/users, #/admin/schedules. */

export type Route =
  | { name: 'devices' }
  | { name: 'device'; id: string }
  | { name: 'admin-devices' }
  | { name: 'users' }
  | { name: 'admin-schedules' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decode);
  if (parts[0] === 'devices' && parts[1]) return { name: 'device', id: parts[1] };
  if (parts[0] === 'admin' && parts[1] === 'devices') return { name: 'admin-devices' };
  if (parts[0] === 'admin' && parts[1] === 'users') return { name: 'users' };
  if (parts[0] === 'admin' && parts[1] === 'schedules') return { name: 'admin-schedules' };
  return { name: 'devices' };
}

/** A malformed escape (`%E0`) stays as typed instead of throwing out of every render. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export const deviceHref = (id: string) => `#/devices/${encodeURIComponent(id)}`;

import type { Role } from '../../core/auth/tokens.ts';
import type { KeyDescription } from '../../core/state/describe.ts';

/** The HTTP API with the session's token. Errors carry the server's message and hint, ready to show. */

export type { KeyDescription };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceInfo {
  device_id: string;
  name: string;
  online: boolean;
  last_seen: string | null;
  presence: Record<string, unknown> | null;
  created_at?: string;
}

export interface UserInfo {
  username: string;
  role: Role;
  devices: string[] | null;
}

/** Set by the app: called on a 401 so that the page goes back to the login form. */
let onUnauthorized: () => void = () => {};
let token: string | null = null;

export function useToken(value: string | null, unauthorized: () => void): void {
  token = value;
  onUnauthorized = unauthorized;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.ok) return body as T;
  if (response.status === 401 && token) onUnauthorized();
  throw new ApiError(response.status, errorText(body, response.status));
}

/** The server's error body as one sentence: `error`, then `message`/`detail`/`hint` when present. */
function errorText(body: Record<string, unknown>, status: number): string {
  const parts = [body.error ?? `Request failed (HTTP ${status})`, body.message, body.detail, body.hint];
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(': ');
}

let schema: Promise<KeyDescription[]> | undefined;

/** GET /api/schema, once per page load. */
export function stateSchema(): Promise<KeyDescription[]> {
  schema ??= api<{ keys: KeyDescription[] }>('/api/schema').then((s) => s.keys);
  schema.catch(() => {
    schema = undefined;
  });
  return schema;
}

export type { DeviceResult, HistoryEntry, Preset, Schedule } from '../../client/index.ts';

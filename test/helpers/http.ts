import { ADMIN_PASSWORD } from './server.ts';

/** The HTTP API as the tests call it: JSON in, status, JSON and headers out. */

export async function api(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back and assert on it.
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const init = {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  };
  const response = await fetch(base + path, init).catch((error: Error & { cause?: { code?: string } }) => {
    // workerd closes a keep-alive connection idle for 5 s; fetch may reuse it in that instant and fail
    // before the request was read (cloudflare/workers-sdk#14641). Once more, on a new connection.
    if (!['UND_ERR_SOCKET', 'ECONNRESET'].includes(error.cause?.code ?? '')) throw error;
    return fetch(base + path, init);
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

export async function login(base: string, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const res = await api(base, 'POST', '/api/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

export async function registerDevice(base: string, adminToken: string, deviceId: string): Promise<string> {
  const res = await api(base, 'POST', '/api/devices', { token: adminToken, body: { device_id: deviceId } });
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.key;
}

export async function createUser(
  base: string,
  adminToken: string,
  username: string,
  role: 'admin' | 'operator' | 'viewer',
  devices?: string[],
): Promise<string> {
  const password = `${username}-password`;
  const res = await api(base, 'POST', '/api/users', { token: adminToken, body: { username, password, role, devices } });
  if (res.status !== 201) throw new Error(`user creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return login(base, username, password);
}

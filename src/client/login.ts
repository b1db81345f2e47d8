import { EdgecamError } from './errors.ts';

/** `POST /api/login` with the standard `fetch`, so the same code runs in browsers, Node 20+ and Deno. */

export interface LoginResult {
  token: string;
  token_type: 'Bearer';
  /** Seconds until the token expires. */
  expires_in: number;
  user: { username: string; role: 'admin' | 'operator' | 'viewer' };
}

export interface LoginOptions {
  /** Another fetch (a test double, a proxy-aware one); the global one by default. */
  fetch?: typeof fetch;
}

export async function login(
  baseUrl: string,
  username: string,
  password: string,
  options: LoginOptions = {},
): Promise<LoginResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(new URL('/api/login', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch (cause) {
    // fetch rejects only for network failures; say so, since "TypeError: fetch failed" says little.
    throw new EdgecamError('network_error', `Cannot reach ${baseUrl}: ${(cause as Error).message}`);
  }
  const body = await readJson(response);
  if (response.ok) return body as unknown as LoginResult;
  const text = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
  if (response.status === 429) {
    // The body carries retry_after; Retry-After is the same number for clients that read only headers.
    const retryAfter = Number(body.retry_after ?? response.headers.get('retry-after') ?? Number.NaN);
    const wait = Number.isFinite(retryAfter) ? retryAfter : undefined;
    throw new EdgecamError('rate_limited', wait === undefined ? text : `${text} (retry after ${wait} s)`, {
      status: 429,
      ...(wait === undefined ? {} : { retryAfter: wait }),
    });
  }
  const code = response.status === 401 ? 'invalid_credentials' : response.status === 400 ? 'bad_request' : 'http_error';
  throw new EdgecamError(code, text, { status: response.status });
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    // A proxy's HTML error page, say: the status still tells what happened.
    return {};
  }
}

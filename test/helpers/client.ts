import WebSocket from 'ws';
import { ADMIN_PASSWORD } from './server.ts';

/** Real WebSocket and HTTP clients for the conformance suite. Waits are on events, each bounded. */

export interface Message {
  type: string;
  request_id?: string;
  ts: string;
  payload: Record<string, unknown>;
}

export class TestSocket {
  readonly ws: WebSocket;
  private readonly inbox: unknown[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      this.inbox.push(isBinary ? data : JSON.parse(data.toString()));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
    const socket = new TestSocket(url, options);
    await socket.opened;
    return socket;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends an envelope with `ts` stamped, as the seed's clients do. */
  envelope(type: string, payload: Record<string, unknown> = {}, requestId?: string): void {
    this.send({ type, ...(requestId ? { request_id: requestId } : {}), ts: new Date().toISOString(), payload });
  }

  /** The next message (optionally the next of a type, skipping others), within `timeoutMs`. */
  next(type?: string, timeoutMs = 5_000): Promise<Message> {
    return this.nextWhere(
      (m) => type === undefined || (m as Message).type === type,
      type ?? 'message',
      timeoutMs,
    ) as Promise<Message>;
  }

  /** The next message matching `match` (others stay in the inbox), within `timeoutMs`. */
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on whatever JSON arrived.
  async nextWhere(match: (message: any) => boolean, what = 'matching message', timeoutMs = 5_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex(match);
      if (index >= 0) return this.inbox.splice(index, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Everything received so far and not yet taken. */
  drain(): Message[] {
    return this.inbox.splice(0) as Message[];
  }

  close(): void {
    this.ws.close();
  }
}

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

/** A device connected on /ws/device, past hello_ack. */
export async function connectDevice(wsUrl: string, deviceId: string, key: string): Promise<TestSocket> {
  const socket = await TestSocket.open(`${wsUrl}/ws/device`);
  socket.envelope('hello', { device_id: deviceId, key });
  const ack = await socket.next('hello_ack');
  if (ack.payload.device_id !== deviceId) throw new Error(`unexpected hello_ack ${JSON.stringify(ack)}`);
  return socket;
}

/** A viewer connected on /ws/viewer, past hello_ack. */
export async function connectViewer(wsUrl: string, token: string): Promise<TestSocket> {
  const socket = await TestSocket.open(`${wsUrl}/ws/viewer`);
  socket.envelope('hello', { token });
  await socket.next('hello_ack');
  return socket;
}

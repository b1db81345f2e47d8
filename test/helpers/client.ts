import { afterEach, beforeEach } from 'node:test';
import WebSocket from 'ws';

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
    openedByTest?.add(this);
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

/**
 * The sockets the running test opened, closed by its cleanup even when an assertion failed first: a
 * socket left open would hold its server-side room (and the per-user socket places) into later tests.
 * Sockets opened outside a test (in a `before` hook, shared by several) are the hook's to close.
 */
let openedByTest: Set<TestSocket> | undefined;
beforeEach(() => {
  openedByTest = new Set();
});
afterEach(() => {
  for (const socket of openedByTest ?? []) if (socket.ws.readyState !== WebSocket.CLOSED) socket.ws.terminate();
  openedByTest = undefined;
});

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

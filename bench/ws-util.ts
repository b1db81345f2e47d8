import WebSocket from 'ws';

/** Small helpers for the load generator: open a socket, wait for a frame, run jobs with bounded concurrency. */

let nextLocal = 0;

/**
 * Spreads client sockets over 127.0.0.2–127.0.0.201 as source addresses, so thousands of connections
 * (and the TIME_WAIT of the connect scenario) never run out of ephemeral ports on one address.
 */
export function localAddress(): string {
  nextLocal = (nextLocal + 1) % 200;
  return `127.0.0.${nextLocal + 2}`;
}

export function open(url: string, timeoutMs = 10_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: localAddress(), perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`open ${url} timed out`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused: ${res.statusCode}`));
    });
  });
}

/** The next text frame for which `match` is true (attach before sending what triggers it). */
export function waitFor(ws: WebSocket, match: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      if (!match(text)) return;
      done();
      resolve(text);
    };
    const onClose = (code: number, reason: Buffer) => {
      done();
      reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

export function envelope(type: string, payload: Record<string, unknown>): string {
  return JSON.stringify({ type, ts: new Date().toISOString(), payload });
}

/** Runs `job(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A full collection of the load generator's heap before a measured window (it runs with --expose-gc):
 * setting up thousands of sockets leaves garbage whose major collection, landing inside the window,
 * stalled this process for 15–35 ms and delayed every message of every target alike.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Context } from 'hono';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * WebSocket upgrades on Node, as @hono/node-ws does them: the app routes an upgrade request like any
 * other (origin check, path, refusal) and the socket is upgraded only if the route accepts it. Written
 * here because @hono/node-ws built two URLs, a Headers object, an Event and a Promise per upgrade, and
 * its listeners kept the request's whole Hono context alive for as long as the socket was open: about
 * 3 KB of every idle socket in a heap snapshot (docs/performance.md).
 */

/** What the Node adapter passes as Hono's `c.env`. */
export interface NodeEnv {
  incoming: IncomingMessage;
  /** On upgrade requests: the raw connection, until a route accepts it. */
  upgrade?: { socket: Duplex; head: Buffer; accepted: boolean };
}

type Fetch = (request: Request, env: NodeEnv) => Response | Promise<Response>;

export class NodeUpgrades {
  readonly wss: WebSocketServer;

  constructor(maxPayload: number) {
    // The limit is applied by ws itself, so an oversized frame is refused (1009) before it is buffered.
    this.wss = new WebSocketServer({ noServer: true, maxPayload });
  }

  /** Sends every upgrade request on `server` through `fetch`. */
  listen(server: Server, fetch: Fetch): void {
    server.on('upgrade', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', ignore);
      const env: NodeEnv = { incoming, upgrade: { socket, head, accepted: false } };
      Promise.resolve()
        .then(() => fetch(requestOf(incoming), env))
        .then(
          (response) => (env.upgrade?.accepted ? undefined : refuse(socket, response)),
          () => (env.upgrade?.accepted ? undefined : refuse(socket, new Response(null, { status: 400 }))),
        )
        .catch(() => socket.destroy());
    });
  }

  /** Completes the upgrade of the request in `c` and hands the open socket, and its TCP socket, to `onOpen`. */
  accept(c: Context, onOpen: (ws: WebSocket, tcp: Duplex) => void): Response {
    const env = c.env as NodeEnv;
    const upgrade = env.upgrade;
    if (!upgrade || upgrade.accepted) return new Response('Not an upgrade request', { status: 400 });
    upgrade.accepted = true;
    this.wss.handleUpgrade(env.incoming, upgrade.socket, upgrade.head, (ws) => {
      this.wss.emit('connection', ws, env.incoming);
      onOpen(ws, upgrade.socket);
    });
    // Never sent: the socket now belongs to ws.
    return new Response(null);
  }
}

/** Without an error listener a reset during the upgrade would crash the process. */
function ignore(): void {}

function requestOf(incoming: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === 'string') headers.append(name, value);
    else if (value) for (const item of value) headers.append(name, item);
  }
  const scheme = (incoming.socket as TLSSocket).encrypted ? 'https' : 'http';
  return new Request(`${scheme}://${incoming.headers.host ?? 'localhost'}${incoming.url ?? '/'}`, { headers });
}

/** The app's answer to an upgrade it refused, written as a plain HTTP response on the raw socket. */
async function refuse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type');
  const head = [
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`,
    'Connection: close',
    ...(type ? [`Content-Type: ${type}`] : []),
    `Content-Length: ${body.byteLength}`,
  ];
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}

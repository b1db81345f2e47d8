import { createServer } from 'node:http';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/**
 * The baselines: the least a WebSocket relay on Node can do, with no auth, no validation, no storage.
 * One process, one port, chosen by path:
 *   /pass?role=device|viewer&pair=i  forwards each frame's bytes to the other side of pair i
 *   /json?role=device|viewer&pair=i  the same, with JSON.parse + JSON.stringify per frame
 *   /bcast?role=sender|recv          the sender's frames, parsed and stamped with a seq, to every receiver
 *   /idle                            accepts and holds the socket
 * Prints `baseline listening url=http://127.0.0.1:<port>` (PORT=0 picks one).
 */

const pairs = new Map<string, { device?: WebSocket; viewer?: WebSocket }>();
const receivers = new Set<WebSocket>();
let seq = 0;

const server = createServer((_req, res) => {
  res.writeHead(426).end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const mode = url.pathname.slice(1);
    const role = url.searchParams.get('role') ?? '';
    if (mode === 'pass' || mode === 'json') relay(ws, mode, role, url.searchParams.get('pair') ?? '');
    else if (mode === 'bcast') broadcast(ws, role);
    ws.on('error', () => {});
  });
});

function relay(ws: WebSocket, mode: string, role: string, pair: string): void {
  const key = `${mode}:${pair}`;
  const entry = pairs.get(key) ?? {};
  pairs.set(key, entry);
  if (role === 'device') entry.device = ws;
  else entry.viewer = ws;
  ws.on('message', (data: RawData, isBinary) => {
    const other = role === 'device' ? entry.viewer : entry.device;
    if (!other || other.readyState !== WebSocket.OPEN) return;
    if (mode === 'pass') other.send(data, { binary: isBinary });
    else other.send(JSON.stringify(JSON.parse(data.toString())));
  });
  ws.on('close', () => {
    if (role === 'device' && entry.device === ws) entry.device = undefined;
    if (role !== 'device' && entry.viewer === ws) entry.viewer = undefined;
    if (!entry.device && !entry.viewer) pairs.delete(key);
  });
}

function broadcast(ws: WebSocket, role: string): void {
  if (role === 'recv') {
    receivers.add(ws);
    ws.on('close', () => receivers.delete(ws));
    return;
  }
  ws.on('message', (data: RawData) => {
    const change = JSON.parse(data.toString()) as Record<string, unknown>;
    const text = JSON.stringify({ ...change, seq: ++seq });
    for (const receiver of receivers) if (receiver.readyState === WebSocket.OPEN) receiver.send(text);
  });
}

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`baseline listening url=http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => process.exit(0));

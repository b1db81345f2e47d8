import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Transport-level liveness for every socket: a dead peer (a VPN drop, a Pi losing power) never sends
 * a close, so without this a quiet /api/v1 or /ws/camera/ client would count as connected for ever
 * (websockets/ws#759). Each round pings every socket; one that has not answered (pong or any frame)
 * since the previous round is terminated, which runs the normal close handling.
 */
export function keepAlive(wss: WebSocketServer, intervalMs: number): () => void {
  const alive = new WeakSet<WebSocket>();
  const mark = function (this: WebSocket) {
    alive.add(this);
  };
  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', mark);
    ws.on('message', mark);
  });
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

import type { WebSocket } from 'ws';

/**
 * Transport-level liveness for every socket: a dead peer (a VPN drop, a Pi losing power) never sends
 * a close, so without this a quiet /api/v1 or /ws/camera/ client would count as connected for ever
 * (websockets/ws#759). Every socket is pinged once per interval; one that has not answered (pong or
 * any frame) since its previous ping is terminated, which runs the normal close handling.
 *
 * The sockets are dealt into slices, one pinged every TICK_MS, so the pings of an interval are spread
 * evenly across it: a ping is a write of its own (about 15 µs here). Pinging 2,000 sockets in one go
 * stalled everything else for 60 ms; a tenth of them every tenth of the interval still held the event
 * loop for 3–4 ms every 3 s at 2,000 sockets and 15–18 ms at 10,000 (docs/performance.md).
 */

/** How often a slice is pinged: a few sockets at a time, even with tens of thousands open. */
const TICK_MS = 100;
const alive = Symbol('alive');
const slice = Symbol('slice');

interface Tracked {
  [alive]?: boolean;
  [slice]?: Set<WebSocket>;
}

export class KeepAlive {
  private readonly slices: Set<WebSocket>[];
  private nextSlice = 0;
  private turn = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(intervalMs: number, tickMs = TICK_MS) {
    const count = Math.max(1, Math.round(intervalMs / tickMs));
    this.slices = Array.from({ length: count }, () => new Set<WebSocket>());
    this.timer = setInterval(() => this.tick(), intervalMs / count);
    this.timer.unref();
  }

  /** A new socket: alive, in the next slice, until it closes. */
  track(ws: WebSocket): void {
    const tracked = ws as WebSocket & Tracked;
    const into = this.slices[this.nextSlice] as Set<WebSocket>;
    this.nextSlice = (this.nextSlice + 1) % this.slices.length;
    tracked[alive] = true;
    tracked[slice] = into;
    into.add(ws);
    ws.on('pong', markAlive);
    ws.on('close', untrack);
  }

  /** Any frame from the peer proves it is there; the adapter calls this for each one it reads. */
  seen(ws: WebSocket): void {
    (ws as WebSocket & Tracked)[alive] = true;
  }

  /** One slice's turn: called every interval / slices. */
  tick(): void {
    const sockets = this.slices[this.turn] as Set<WebSocket>;
    this.turn = (this.turn + 1) % this.slices.length;
    for (const ws of sockets) {
      const tracked = ws as WebSocket & Tracked;
      if (!tracked[alive]) {
        ws.terminate();
        continue;
      }
      tracked[alive] = false;
      ws.ping();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function markAlive(this: WebSocket): void {
  (this as WebSocket & Tracked)[alive] = true;
}

function untrack(this: WebSocket): void {
  (this as WebSocket & Tracked)[slice]?.delete(this);
}

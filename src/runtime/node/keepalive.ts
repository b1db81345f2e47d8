import type { WebSocket } from 'ws';

/**
 * Transport-level liveness for every socket: a dead peer (a VPN drop, a Pi losing power) never sends
 * a close, so without this a quiet /api/v1 or /ws/camera/ client would count as connected for ever
 * (websockets/ws#759). Every socket is pinged once per interval; one that has not answered (pong or
 * any frame) since its previous ping is terminated, which runs the normal close handling.
 *
 * The sockets are split into slices pinged one after another across the interval, not all at once:
 * a ping is a write, and pinging 2,000 sockets in one go stalled everything else for 60 ms
 * (docs/performance.md).
 */

const SLICES = 10;
const alive = Symbol('alive');
const slice = Symbol('slice');

interface Tracked {
  [alive]?: boolean;
  [slice]?: number;
}

/** What the keepalive needs of `ws`'s server: its set of open sockets. */
export interface SocketSet {
  readonly clients: Set<WebSocket>;
}

export class KeepAlive {
  private nextSlice = 0;
  private turn = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly wss: SocketSet,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs / SLICES);
    this.timer.unref();
  }

  /** A new socket: alive, in the next slice. */
  track(ws: WebSocket): void {
    const tracked = ws as WebSocket & Tracked;
    tracked[alive] = true;
    tracked[slice] = this.nextSlice;
    this.nextSlice = (this.nextSlice + 1) % SLICES;
    ws.on('pong', markAlive);
  }

  /** Any frame from the peer proves it is there; the adapter calls this for each one it reads. */
  seen(ws: WebSocket): void {
    (ws as WebSocket & Tracked)[alive] = true;
  }

  /** One slice's turn: called every interval / SLICES. */
  tick(): void {
    const turn = this.turn;
    this.turn = (turn + 1) % SLICES;
    for (const ws of this.wss.clients) {
      const tracked = ws as WebSocket & Tracked;
      if (tracked[slice] !== turn) continue;
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

import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { HostSocket } from '../in-process/host.ts';

/**
 * A `ws` socket as the room host sees it, with every frame sent to it in one event-loop iteration
 * written in one system call. `ws` writes each frame with a `writev` of its own, which was a third of
 * the server's CPU in a busy relay (a viewer's burst of ICE candidates arrives in one read and goes to
 * one device). Corking the TCP socket until the iteration's I/O callbacks are done (`setImmediate`,
 * which runs right after them) batches them, and writes the frames of all the sockets read in that
 * iteration back to back (64 sockets at a time, see SOCKETS_PER_FLUSH): a reader on this host (a
 * proxy, a tunnel, the benchmark's clients) is woken once for them, not once per frame. A lone frame
 * is written as before, only after the handlers of that iteration return. While corked,
 * `bufferedAmount` includes what was sent since, so the send-buffer limits see a burst as buffered:
 * harmless at their sizes (64 KiB before state is merged, megabytes before a close).
 */
export class NodeSocket implements HostSocket {
  corked = false;
  /** In this iteration's list of sockets to uncork: once, however often it is corked again. */
  listed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly tcp: Duplex,
  ) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: string | Uint8Array): void {
    if (!this.corked) cork(this);
    this.ws.send(data);
    // A socket sent this much in one iteration is written now: held until the iteration's end, a flood
    // read from many sockets at once would reach its readers in one late burst, and stall them meanwhile.
    if (this.tcp.writableLength >= WRITE_NOW_BYTES) {
      this.corked = false;
      this.tcp.uncork();
    }
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}

/** Node 20's default high-water mark of a TCP socket. */
const WRITE_NOW_BYTES = 16 * 1024;

/**
 * At most this many sockets wait for the iteration's end. A broadcast to a thousand sockets that
 * uncorked them all at the end went over every socket's objects twice, the second time out of the CPU
 * cache: `perf` put the flush at 5 % of the server's time, and the server spent 4–10 % more CPU per
 * delivery than the raw broadcast. Flushed 64 at a time, it spent the same (docs/performance.md).
 */
const SOCKETS_PER_FLUSH = 64;

/** Sockets corked in this iteration: one callback uncorks them all. */
let corked: NodeSocket[] = [];

function cork(socket: NodeSocket): void {
  socket.corked = true;
  socket.tcp.cork();
  if (socket.listed) return;
  if (corked.length >= SOCKETS_PER_FLUSH) flushCorked();
  socket.listed = true;
  if (corked.push(socket) === 1) setImmediate(flushCorked);
}

/**
 * Writes what this iteration sent; a destroyed socket ignores it. Also called on shutdown, which exits
 * in the turn that closed every socket: without it, frames and close frames sent then never left.
 */
export function flushCorked(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) {
    socket.listed = false;
    if (!socket.corked) continue;
    socket.corked = false;
    socket.tcp.uncork();
  }
}

import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { HostSocket } from '../in-process/host.ts';

/**
 * A `ws` socket as the room host sees it, with every frame sent to it in one event-loop turn written
 * in one system call. `ws` writes each frame with a `writev` of its own, which was a third of the
 * server's CPU in a busy relay (a viewer's burst of ICE candidates arrives in one read and goes to
 * one device). Corking the TCP socket until the turn's callbacks end (`process.nextTick`) batches
 * them; a lone frame is written as before, only after the handler that sent it returns.
 */
export class NodeSocket implements HostSocket {
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Duplex,
  ) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(data: string | Uint8Array): void {
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      process.nextTick(uncork, this);
    }
    this.ws.send(data);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** Writes what this turn sent; a destroyed socket ignores it. */
  flush(): void {
    this.corked = false;
    this.tcp.uncork();
  }
}

function uncork(socket: NodeSocket): void {
  socket.flush();
}

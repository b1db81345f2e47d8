import type { Connection } from '../ports.ts';
import type { State } from './keys.ts';

/**
 * Keeps a slow reader from piling up state updates: while a socket's send buffer is above the high-water
 * mark, its changes are merged (only the latest value of each key matters) and sent as one message once
 * it drains. Other sockets never wait. Runtimes that do not expose `bufferedAmount` (Workers) send
 * straight through; their platform bounds the buffer.
 */
export class StateOutbox {
  /** By stream: a socket, or (a viewer watching several devices) a socket's device. */
  private readonly pending = new Map<string, { conn: Connection; changes: State; seq: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly highWater: number,
    private readonly render: (changes: State, seq: number, stream: string) => string,
  ) {}

  /** `text` is `render(changes, seq, stream)`, made once by the caller for every socket. */
  send(conn: Connection, stream: string, changes: State, seq: number, text: string): void {
    const waiting = this.pending.get(stream);
    if (!waiting && !this.backedUp(conn)) return conn.send(text);
    this.pending.set(stream, { conn, changes: { ...waiting?.changes, ...changes }, seq });
    this.schedule();
  }

  forget(stream: string): void {
    this.pending.delete(stream);
  }

  private backedUp(conn: Connection): boolean {
    return (conn.bufferedAmount ?? 0) > this.highWater;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), 25);
  }

  private flush(): void {
    this.timer = undefined;
    for (const [stream, { conn, changes, seq }] of this.pending) {
      if (this.backedUp(conn)) continue;
      this.pending.delete(stream);
      conn.send(this.render(changes, seq, stream));
    }
    if (this.pending.size > 0) this.schedule();
  }
}

import type { Connection } from '../../core/ports.ts';

/** What a hibernatable socket carries with it (`serializeAttachment`, at most 16 KiB). */
export interface Attachment {
  id: string;
  /** The room the socket belongs to, so an evicted object can find its room again from the socket alone. */
  room: string;
  state: unknown;
}

const OPEN = 1;

/** A core Connection over a socket accepted with `ctx.acceptWebSocket`; its state lives in the attachment. */
export class HibernatableConnection implements Connection {
  /** Set once the room has been told the socket closed, so it is told only once. */
  closeDispatched = false;
  private attachment: Attachment;

  constructor(
    private readonly ws: WebSocket,
    fresh?: Attachment,
  ) {
    if (fresh) ws.serializeAttachment(fresh);
    this.attachment = fresh ?? (ws.deserializeAttachment() as Attachment);
  }

  get id(): string {
    return this.attachment.id;
  }

  get room(): string {
    return this.attachment.room;
  }

  get open(): boolean {
    return this.ws.readyState === OPEN && !this.closeDispatched;
  }

  get state(): unknown {
    return this.attachment.state;
  }

  setState(state: unknown): void {
    const next = { ...this.attachment, state };
    this.ws.serializeAttachment(next);
    this.attachment = next;
  }

  send(data: string | Uint8Array): void {
    // workerd throws on a send after close; the room learns of the close from its own event.
    if (this.ws.readyState === OPEN) this.ws.send(data);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
}

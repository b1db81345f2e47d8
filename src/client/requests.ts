import { EdgecamError } from './errors.ts';

/**
 * Requests in flight and waiting: each gets a `request_id`, a timeout that starts when it is sent, and
 * settles on the first reply of an expected type (or an `error`) carrying its id. While disconnected,
 * requests wait in a bounded queue.
 */

export interface Pending {
  /** The reply types that settle this request (an `error` with its request_id always does). */
  expects: string[];
  resolve: (payload: Record<string, unknown>) => void;
  reject: (error: EdgecamError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

interface Queued {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  pending: Pending;
}

export type Transmit = (type: string, payload: Record<string, unknown>, requestId: string) => void;

export class Requests {
  private readonly inFlight = new Map<string, Pending>();
  private readonly queue: Queued[] = [];
  private lastId = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxQueue: number,
    private readonly transmit: Transmit,
  ) {}

  newId(prefix = 'r'): string {
    return `${prefix}${++this.lastId}`;
  }

  /** Sends now: the reply is awaited for `timeoutMs`. */
  send(id: string, type: string, payload: Record<string, unknown>, pending: Pending): void {
    pending.timer = setTimeout(() => {
      this.inFlight.delete(id);
      pending.reject(new EdgecamError('timeout', `No answer to ${type} within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    this.inFlight.set(id, pending);
    this.transmit(type, payload, id);
  }

  /** Waits for the next connection; rejects at once with `queue_full` when `maxQueue` already wait. */
  enqueue(type: string, payload: Record<string, unknown>, pending: Pending): void {
    if (this.queue.length >= this.maxQueue) {
      return pending.reject(new EdgecamError('queue_full', `Not connected and ${this.maxQueue} requests are already waiting`));
    }
    this.queue.push({ id: this.newId(), type, payload, pending });
  }

  /** Sends everything queued, in order. */
  flush(): void {
    for (const queued of this.queue.splice(0)) this.send(queued.id, queued.type, queued.payload, queued.pending);
  }

  /** The request a reply of `type` with `id` settles, taken out of the books; undefined if none. */
  take(id: string, type: string): Pending | undefined {
    const pending = this.inFlight.get(id);
    if (!pending || (type !== 'error' && !pending.expects.includes(type))) return undefined;
    clearTimeout(pending.timer);
    this.inFlight.delete(id);
    return pending;
  }

  /** Rejects what was sent and not answered (the answers died with the socket); the queue stays. */
  failInFlight(error: EdgecamError): void {
    for (const [id, pending] of [...this.inFlight]) {
      clearTimeout(pending.timer);
      this.inFlight.delete(id);
      pending.reject(error);
    }
  }

  /** Rejects everything, sent and queued. */
  rejectAll(error: EdgecamError): void {
    this.failInFlight(error);
    for (const queued of this.queue.splice(0)) queued.pending.reject(error);
  }
}

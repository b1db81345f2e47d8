import type { EdgecamViewer } from '../../client/index.ts';

/** MAX_SUBSCRIPTIONS_PER_SOCKET's default, for a server too old to say. */
const DEFAULT_CAPACITY = 256;

/**
 * The panel's device subscriptions, shared by its views: a device is unsubscribed only when no view
 * holds it any more. The viewer's own set is not counted, so a view leaving (its subscribe maybe still
 * in flight) could otherwise unsubscribe a device the next view had just subscribed to.
 */
export class LiveDevices {
  private readonly holders = new Map<string, number>();

  constructor(private readonly viewer: EdgecamViewer) {}

  /**
   * How many devices the socket may subscribe to, as the server says in hello_ack: at once if it has,
   * else at the next open. A viewer closed for good before that gets the default, so the view's
   * subscribe still runs and reports the failure.
   */
  capacity(): Promise<number> {
    const ack = this.viewer.user;
    if (ack) return Promise.resolve(ack.max_subscriptions ?? DEFAULT_CAPACITY);
    return new Promise((resolve) => {
      const settle = (value: number) => {
        offOpen();
        offClose();
        resolve(value);
      };
      const offOpen = this.viewer.on('open', (opened) => settle(opened.max_subscriptions ?? DEFAULT_CAPACITY));
      const offClose = this.viewer.on('close', (closed) => closed.reconnecting || settle(DEFAULT_CAPACITY));
    });
  }

  /** Subscribes to `ids` for one view; `release` gives them back (once; safe before the reply). */
  hold(ids: string[]): { ready: Promise<{ not_found: string[] }>; release(): void } {
    for (const id of ids) this.holders.set(id, (this.holders.get(id) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const gone: string[] = [];
      for (const id of ids) {
        const left = (this.holders.get(id) ?? 1) - 1;
        if (left > 0) this.holders.set(id, left);
        else {
          this.holders.delete(id);
          gone.push(id);
        }
      }
      if (gone.length > 0) this.viewer.unsubscribe(gone).catch(() => {});
    };
    return { ready: this.viewer.subscribe(ids), release };
  }
}

/**
 * A tiny typed event emitter. Not Node's EventEmitter (not in browsers) and not EventTarget (its
 * listeners get an Event wrapper, and typing it per event is clumsy): `on` returns the unsubscribe.
 */
export class Emitter<Events extends { [name: string]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): void {
    this.listeners.get(event)?.delete(listener as (value: never) => void);
  }

  /** The next emission of `event`, as a promise. */
  once<E extends keyof Events>(event: E): Promise<Events[E]> {
    return new Promise((resolve) => {
      const off = this.on(event, (value) => {
        off();
        resolve(value);
      });
    });
  }

  protected emit<E extends keyof Events>(event: E, value: Events[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (value: Events[E]) => void)(value);
      } catch (error) {
        // A throwing listener must not break the connection's message loop; surface it asynchronously.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

import type { CatchUp } from '../contract.ts';
import type { RoomStorage } from '../ports.ts';
import { defaultState, type State } from './keys.ts';

/**
 * A device's state with a sequence number per accepted change and a bounded log of recent changes,
 * so a client that reconnects gets exactly what it missed, or a full snapshot when the log no longer
 * reaches back that far. Each change is written (state, seq and log entry in one transaction) before
 * anyone is told of it.
 */

const logKey = (seq: number) => `log:${String(seq).padStart(12, '0')}`;

export class StateStore {
  state: State;
  seq: number;

  constructor(
    private readonly storage: RoomStorage,
    private readonly logSize: number,
  ) {
    // Keys added in a later version appear with their defaults.
    this.state = { ...defaultState(), ...(storage.get<State>('state') ?? {}) };
    this.seq = storage.get<number>('seq') ?? 0;
  }

  /** Persists `changes` as the next sequence number and returns it. */
  apply(changes: State): number {
    const seq = this.seq + 1;
    const state = { ...this.state, ...changes };
    this.storage.putMany({ state, seq, [logKey(seq)]: changes });
    if (seq > this.logSize) this.storage.delete(logKey(seq - this.logSize));
    this.state = state;
    this.seq = seq;
    return seq;
  }

  /** What a client that last saw `since` is missing. */
  since(since: number | undefined): CatchUp {
    if (since === undefined || since > this.seq || since < this.seq - this.logSize) {
      return { snapshot: true, seq: this.seq, state: { ...this.state } };
    }
    const changes: { seq: number; changes: State }[] = [];
    for (const [key, entry] of this.storage.list<State>('log:')) {
      const seq = Number(key.slice(4));
      if (seq > since) changes.push({ seq, changes: entry });
    }
    return { snapshot: false, seq: this.seq, changes };
  }

  clear(): void {
    this.state = defaultState();
    this.seq = 0;
  }
}

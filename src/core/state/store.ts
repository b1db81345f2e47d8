import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { CatchUp, HistoryEntry, Via } from '../contract.ts';
import type { RoomStorage } from '../ports.ts';
import { defaultState, type State } from './keys.ts';

/**
 * A device's state with a sequence number per accepted change and a bounded log of recent changes:
 * a client that reconnects gets exactly what it missed (or a snapshot when the log no longer reaches
 * back `catchUpSize` changes), and the history says who made each change and how. Each change is
 * written (state, seq and log entry, and whatever the caller records with it, in one transaction)
 * before anyone is told of it.
 */

const logKey = (seq: number) => `log:${String(seq).padStart(12, '0')}`;

/** A log entry as stored. Entries written before the history existed are the bare changes. */
type LogEntry = { changes: State; at: number; by: string; via: Via } | State;

export interface Recorded {
  by: string;
  via: Via;
  /** More keys to write in the change's own transaction (a schedule's run). */
  with?: Record<string, unknown> | undefined;
}

export class StateStore {
  state: State;
  seq: number;

  /** How far back a reconnecting client is caught up change by change (STATE_LOG_SIZE). */
  private readonly catchUpSize: number;
  /** How many changes the log keeps: the larger of that and HISTORY_LIMIT. */
  private readonly keep: number;

  constructor(
    private readonly storage: RoomStorage,
    config: Pick<Config, 'stateLogSize' | 'historyLimit'>,
    private readonly clock: Clock,
  ) {
    // Keys added in a later version appear with their defaults.
    this.state = { ...defaultState(), ...(storage.get<State>('state') ?? {}) };
    this.seq = storage.get<number>('seq') ?? 0;
    this.catchUpSize = config.stateLogSize;
    this.keep = Math.max(config.historyLimit, config.stateLogSize);
  }

  /** Persists `changes` as the next sequence number and returns it. */
  apply(changes: State, recorded: Recorded): number {
    const seq = this.seq + 1;
    const state = { ...this.state, ...changes };
    const entry: LogEntry = { changes, at: this.clock.now(), by: recorded.by, via: recorded.via };
    this.storage.putMany({ ...recorded.with, state, seq, [logKey(seq)]: entry });
    if (seq > this.keep) this.storage.delete(logKey(seq - this.keep));
    this.state = state;
    this.seq = seq;
    return seq;
  }

  /** What a client that last saw `since` is missing. */
  since(since: number | undefined): CatchUp {
    if (since === undefined || since > this.seq || since < this.seq - this.catchUpSize) {
      return { snapshot: true, seq: this.seq, state: { ...this.state } };
    }
    const changes: { seq: number; changes: State }[] = [];
    for (let seq = since + 1; seq <= this.seq; seq++) {
      const entry = this.storage.get<LogEntry>(logKey(seq));
      if (entry) changes.push({ seq, changes: changesOf(entry) });
    }
    return { snapshot: false, seq: this.seq, changes };
  }

  /** Up to `limit` changes before `before` (default: all), newest first. */
  history(limit: number, before = this.seq + 1): HistoryEntry[] {
    const entries: HistoryEntry[] = [];
    const oldest = Math.max(1, this.seq - this.keep + 1);
    for (let seq = Math.min(before - 1, this.seq); seq >= oldest && entries.length < limit; seq--) {
      const entry = this.storage.get<LogEntry>(logKey(seq));
      if (!entry || !isRecorded(entry)) continue;
      entries.push({ seq, at: new Date(entry.at).toISOString(), by: entry.by, via: entry.via, changes: entry.changes });
    }
    return entries;
  }

  clear(): void {
    this.state = defaultState();
    this.seq = 0;
  }
}

function isRecorded(entry: LogEntry): entry is { changes: State; at: number; by: string; via: Via } {
  return typeof entry.via === 'string' && typeof entry.changes === 'object' && entry.changes !== null;
}

function changesOf(entry: LogEntry): State {
  return isRecorded(entry) ? entry.changes : (entry as State);
}

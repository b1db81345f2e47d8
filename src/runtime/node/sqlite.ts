import { setTimeout as later } from 'node:timers';
import Database from 'libsql';
import type { RoomStorage, WriteOptions } from '../../core/ports.ts';

/**
 * Every room's storage in one embedded SQLite file (libsql), one table keyed by (room, key).
 * WAL with synchronous=NORMAL: a committed write survives a killed process (kill -9); only a power
 * cut can lose the last moments. SQLITE_SYNCHRONOUS=full trades speed for that too.
 *
 * Writes with `allowUnconfirmed` wait up to UNCONFIRMED_MS in memory and are committed together in one
 * transaction (a socket opened and closed within that time costs no write at all); reads see them at
 * once, and every confirmed write commits them first, so writes land in the order they were made.
 */

const UNCONFIRMED_MS = 100;

/** A pending write: the JSON value, or null for a delete. */
type Pending = Map<string, string | null>;

export class SqliteStore {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly pending = new Map<string, Pending>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly commitPending: () => void;

  constructor(
    path: string,
    synchronous: 'normal' | 'full' = 'normal',
    private readonly onError: (error: unknown) => void = (error) => console.error(error),
  ) {
    this.db = new Database(path);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000;`);
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS kv (room TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (room, key)) WITHOUT ROWID',
    );
    const s = {
      get: this.db.prepare('SELECT value FROM kv WHERE room = ? AND key = ?'),
      put: this.db.prepare(
        'INSERT INTO kv (room, key, value) VALUES (?, ?, ?) ON CONFLICT (room, key) DO UPDATE SET value = excluded.value',
      ),
      delete: this.db.prepare('DELETE FROM kv WHERE room = ? AND key = ?'),
      list: this.db.prepare('SELECT key, value FROM kv WHERE room = ? AND key >= ? AND key < ? ORDER BY key'),
      deleteAll: this.db.prepare('DELETE FROM kv WHERE room = ?'),
      alarms: this.db.prepare("SELECT room FROM kv WHERE key = '__alarm'"),
    };
    this.statements = s;
    this.commitPending = this.db.transaction(() => {
      for (const [room, writes] of this.pending) {
        for (const [key, value] of writes) {
          if (value === null) s.delete.run(room, key);
          else s.put.run(room, key, value);
        }
      }
    });
  }

  storage(room: string): RoomStorage {
    const s = this.statements;
    const putAll = this.db.transaction((entries: [string, unknown][]) => {
      for (const [key, value] of entries) s.put.run(room, key, JSON.stringify(value));
    });
    return {
      get: <T>(key: string) => {
        const pending = this.pending.get(room)?.get(key);
        if (pending !== undefined) return pending === null ? undefined : (JSON.parse(pending) as T);
        const row = s.get.get(room, key) as { value: string } | undefined;
        return row ? (JSON.parse(row.value) as T) : undefined;
      },
      put: (key, value, options) => {
        const json = JSON.stringify(value);
        if (this.defer(room, key, json, options)) return;
        this.flush();
        s.put.run(room, key, json);
      },
      putMany: (entries) => {
        this.flush();
        putAll(Object.entries(entries));
      },
      delete: (key, options) => {
        if (this.defer(room, key, null, options)) return;
        this.flush();
        s.delete.run(room, key);
      },
      list: <T>(prefix: string) => {
        const end = `${prefix}\uffff`;
        const rows = s.list.all(room, prefix, end) as { key: string; value: string }[];
        const pending = this.pending.get(room);
        if (!pending) return new Map(rows.map((row) => [row.key, JSON.parse(row.value) as T]));
        const merged = new Map(rows.map((row) => [row.key, row.value]));
        for (const [key, value] of pending) {
          if (key < prefix || key >= end) continue;
          if (value === null) merged.delete(key);
          else merged.set(key, value);
        }
        return new Map([...merged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => [key, JSON.parse(value) as T]));
      },
      deleteAll: () => {
        this.flush();
        s.deleteAll.run(room);
      },
    };
  }

  roomsWithAlarms(): string[] {
    this.flush();
    return (this.statements.alarms.all() as { room: string }[]).map((row) => row.room);
  }

  /** Commits every pending unconfirmed write now. */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return;
    try {
      this.commitPending();
    } finally {
      this.pending.clear();
    }
  }

  close(): void {
    this.flush();
    this.db.close();
  }

  /** Holds an unconfirmed write back; false when the write must happen now. */
  private defer(room: string, key: string, value: string | null, options: WriteOptions | undefined): boolean {
    if (!options?.allowUnconfirmed) return false;
    let writes = this.pending.get(room);
    if (!writes) {
      writes = new Map();
      this.pending.set(room, writes);
    }
    writes.set(key, value);
    if (!this.flushTimer) {
      this.flushTimer = later(() => {
        try {
          this.flush();
        } catch (error) {
          this.onError(error);
        }
      }, UNCONFIRMED_MS);
      this.flushTimer.unref();
    }
    return true;
  }
}

import Database from 'libsql';
import type { RoomStorage } from '../../core/ports.ts';

/**
 * Every room's storage in one embedded SQLite file (libsql), one table keyed by (room, key).
 * WAL with synchronous=NORMAL: a committed write survives a killed process (kill -9); only a power
 * cut can lose the last moments. SQLITE_SYNCHRONOUS=full trades speed for that too.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(path: string, synchronous: 'normal' | 'full' = 'normal') {
    this.db = new Database(path);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous}; PRAGMA busy_timeout = 5000;`);
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS kv (room TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (room, key)) WITHOUT ROWID',
    );
    this.statements = {
      get: this.db.prepare('SELECT value FROM kv WHERE room = ? AND key = ?'),
      put: this.db.prepare(
        'INSERT INTO kv (room, key, value) VALUES (?, ?, ?) ON CONFLICT (room, key) DO UPDATE SET value = excluded.value',
      ),
      delete: this.db.prepare('DELETE FROM kv WHERE room = ? AND key = ?'),
      list: this.db.prepare('SELECT key, value FROM kv WHERE room = ? AND key >= ? AND key < ? ORDER BY key'),
      deleteAll: this.db.prepare('DELETE FROM kv WHERE room = ?'),
      alarms: this.db.prepare("SELECT room FROM kv WHERE key = '__alarm'"),
    };
  }

  storage(room: string): RoomStorage {
    const s = this.statements;
    const putAll = this.db.transaction((entries: [string, unknown][]) => {
      for (const [key, value] of entries) s.put.run(room, key, JSON.stringify(value));
    });
    return {
      get: <T>(key: string) => {
        const row = s.get.get(room, key) as { value: string } | undefined;
        return row ? (JSON.parse(row.value) as T) : undefined;
      },
      put: (key, value) => {
        s.put.run(room, key, JSON.stringify(value));
      },
      putMany: (entries) => putAll(Object.entries(entries)),
      delete: (key) => {
        s.delete.run(room, key);
      },
      list: <T>(prefix: string) => {
        const rows = s.list.all(room, prefix, `${prefix}\uffff`) as { key: string; value: string }[];
        return new Map(rows.map((row) => [row.key, JSON.parse(row.value) as T]));
      },
      deleteAll: () => {
        s.deleteAll.run(room);
      },
    };
  }

  roomsWithAlarms(): string[] {
    return (this.statements.alarms.all() as { room: string }[]).map((row) => row.room);
  }

  close(): void {
    this.db.close();
  }
}

import type { RoomStorage } from '../../core/ports.ts';

/**
 * A room's key/value storage inside its Durable Object's own SQLite database: one table, JSON values.
 * `ctx.storage.sql` is synchronous, which is what lets RoomStorage be synchronous on every runtime.
 */
export function sqlStorage(storage: DurableObjectStorage): RoomStorage {
  const { sql } = storage;
  sql.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const put = (key: string, value: unknown) =>
    void sql.exec(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      JSON.stringify(value),
    );
  return {
    get: <T>(key: string) => {
      const [row] = sql.exec<{ value: string }>('SELECT value FROM kv WHERE key = ?', key).toArray();
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    put,
    putMany: (entries) =>
      storage.transactionSync(() => {
        for (const [key, value] of Object.entries(entries)) put(key, value);
      }),
    delete: (key) => void sql.exec('DELETE FROM kv WHERE key = ?', key),
    list: <T>(prefix: string) => {
      const rows = sql.exec<{ key: string; value: string }>(
        'SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key',
        prefix,
        `${prefix}\uffff`,
      );
      return new Map([...rows].map((row) => [row.key, JSON.parse(row.value) as T]));
    },
    deleteAll: () => void sql.exec('DELETE FROM kv'),
  };
}

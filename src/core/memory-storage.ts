import type { RoomStorage } from './ports.ts';

/**
 * Storage for rooms that live only as long as their socket (connection rooms): they keep what
 * matters in the socket's state, and a room that never writes leaves nothing stored behind.
 */
export function memoryStorage(): RoomStorage {
  const data = new Map<string, unknown>();
  return {
    get: <T>(key: string) => data.get(key) as T | undefined,
    put: (key, value) => void data.set(key, value),
    putMany: (entries) => {
      for (const [key, value] of Object.entries(entries)) data.set(key, value);
    },
    delete: (key) => void data.delete(key),
    list: <T>(prefix: string) => new Map([...data].filter(([key]) => key.startsWith(prefix)) as [string, T][]),
    deleteAll: () => data.clear(),
  };
}

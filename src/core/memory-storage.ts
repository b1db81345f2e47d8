import type { RoomStorage } from './ports.ts';

/**
 * Storage for rooms that live only as long as their socket (connection rooms): they keep what
 * matters in the socket's state, and a room that never writes leaves nothing stored behind.
 * A class, not an object of closures: one of these exists per open socket.
 */
class MemoryStorage implements RoomStorage {
  private readonly data = new Map<string, unknown>();

  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  put(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  putMany(entries: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(entries)) this.data.set(key, value);
  }

  delete(key: string): void {
    this.data.delete(key);
  }

  list<T>(prefix: string): Map<string, T> {
    return new Map([...this.data].filter(([key]) => key.startsWith(prefix)) as [string, T][]);
  }

  deleteAll(): void {
    this.data.clear();
  }
}

export function memoryStorage(): RoomStorage {
  return new MemoryStorage();
}

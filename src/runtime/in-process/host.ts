import { memoryStorage } from '../../core/memory-storage.ts';
import type { ConnectInfo, Connection, RoomContext, RoomStorage, Services } from '../../core/ports.ts';
import { dispatch, type Room, safeClose } from '../../core/room.ts';
import { createRoom, isEphemeral } from '../../core/rooms/index.ts';

/**
 * Runs rooms in this process, the way Durable Objects run them on Workers: addressed by id, created
 * on first use from storage, evicted when idle (and rebuilt on next use), one alarm each that survives
 * a restart. Node and Deno share it; they only bring sockets and a store.
 */

/** The little a host needs of a native socket. */
export interface HostSocket {
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** What the runtime adapter calls when its native socket has news. */
export interface SocketEvents {
  message(data: string | ArrayBuffer): void;
  close(code: number, reason: string): void;
}

export interface HostStore {
  storage(roomId: string): RoomStorage;
  roomsWithAlarms(): string[];
}

interface Entry {
  room: Room;
  storage: RoomStorage;
  connections: Map<string, LocalConnection>;
  timer: ReturnType<typeof setTimeout> | undefined;
  usedAt: number;
}

const ALARM_KEY = '__alarm';

class LocalConnection implements Connection {
  state: unknown = null;
  closed = false;

  constructor(
    readonly id: string,
    private readonly socket: HostSocket,
    private readonly maxBuffered: number,
  ) {}

  setState(state: unknown): void {
    this.state = state;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(data: string | Uint8Array): void {
    if (this.closed) return;
    // A reader that falls this far behind would grow our memory without bound (websockets/ws#1620).
    if (this.socket.bufferedAmount > this.maxBuffered) return this.close(1013, 'Send buffer full: the client reads too slowly');
    this.socket.send(data);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }
}

export class InProcessHost {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private services!: Services;

  constructor(private readonly store: HostStore) {
    this.sweeper = setInterval(() => this.evictIdle(Date.now()), 5_000);
    unref(this.sweeper);
  }

  /** Services reference the host (rooms call each other through it), so they are attached after. */
  start(services: Services): void {
    this.services = services;
    // Alarms outlive restarts, as on Durable Objects: wake every room that had one pending.
    for (const id of this.store.roomsWithAlarms()) this.entry(id);
  }

  readonly call = (id: string, method: string, args: unknown[]): Promise<unknown> => {
    try {
      const room = this.entry(id).room as unknown as Record<string, unknown>;
      const fn = room[method];
      if (typeof fn !== 'function') throw new TypeError(`room ${id} has no method ${method}`);
      return Promise.resolve(fn.apply(room, args));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  connect(roomId: string, connId: string, socket: HostSocket, info: ConnectInfo): SocketEvents {
    const entry = this.entry(roomId);
    const conn = new LocalConnection(connId, socket, this.services.config.sendBufferBytes);
    entry.connections.set(connId, conn);
    dispatch.connect(entry.room, conn, info);
    let open = true;
    return {
      message: (data) => {
        if (!open) return;
        entry.usedAt = Date.now();
        dispatch.message(entry.room, conn, data);
      },
      close: (code, reason) => {
        if (!open) return;
        open = false;
        conn.closed = true;
        entry.connections.delete(connId);
        entry.usedAt = Date.now();
        dispatch.close(entry.room, conn, code, reason);
      },
    };
  }

  /** Rooms currently in memory (for tests and status). */
  loadedRooms(): string[] {
    return [...this.entries.keys()];
  }

  socketCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) count += entry.connections.size;
    return count;
  }

  /** Closes every socket with 1001 and lets each room clean up before the store is closed. */
  shutdown(reason: string): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      for (const conn of [...entry.connections.values()]) {
        safeClose(conn, 1001, reason);
        entry.connections.delete(conn.id);
        dispatch.close(entry.room, conn, 1001, reason);
      }
    }
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (entry) {
      entry.usedAt = Date.now();
      return entry;
    }
    const storage = isEphemeral(id) ? memoryStorage() : this.store.storage(id);
    const connections = new Map<string, LocalConnection>();
    const ctx: RoomContext = {
      id,
      storage,
      services: this.services,
      connections: () => connections.values(),
      setAlarm: (at) => this.setAlarm(id, at),
      deleteAlarm: () => this.deleteAlarm(id),
    };
    entry = { room: undefined as unknown as Room, storage, connections, timer: undefined, usedAt: Date.now() };
    this.entries.set(id, entry);
    entry.room = createRoom(ctx);
    const alarm = storage.get<number>(ALARM_KEY);
    if (alarm !== undefined) this.armTimer(id, entry, alarm);
    return entry;
  }

  private setAlarm(id: string, at: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (!isEphemeral(id)) entry.storage.put(ALARM_KEY, at);
    this.armTimer(id, entry, at);
  }

  private deleteAlarm(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (!isEphemeral(id)) entry.storage.delete(ALARM_KEY);
  }

  private armTimer(id: string, entry: Entry, at: number): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => {
        entry.timer = undefined;
        if (!isEphemeral(id)) entry.storage.delete(ALARM_KEY);
        entry.usedAt = Date.now();
        void dispatch.alarm(entry.room);
      },
      Math.max(0, at - Date.now()),
    );
    unref(entry.timer);
  }

  /** Drops idle rooms from memory; their storage stays and they come back on next use. */
  evictIdle(now: number): void {
    const idleSince = now - this.services.config.roomIdleMs;
    for (const [id, entry] of this.entries) {
      if (entry.connections.size === 0 && !entry.timer && entry.usedAt < idleSince) {
        this.entries.delete(id);
      }
    }
  }
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}

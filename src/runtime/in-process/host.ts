import { errorText } from '../../core/log.ts';
import { memoryStorage } from '../../core/memory-storage.ts';
import { type Endpoint, endpointOf } from '../../core/metrics/metrics.ts';
import type { ConnectInfo, Connection, RoomContext, RoomStorage, Services } from '../../core/ports.ts';
import { dispatch, type Room, safeClose } from '../../core/room.ts';
import { createRoom, isEphemeral, type RoomAddress } from '../../core/rooms/index.ts';

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

const ALARM_KEY = '__alarm';

/** A stub's route to an entry; `hosted` is cleared when the entry is evicted. */
interface Route {
  hosted: HostedRoom | undefined;
}

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

/**
 * One room in memory and its context: a class rather than an object of closures, because connection
 * rooms make one of these per open socket.
 */
class HostedRoom implements RoomContext {
  room!: Room;
  readonly sockets = new Map<string, LocalConnection>();
  private list: LocalConnection[] | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending alarm is due (a timer cannot wait longer than MAX_TIMER_MS in one go). */
  alarmAt = 0;
  usedAt: number;
  /** Cleared on eviction: a dropped room that still sets an alarm must not wake. */
  loaded = true;
  /**
   * What stubs keep as their route to this entry, emptied on eviction: every stub of the room (there
   * may be several, e.g. one per way of calling) then lets go of it at once.
   */
  readonly route: Route = { hosted: this };
  readonly ephemeral: boolean;

  constructor(
    readonly id: string,
    readonly storage: RoomStorage,
    readonly services: Services,
  ) {
    this.ephemeral = isEphemeral(id);
    this.usedAt = services.clock.now();
  }

  /**
   * The sockets as a list, made again after a change: reads are most of it (every relayed message finds
   * its socket here, every broadcast walks them), and a Map iterator per read showed in relay profiles.
   */
  connections(): Iterable<Connection> {
    this.list ??= [...this.sockets.values()];
    return this.list;
  }

  addSocket(conn: LocalConnection): void {
    this.sockets.set(conn.id, conn);
    this.list = undefined;
  }

  removeSocket(conn: LocalConnection): void {
    this.sockets.delete(conn.id);
    this.list = undefined;
  }

  setAlarm(at: number): void {
    if (!this.loaded) return;
    if (!this.ephemeral) this.storage.put(ALARM_KEY, at);
    this.armTimer(at);
  }

  deleteAlarm(): void {
    if (!this.loaded) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.ephemeral) this.storage.delete(ALARM_KEY);
  }

  armTimer(at: number): void {
    clearTimeout(this.timer);
    this.alarmAt = at;
    const wait = Math.min(Math.max(0, at - this.services.clock.now()), MAX_TIMER_MS);
    this.timer = setTimeout(fireAlarm, wait, this);
    unref(this.timer);
  }
}

/** The longest a timer waits: a longer delay fires at once (Node and Deno keep it in 32 bits). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function fireAlarm(hosted: HostedRoom): void {
  const now = hosted.services.clock.now();
  // An alarm further off than one timer can wait is armed again until it is due.
  if (now < hosted.alarmAt) return hosted.armTimer(hosted.alarmAt);
  hosted.timer = undefined;
  hosted.usedAt = now;
  // The stored alarm goes only once the handler is done, and only if it set no new one: a process
  // killed mid-handler fires it again on restart, as Workers retries an alarm that did not finish.
  void dispatch.alarm(hosted.room).then(() => {
    if (hosted.timer === undefined && !hosted.ephemeral && hosted.loaded) hosted.storage.delete(ALARM_KEY);
  });
}

/** A native socket's events, delivered to its room until the close. */
class HostedSocket implements SocketEvents {
  private open = true;

  constructor(
    private readonly host: InProcessHost,
    private readonly hosted: HostedRoom,
    private readonly conn: LocalConnection,
    private readonly endpoint: Endpoint,
  ) {}

  message(data: string | ArrayBuffer): void {
    // No `usedAt` here: a room is evicted only once it holds no socket, and the close sets it.
    if (!this.open) return;
    dispatch.message(this.hosted.room, this.conn, data);
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.conn.closed = true;
    const { metrics } = this.hosted.services;
    metrics.sockets[this.endpoint]--;
    metrics.socketClosed(code);
    this.hosted.removeSocket(this.conn);
    this.hosted.usedAt = this.hosted.services.clock.now();
    dispatch.close(this.hosted.room, this.conn, code, reason);
    // A connection room lives exactly as long as its socket. Kept until the idle sweep, each one held
    // its dead socket's object graph for ROOM_IDLE_S (hundreds of MB after 10,000 sockets closed).
    if (this.hosted.ephemeral && this.hosted.sockets.size === 0) this.host.release(this.hosted);
  }
}

export class InProcessHost {
  private readonly entries = new Map<string, HostedRoom>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private services!: Services;

  constructor(private readonly store: HostStore) {}

  /** Services reference the host (rooms call each other through it), so they are attached after. */
  start(services: Services): void {
    this.services = services;
    this.sweeper = setInterval(() => this.evictIdle(services.clock.now()), 5_000);
    unref(this.sweeper);
    // Alarms outlive restarts, as on Durable Objects: wake every room that had one pending.
    for (const id of this.store.roomsWithAlarms()) this.entry(id);
  }

  readonly call = (id: string, method: string, args: unknown[], address?: RoomAddress): Promise<unknown> => {
    try {
      return Promise.resolve(this.callNow(id, method, args, address));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  /** A one-way call (`rooms.tell`): run at once, with no promise; a failure is logged. */
  readonly tell = (id: string, method: string, args: unknown[], address?: RoomAddress): void => {
    try {
      this.callNow(id, method, args, address);
    } catch (error) {
      this.services.log.error('one-way call failed', { room: id, method, error: errorText(error) });
    }
  };

  /** `call`, answered at once; throws what the method throws. */
  readonly callNow = (id: string, method: string, args: unknown[], address?: RoomAddress): unknown => {
    const room = this.routeOf(id, address).room as unknown as Record<string, unknown>;
    const fn = room[method];
    if (typeof fn !== 'function') throw new TypeError(`room ${id} has no method ${method}`);
    return fn.apply(room, args);
  };

  connect(roomId: string, connId: string, socket: HostSocket, info: ConnectInfo): SocketEvents {
    const hosted = this.entry(roomId);
    const conn = new LocalConnection(connId, socket, this.services.config.sendBufferBytes);
    hosted.addSocket(conn);
    const endpoint = endpointOf(info.path);
    this.services.metrics.sockets[endpoint]++;
    dispatch.connect(hosted.room, conn, info);
    return new HostedSocket(this, hosted, conn, endpoint);
  }

  /** Rooms currently in memory (for tests and status). */
  loadedRooms(): string[] {
    return [...this.entries.keys()];
  }

  socketCount(): number {
    let count = 0;
    for (const hosted of this.entries.values()) count += hosted.sockets.size;
    return count;
  }

  /** Closes every socket with 1001 and lets each room clean up before the store is closed. */
  shutdown(reason: string): void {
    clearInterval(this.sweeper);
    for (const hosted of this.entries.values()) {
      clearTimeout(hosted.timer);
      hosted.timer = undefined;
      for (const conn of [...hosted.sockets.values()]) {
        safeClose(conn, 1001, reason);
        hosted.removeSocket(conn);
        dispatch.close(hosted.room, conn, 1001, reason);
      }
    }
  }

  /**
   * The entry of the room `address` calls, kept on the address while the room stays in memory: a
   * relay calls the same rooms many thousand times a second, and would otherwise look each up in a map
   * of every room in memory.
   */
  private routeOf(id: string, address: RoomAddress | undefined): HostedRoom {
    const kept = (address?.route as Route | undefined)?.hosted;
    if (kept) {
      // A room with a socket is never evicted, and its last close stamps it: no clock read per relay.
      if (kept.sockets.size === 0) kept.usedAt = this.services.clock.now();
      return kept;
    }
    const hosted = this.entry(id);
    if (address) address.route = hosted.route;
    return hosted;
  }

  private entry(id: string): HostedRoom {
    let hosted = this.entries.get(id);
    if (hosted) {
      hosted.usedAt = this.services.clock.now();
      return hosted;
    }
    hosted = new HostedRoom(id, isEphemeral(id) ? memoryStorage() : this.store.storage(id), this.services);
    this.entries.set(id, hosted);
    hosted.room = createRoom(hosted);
    const alarm = hosted.storage.get<number>(ALARM_KEY);
    if (alarm !== undefined) hosted.armTimer(alarm);
    return hosted;
  }

  /** Drops a room from memory now; its storage stays and a later call brings it back. */
  release(hosted: HostedRoom): void {
    if (this.entries.get(hosted.id) !== hosted) return;
    this.entries.delete(hosted.id);
    hosted.loaded = false;
    // No stub may keep a dropped room's objects alive until the stub itself goes.
    hosted.route.hosted = undefined;
    clearTimeout(hosted.timer);
    hosted.timer = undefined;
  }

  /** Drops idle rooms from memory; their storage stays and they come back on next use. */
  evictIdle(now: number): void {
    const idleSince = now - this.services.config.roomIdleMs;
    for (const hosted of this.entries.values()) {
      if (hosted.sockets.size === 0 && !hosted.timer && hosted.usedAt < idleSince) this.release(hosted);
    }
  }
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}

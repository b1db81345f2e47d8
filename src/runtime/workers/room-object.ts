import { DurableObject } from 'cloudflare:workers';
import { errorText } from '../../core/log.ts';
import { memoryStorage } from '../../core/memory-storage.ts';
import type { ConnectInfo, RoomContext, Services } from '../../core/ports.ts';
import { dispatch, type Room } from '../../core/room.ts';
import { createRoom, isEphemeral } from '../../core/rooms/index.ts';
import { createServices, type Env } from './services.ts';
import { type Attachment, HibernatableConnection } from './socket.ts';
import { sqlStorage } from './storage.ts';

/** The Worker forwards a socket upgrade with these: which room, and the core's ConnectInfo as JSON. */
export const ROOM_HEADER = 'x-edgecam-room';
export const CONNECT_HEADER = 'x-edgecam-connect';

/** Our own key in the object's synchronous KV, apart from the room's table, so a room's deleteAll keeps it. */
const ROOM_ID_KEY = 'edgecam:room';

/**
 * One Durable Object class hosts every kind of core room; the room id (`kind:name`) picks the kind.
 * Everything in memory here is a cache: after hibernation or eviction the room is rebuilt from
 * storage and from the attachments of its sockets before the first event is handled.
 */
export class RoomObject extends DurableObject<Env> {
  private room: Room | undefined;
  private roomId: string | undefined;
  private services: Services | undefined;
  private readonly connections = new WeakMap<WebSocket, HibernatableConnection>();

  /** RPC from the Worker or another room: `room[method](...args)`. */
  async call(id: string, method: string, args: unknown[]): Promise<unknown> {
    const room = this.ensureRoom(id) as unknown as Record<string, unknown>;
    const fn = room[method];
    if (typeof fn !== 'function') throw new TypeError(`room ${id} has no method ${method}`);
    return await fn.apply(room, args);
  }

  override async fetch(request: Request): Promise<Response> {
    const id = request.headers.get(ROOM_HEADER);
    const info = request.headers.get(CONNECT_HEADER);
    if (!id || !info || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json({ error: 'A room accepts only WebSocket upgrades forwarded by the Worker' }, { status: 400 });
    }
    const room = this.ensureRoom(id);
    const { 0: client, 1: server } = new WebSocketPair();
    // The Hibernation API: the runtime holds the socket, so the object can sleep between messages.
    this.ctx.acceptWebSocket(server);
    const conn = new HibernatableConnection(server, { id: crypto.randomUUID(), room: id, state: null });
    this.connections.set(server, conn);
    dispatch.connect(room, conn, JSON.parse(info) as ConnectInfo);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    this.safely('message', () => {
      const conn = this.connection(ws);
      if (!conn.closeDispatched) dispatch.message(this.ensureRoom(conn.room), conn, message);
    });
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    this.closed(ws, code, reason);
    // The Hibernation API leaves the closing handshake to us on every compatibility date: without this
    // reply the peer waits (about 10 s here) and sees 1006. Codes a close frame may not carry become 1000.
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  /** No close event is guaranteed after an error, so the room hears of it as an abnormal close. */
  override webSocketError(ws: WebSocket): void {
    this.closed(ws, 1006, 'WebSocket error');
  }

  override async alarm(): Promise<void> {
    let room: Room | undefined;
    this.safely('alarm', () => {
      room = this.knownRoom();
    });
    if (room) await dispatch.alarm(room);
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    this.safely('close', () => {
      const conn = this.connection(ws);
      if (conn.closeDispatched) return;
      conn.closeDispatched = true;
      dispatch.close(this.ensureRoom(conn.room), conn, code, reason);
    });
  }

  private connection(ws: WebSocket): HibernatableConnection {
    let conn = this.connections.get(ws);
    if (!conn) {
      conn = new HibernatableConnection(ws);
      this.connections.set(ws, conn);
    }
    return conn;
  }

  /**
   * For events that carry no room id (alarms): the id we stored, else (connection rooms store
   * nothing) the one in a socket's attachment. None means nobody ever used this object.
   */
  private knownRoom(): Room | undefined {
    if (this.room) return this.room;
    const id = this.ctx.storage.kv.get<string>(ROOM_ID_KEY) ?? this.attachedRoomId();
    return id === undefined ? undefined : this.ensureRoom(id);
  }

  /** The room, built on first use; its id is remembered so alarms can rebuild it after an eviction. */
  private ensureRoom(roomId: string): Room {
    if (this.room) {
      if (roomId !== this.roomId) throw new Error(`object of room ${this.roomId} called as ${roomId}`);
      return this.room;
    }
    const kv = this.ctx.storage.kv;
    const stored = kv.get<string>(ROOM_ID_KEY);
    if (stored !== undefined && stored !== roomId) throw new Error(`object of room ${stored} called as ${roomId}`);
    const ephemeral = isEphemeral(roomId);
    this.services = createServices(this.env, 'durable-object');
    const ctx: RoomContext = {
      id: roomId,
      storage: ephemeral ? memoryStorage() : sqlStorage(this.ctx.storage),
      services: this.services,
      connections: () => this.openConnections(),
      setAlarm: (at) => this.settle('setAlarm', this.ctx.storage.setAlarm(at)),
      deleteAlarm: () => this.settle('deleteAlarm', this.ctx.storage.deleteAlarm()),
    };
    this.room = createRoom(ctx);
    this.roomId = roomId;
    if (stored === undefined && !ephemeral) kv.put(ROOM_ID_KEY, roomId);
    // Built again with state already there (stored, or sockets that outlived the object): a wake-up.
    const sockets = this.ctx.getWebSockets().length;
    if (stored !== undefined || sockets > 0) this.services.log.debug('room rebuilt', { room: roomId, sockets });
    return this.room;
  }

  private openConnections(): HibernatableConnection[] {
    return this.ctx
      .getWebSockets()
      .map((ws) => this.connection(ws))
      .filter((conn) => conn.open);
  }

  private attachedRoomId(): string | undefined {
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as Attachment | null;
      if (attachment?.room) return attachment.room;
    }
    return undefined;
  }

  private settle(what: string, promise: Promise<void>): void {
    promise.catch((error) => this.logError(`${what} failed`, error));
  }

  /** Socket and alarm handlers never throw into the runtime: a throw there would reset the object. */
  private safely(event: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logError(`room ${event} failed`, error);
    }
  }

  private logError(message: string, error: unknown): void {
    const fields = { room: this.roomId, error: errorText(error) };
    if (this.services) this.services.log.error(message, fields);
    else console.error(`${new Date().toISOString()} error ${message} ${JSON.stringify(fields)}`);
  }
}

import { Close } from './codes.ts';
import { errorText } from './log.ts';
import type { ConnectInfo, Connection, RoomContext } from './ports.ts';

/**
 * A Durable-Object-shaped room: partyserver's Server, reduced to what we need. The same subclass runs
 * as a Durable Object (Hibernation API) on Workers and on the in-process host on Node and Deno.
 * In-memory fields are a cache: everything must be rebuildable from storage and socket state.
 */
export abstract class Room {
  constructor(readonly ctx: RoomContext) {}

  onConnect(_conn: Connection, _info: ConnectInfo): void {}
  onMessage(_conn: Connection, _data: string | ArrayBuffer): void | Promise<void> {}
  onClose(_conn: Connection, _code: number, _reason: string): void | Promise<void> {}
  onAlarm(): void | Promise<void> {}

  protected get services() {
    return this.ctx.services;
  }
}

/**
 * Socket events enter rooms only through these, so no handler can throw into a runtime's socket loop
 * or leave a rejected promise behind: a failure is logged with its room and socket and closes that
 * one socket with 1011, nothing else (partyserver does the same).
 */
export const dispatch = {
  connect(room: Room, conn: Connection, info: ConnectInfo): void {
    guard(room, conn, 'connect', () => room.onConnect(conn, info));
  },
  /** The same guard as the others, written out: it runs for every frame, so it makes no closure. */
  message(room: Room, conn: Connection, data: string | ArrayBuffer): void {
    try {
      const result = room.onMessage(conn, data);
      if (result instanceof Promise) result.catch((error) => failed(room, conn, 'message', error));
    } catch (error) {
      failed(room, conn, 'message', error);
    }
  },
  close(room: Room, conn: Connection, code: number, reason: string): void {
    guard(room, null, 'close', () => room.onClose(conn, code, reason));
  },
  alarm(room: Room): Promise<void> {
    return new Promise((resolve) => guard(room, null, 'alarm', () => room.onAlarm(), resolve));
  },
};

function guard(room: Room, conn: Connection | null, event: string, run: () => void | Promise<void>, done?: () => void): void {
  try {
    const result = run();
    if (result instanceof Promise) result.then(done, (error) => failed(room, conn, event, error, done));
    else done?.();
  } catch (error) {
    failed(room, conn, event, error, done);
  }
}

function failed(room: Room, conn: Connection | null, event: string, error: unknown, done?: () => void): void {
  room.ctx.services.log.error('room handler failed', {
    room: room.ctx.id,
    event,
    conn: conn?.id,
    error: errorText(error),
  });
  if (conn) safeClose(conn, Close.serverError, 'Internal server error');
  done?.();
}

/** Closing a socket that is already closing can throw on some runtimes; that is never worth a crash. */
export function safeClose(conn: Connection, code: number, reason: string): void {
  try {
    conn.close(code, reason);
  } catch {
    // already closed or closing
  }
}

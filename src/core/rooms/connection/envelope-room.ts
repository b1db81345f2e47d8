import type { ErrorCode } from '../../codes.ts';
import type { Connection, Services } from '../../ports.ts';
import type { SocketState } from './socket-state.ts';

/**
 * What the envelope protocol's handlers need of the connection room they run in: its name (how other
 * rooms address it), its services, and the few things only the room may do to its socket.
 */
export interface EnvelopeRoom {
  readonly name: string;
  readonly services: Services;
  /** The socket has closed (or is closing): a step that awaited must not act on it any more. */
  readonly closed: boolean;
  update(socket: Connection<SocketState>, change: Partial<SocketState>): void;
  fail(socket: Connection, code: ErrorCode, message: string, requestId?: string, extra?: object): void;
  /** Closes the socket (once) and tells the rooms it was part of. */
  shut(socket: Connection<SocketState>, code: number, reason: string): void;
  /** Past the hello: the heartbeat timeout replaces the hello timeout. */
  armHeartbeat(): void;
  /** A device's presence lease was renewed just now (its hello, a presence report). */
  leaseRenewed(): void;
  /** A device's frame: renews its lease now and then, not on every frame. */
  touchDevice(socket: Connection<SocketState>): void;
  /** For `.catch` on calls to other rooms. */
  readonly logFailure: (error: unknown) => void;
}

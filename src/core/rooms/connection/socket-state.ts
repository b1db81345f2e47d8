import type { ConnectionRoomApi, Profile } from '../../contract.ts';
import type { OneWay } from '../../ports.ts';

/** What one /ws/device or /ws/viewer socket remembers, in its state (Workers keeps it in the attachment). */

export type Role = 'device' | 'viewer';

/**
 * Where a session keeps the other party's stub. A symbol key, because the session lives in the socket's
 * state, which Workers serialises into the socket's attachment, and a serialisation skips it: a stub
 * does not survive one (it comes back as a plain object without its methods), and one holding a
 * Durable Object stub cannot be serialised at all.
 */
export const peerStub = Symbol('peerStub');

/** A watch session as one of its two sockets knows it. Made only by `newSession`: one shape. */
export interface Session {
  device: string;
  /** The connection room of the other party: signals go there directly, not through the device room. */
  peer: string;
  /**
   * Its stub, made on the first signal and kept while this room is in memory. Looked up on every
   * signal, it came from a cache of the 1,024 rooms of each kind used last: with more sessions relaying
   * at once than that, every signal missed it, made a new stub and looked the room up again by id.
   */
  [peerStub]?: OneWay<ConnectionRoomApi>;
}

export function newSession(device: string, peer: string): Session {
  return { device, peer, [peerStub]: undefined };
}

/**
 * Made only by the room's `onConnect` and `socketState`, with the same fields in the same order: one
 * shape, so every read of it on the hot path is a monomorphic load.
 */
export interface SocketState {
  role: Role;
  clientAddress: string;
  openedAt: number;
  device: string | undefined;
  viewer: Profile | undefined;
  /** Watch sessions of this socket, by session id (a Map: looking up a fresh id probes no string table). */
  sessions: Map<string, Session>;
  /** Devices whose state and status this (viewer) socket receives. */
  subscriptions: string[];
}

export function socketState(from: SocketState, change: Partial<SocketState>): SocketState {
  const next = { ...from, ...change };
  return {
    role: next.role,
    clientAddress: next.clientAddress,
    openedAt: next.openedAt,
    device: next.device,
    viewer: next.viewer,
    sessions: next.sessions,
    subscriptions: next.subscriptions,
  };
}

/** Past its hello: a device, or a viewer. */
export function authenticated(state: SocketState): boolean {
  return state.device !== undefined || state.viewer !== undefined;
}

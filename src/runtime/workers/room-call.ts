import type { RoomCall } from '../../core/rooms/index.ts';

/** The little `roomCall` needs of a Durable Object stub (kept free of Workers types, for tests). */
export interface CallableStub {
  call(id: string, method: string, args: unknown[]): unknown;
}

/**
 * Rooms reach each other by JS RPC on the Durable Object that holds them, through a Durable Object
 * stub kept in the address's `route` slot. Calls made through one stub are delivered in the order they
 * were made; calls through different stubs have no order (Cloudflare's stub docs), and a session's
 * relayed signals must arrive in order, so a new stub per call was not enough. A stub that failed fails
 * every later call: it is dropped, and the next call makes a new one. Async, so that a failure thrown
 * rather than returned is still a rejection, as callers that only `.catch` expect.
 */
export function roomCall(stubOf: (id: string) => CallableStub): RoomCall {
  return async (id, method, args, address) => {
    const stub = (address.route as CallableStub | undefined) ?? stubOf(id);
    address.route = stub;
    try {
      return await stub.call(id, method, args);
    } catch (error) {
      if (address.route === stub) address.route = undefined;
      throw error;
    }
  };
}

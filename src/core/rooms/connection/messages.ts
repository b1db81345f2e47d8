import type * as v from 'valibot';
import { frame } from '../../envelope/frame.ts';
import { type Envelope, Payloads } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import { presence, status } from './device-reports.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import type { Role, SocketState } from './socket-state.ts';
import { stateGet, stateSet, subscribe, unsubscribe } from './state.ts';
import { endWatch, signal, watchRequest } from './watch.ts';

/**
 * Every message a socket may send on /ws/device and /ws/viewer once past its hello: the schema its
 * payload must pass, who may send it, and what handles it. dispatch.ts checks the first two before the
 * handler runs; a handler that returns a promise holds the socket's later frames back until it
 * settles, and its failure closes that socket (1011). The hello itself is hello.ts, before all this.
 */

interface MessageKind<S extends v.GenericSchema = v.GenericSchema> {
  schema: S;
  from: Readonly<Record<Role, boolean>>;
  handle(room: EnvelopeRoom, socket: Connection<SocketState>, payload: v.InferOutput<S>, message: Envelope): void | Promise<void>;
}

const DEVICE = { device: true, viewer: false } as const;
const VIEWER = { device: false, viewer: true } as const;
const BOTH = { device: true, viewer: true } as const;
const NOBODY = { device: false, viewer: false } as const;

/** Keeps each entry's handler typed by its own schema. */
const kind = <S extends v.GenericSchema>(entry: MessageKind<S>) => entry as unknown as MessageKind;

function heartbeat(room: EnvelopeRoom, socket: Connection<SocketState>, _: unknown, message: Envelope): void {
  room.touchDevice(socket);
  socket.send(frame(room.services.clock, 'heartbeat_ack', {}, message.request_id));
}

/** A Map, not an object: a type like `constructor` or `__proto__` finds nothing. */
export const MESSAGES: ReadonlyMap<string, MessageKind> = new Map([
  // A second hello, after the first succeeded.
  ['hello', kind({ schema: Payloads.heartbeat, from: NOBODY, handle: () => {} })],
  ['heartbeat', kind({ schema: Payloads.heartbeat, from: BOTH, handle: heartbeat })],
  ['signal_offer', kind({ schema: Payloads.signalSdp, from: BOTH, handle: signal })],
  ['signal_answer', kind({ schema: Payloads.signalSdp, from: BOTH, handle: signal })],
  ['signal_ice', kind({ schema: Payloads.signalIce, from: BOTH, handle: signal })],
  ['end_watch', kind({ schema: Payloads.endWatch, from: BOTH, handle: endWatch })],
  ['status', kind({ schema: Payloads.status, from: DEVICE, handle: status })],
  ['device_presence', kind({ schema: Payloads.presence, from: DEVICE, handle: presence })],
  ['watch_request', kind({ schema: Payloads.watchRequest, from: VIEWER, handle: watchRequest })],
  ['subscribe', kind({ schema: Payloads.subscribe, from: VIEWER, handle: subscribe })],
  ['unsubscribe', kind({ schema: Payloads.unsubscribe, from: VIEWER, handle: unsubscribe })],
  ['state_get', kind({ schema: Payloads.stateGet, from: VIEWER, handle: stateGet })],
  ['state_set', kind({ schema: Payloads.stateSet, from: VIEWER, handle: stateSet })],
]);

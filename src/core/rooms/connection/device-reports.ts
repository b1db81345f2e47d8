import type * as v from 'valibot';
import type { Envelope, Payloads } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import { unknownChangeKey } from '../../state/model.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import type { SocketState } from './socket-state.ts';
import { failState } from './state.ts';

/** What a device tells the server of itself on /ws/device: `status` (a command's reply, what it applied) and presence. */

type Payload<K extends keyof typeof Payloads> = v.InferOutput<(typeof Payloads)[K]>;

/** The device's report: what it applied becomes the state; a command's reply goes back to its sender. */
export async function status(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'status'>,
  message: Envelope,
): Promise<void> {
  const device = socket.state.device as string;
  const requestId = message.request_id ?? payload.request_id;
  if (payload.success === false) {
    room.services.log.warn('device reports failure', { device, request: requestId, detail: payload.message });
  }
  const unknown = payload.state ? unknownChangeKey(payload.state) : null;
  if (unknown !== null) return failState(room, socket, { error: 'Unknown key', key: unknown }, requestId);
  const { request_id: _, ...report } = payload;
  const result = await room.services.rooms
    .device(device)
    .deviceStatus(room.name, { ...report, ...(requestId ? { request_id: requestId } : {}) });
  if (result && !result.ok) failState(room, socket, result.error, requestId);
}

/** The device's own metadata (battery, temperature…): stored, shown in listings, and a renewed lease. */
export function presence(room: EnvelopeRoom, socket: Connection<SocketState>, payload: Payload<'presence'>): void {
  room.leaseRenewed();
  room.services.rooms
    .device(socket.state.device as string)
    .presence(room.name, payload)
    .catch(room.logFailure);
}

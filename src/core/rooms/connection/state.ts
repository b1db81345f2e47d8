import type * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { type ErrorCode, ErrorText } from '../../codes.ts';
import type { Profile } from '../../contract.ts';
import { frame } from '../../envelope/frame.ts';
import type { Envelope, Payloads } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import { type StateError, unknownChangeKey } from '../../state/model.ts';
import { isRegistered, registeredDevices } from '../registry-room.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import type { SocketState } from './socket-state.ts';

/**
 * The camera-state extensions of /ws/viewer: `subscribe`, `unsubscribe`, `state_get`, `state_set`.
 * The device room delivers `state` and `device_status` to subscribers itself, in order.
 */

type Payload<K extends keyof typeof Payloads> = v.InferOutput<(typeof Payloads)[K]>;

const stateErrorCodes: Record<StateError['error'], ErrorCode> = {
  'Unknown key': 'unknown_key',
  'Permission denied': 'permission_denied',
  'Invalid value': 'invalid_value',
};

/** A refused state change as an envelope error: the seed-002 error as message, plus code, key and detail. */
export function failState(room: EnvelopeRoom, socket: Connection, problem: StateError, requestId?: string): void {
  const extra = problem.error === 'Invalid value' ? { key: problem.key, detail: problem.message } : { key: problem.key };
  room.fail(socket, stateErrorCodes[problem.error], problem.error, requestId, extra);
}

export async function subscribe(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'subscribe'>,
  message: Envelope,
): Promise<void> {
  const profile = socket.state.viewer as Profile;
  const { rooms, config } = room.services;
  const max = config.maxSubscriptionsPerSocket;
  const wanted = [...new Set(payload.device_ids)];
  if (new Set([...socket.state.subscriptions, ...wanted]).size > max) {
    return room.fail(
      socket,
      'too_many_subscriptions',
      `Too many subscriptions on this socket (at most ${max})`,
      message.request_id,
    );
  }
  const subscribed: string[] = [];
  const notFound: string[] = [];
  // One registry call per shard for the whole list: unregistered ids never reach a device room.
  const registered = await registeredDevices(
    rooms,
    wanted.filter((id) => mayAccess(profile, id)),
  );
  for (const deviceId of wanted) {
    // A device this user may not access is "not found", exactly like one that does not exist.
    const ok = registered.has(deviceId) && (await rooms.device(deviceId).subscribe(room.name, payload.since?.[deviceId]));
    (ok ? subscribed : notFound).push(deviceId);
  }
  room.update(socket, { subscriptions: [...new Set([...socket.state.subscriptions, ...subscribed])] });
  socket.send(frame(room.services.clock, 'subscribed', { device_ids: subscribed, not_found: notFound }, message.request_id));
}

export function unsubscribe(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'unsubscribe'>,
  message: Envelope,
): void {
  // Only the rooms this socket subscribed to: any other id needs no call (and gets no room made for it).
  const mine = new Set(socket.state.subscriptions);
  for (const deviceId of payload.device_ids) {
    if (mine.has(deviceId)) room.services.rooms.device(deviceId).unsubscribe(room.name).catch(room.logFailure);
  }
  const gone = new Set(payload.device_ids);
  room.update(socket, { subscriptions: socket.state.subscriptions.filter((id) => !gone.has(id)) });
  socket.send(frame(room.services.clock, 'unsubscribed', { device_ids: payload.device_ids }, message.request_id));
}

export async function stateGet(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'stateGet'>,
  message: Envelope,
): Promise<void> {
  const deviceId = payload.device_id;
  const { rooms } = room.services;
  const catchUp =
    mayAccess(socket.state.viewer as Profile, deviceId) && (await isRegistered(rooms, deviceId))
      ? await rooms.device(deviceId).catchUp(payload.since)
      : null;
  if (!catchUp) return room.fail(socket, 'device_not_found', ErrorText.deviceNotFound, message.request_id);
  const body = catchUp.snapshot
    ? { device_id: deviceId, seq: catchUp.seq, snapshot: true, state: catchUp.state }
    : { device_id: deviceId, seq: catchUp.seq, snapshot: false, changes: catchUp.changes };
  socket.send(frame(room.services.clock, 'state', body, message.request_id));
}

export async function stateSet(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'stateSet'>,
  message: Envelope,
): Promise<void> {
  const profile = socket.state.viewer as Profile;
  const deviceId = payload.device_id;
  const unknown = unknownChangeKey(payload.changes);
  if (unknown !== null) return failState(room, socket, { error: 'Unknown key', key: unknown }, message.request_id);
  const { rooms } = room.services;
  const actor = { kind: 'user', username: profile.username, role: profile.role } as const;
  const result =
    mayAccess(profile, deviceId) && (await isRegistered(rooms, deviceId))
      ? await rooms.device(deviceId).applyChanges(actor, payload.changes, { via: 'viewer' })
      : null;
  if (!result) return room.fail(socket, 'device_not_found', ErrorText.deviceNotFound, message.request_id);
  if (!result.ok) return failState(room, socket, result.error, message.request_id);
  socket.send(
    frame(room.services.clock, 'state_ack', { device_id: deviceId, seq: result.seq, state: result.applied }, message.request_id),
  );
}

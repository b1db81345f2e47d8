import type * as v from 'valibot';
import { mayAccess } from '../../auth/access.ts';
import { type ErrorCode, ErrorText } from '../../codes.ts';
import type { Profile, WatchResult } from '../../contract.ts';
import { frame } from '../../envelope/frame.ts';
import type { Envelope, Payloads } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import { isRegistered } from '../registry-room.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import { newSession, peerStub, type SocketState } from './socket-state.ts';

/**
 * Watch sessions as a socket sees them: a viewer's `watch_request`, the signals either party relays,
 * and `end_watch` from either side. The device room creates and ends sessions; signals go straight
 * between the two parties' connection rooms.
 */

type Payload<K extends keyof typeof Payloads> = v.InferOutput<(typeof Payloads)[K]>;

export async function watchRequest(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'watchRequest'>,
  message: Envelope,
): Promise<void> {
  const deviceId = payload.device_id;
  const viewer = socket.state.viewer as Profile;
  const { rooms, config } = room.services;
  // Access first: a device this user may not see is "not found", online or not.
  if (!mayAccess(viewer, deviceId)) return room.fail(socket, 'device_not_found', ErrorText.deviceNotFound, message.request_id);
  if (socket.state.sessions.size >= config.maxWatchesPerSocket) {
    const text = `Too many watch sessions on this socket (at most ${config.maxWatchesPerSocket})`;
    return room.fail(socket, 'too_many_sessions', text, message.request_id);
  }
  const result: WatchResult = (await isRegistered(rooms, deviceId))
    ? await rooms.device(deviceId).watch(room.name, viewer.username)
    : { ok: false, reason: 'not_found' };
  if (!result.ok) {
    const [code, text] = REFUSALS[result.reason];
    return room.fail(socket, code, text, message.request_id);
  }
  if (room.closed) return rooms.device(deviceId).viewerGone(room.name, [result.session_id]);
  // Watching subscribes to the device's state and status too (the device room did its part).
  const subscriptions = [...new Set([...socket.state.subscriptions, deviceId])];
  const sessions = new Map(socket.state.sessions).set(result.session_id, newSession(deviceId, result.link));
  room.update(socket, { sessions, subscriptions });
  const ready = { session_id: result.session_id, device_id: deviceId, ice_servers: result.ice_servers };
  socket.send(frame(room.services.clock, 'watch_ready', ready, message.request_id));
}

const REFUSALS: Record<Extract<WatchResult, { ok: false }>['reason'], [ErrorCode, string]> = {
  not_found: ['device_not_found', ErrorText.deviceNotFound],
  offline: ['device_offline', ErrorText.deviceOffline],
  camera_only: ['device_offline', 'Device is connected only on /ws/camera/: watching needs it on /ws/device'],
  too_many_viewers: ['too_many_sessions', 'Too many viewers are watching this device'],
};

/**
 * Offer, answer and ICE go straight to the other party's connection room: one hop, where the device
 * room would make two (and on Workers two RPCs per ICE candidate). The device room hears only of
 * answers (sessions not answered in time end) and, from the receiving room, of signals that found
 * nobody (the session ends). The hop is one-way (`rooms.tell`): in-process it is a plain call, with no
 * promise, closure or microtask per signal (which cost about a tenth of the server's CPU at 1,000
 * relaying pairs); on Workers an RPC nobody awaits.
 */
export function signal(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'signalSdp'> | Payload<'signalIce'>,
  message: Envelope,
): void {
  const sessionId = payload.session_id;
  const session = socket.state.sessions.get(sessionId);
  if (!session) return room.fail(socket, 'session_not_found', ErrorText.sessionNotFound, message.request_id);
  const { rooms } = room.services;
  session[peerStub] ??= rooms.tell.connection(session.peer);
  session[peerStub].relay(room.name, sessionId, session.device, frame(room.services.clock, message.type, payload));
  room.services.metrics.signalsRelayed++;
  if (message.type === 'signal_answer' && socket.state.role === 'device') {
    rooms.device(session.device).answered(room.name, sessionId).catch(room.logFailure);
  }
  room.touchDevice(socket);
}

/** Either side ends a session. A device ending one means it could not serve it: the viewer hears "error". */
export function endWatch(
  room: EnvelopeRoom,
  socket: Connection<SocketState>,
  payload: Payload<'endWatch'>,
  message: Envelope,
): void {
  const sessionId = payload.session_id;
  const state = socket.state;
  const session = state.sessions.get(sessionId);
  if (!session) return room.fail(socket, 'session_not_found', ErrorText.sessionNotFound, message.request_id);
  const sessions = new Map(state.sessions);
  sessions.delete(sessionId);
  room.update(socket, { sessions });
  const device = room.services.rooms.device(session.device);
  if (state.role === 'device') {
    device.endFromDevice(room.name, sessionId, payload.message).catch(room.logFailure);
    return socket.send(frame(room.services.clock, 'watch_ended', { session_id: sessionId, reason: 'error' }, message.request_id));
  }
  device.endWatch(room.name, sessionId).catch(room.logFailure);
  const ended = { session_id: sessionId, device_id: session.device, reason: 'user_ended' };
  socket.send(frame(room.services.clock, 'watch_ended', ended, message.request_id));
}

import * as v from 'valibot';
import { verifyUserToken } from '../../auth/tokens.ts';
import { Close, ErrorText } from '../../codes.ts';
import { frame } from '../../envelope/frame.ts';
import { describeIssues, type Envelope, Payloads } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import { isRegistered } from '../registry-room.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import type { SocketState } from './socket-state.ts';

/**
 * The hello, the only message a socket may send first: a device names itself and shows its key, a
 * viewer shows its token. Anything wrong closes the socket with 1008; the answer says why.
 */

export async function deviceHello(room: EnvelopeRoom, socket: Connection<SocketState>, message: Envelope): Promise<void> {
  const parsed = v.safeParse(Payloads.deviceHello, message.payload);
  if (!parsed.success) {
    room.fail(socket, 'bad_message', `Invalid hello: ${describeIssues(parsed.issues, 'payload')}`, message.request_id);
    return room.shut(socket, Close.policy, 'Invalid hello');
  }
  const { device_id, key } = parsed.output;
  const { rooms, log, clock } = room.services;
  // An unregistered id is refused without loading (or, on Workers, creating) a device room for it.
  const result = (await isRegistered(rooms, device_id))
    ? await rooms.device(device_id).deviceHello(room.name, key)
    : ({ ok: false, reason: 'not_found' } as const);
  if (!result.ok) {
    log.warn('device hello refused', { device: device_id, reason: result.reason, client: socket.state.clientAddress });
    const notFound = result.reason === 'not_found';
    room.fail(socket, 'unauthorized', notFound ? ErrorText.deviceNotFound : ErrorText.unauthorized, message.request_id);
    return room.shut(socket, Close.policy, notFound ? 'Unknown device' : 'Wrong device key');
  }
  if (room.closed) return rooms.device(device_id).deviceGone(room.name);
  room.update(socket, { device: device_id });
  room.leaseRenewed();
  room.armHeartbeat();
  socket.send(
    frame(room.services.clock, 'hello_ack', { device_id, server_time: new Date(clock.now()).toISOString() }, message.request_id),
  );
  // The device gets its full desired state on every (re)connect, right after hello_ack.
  socket.send(frame(room.services.clock, 'settings', { settings: result.settings, seq: result.seq, snapshot: true }));
}

export async function viewerHello(room: EnvelopeRoom, socket: Connection<SocketState>, message: Envelope): Promise<void> {
  const { rooms, tokens, config, clock } = room.services;
  const payload = v.safeParse(Payloads.viewerHello, message.payload);
  const claims = payload.success ? await verifyUserToken(tokens, payload.output.token) : null;
  if (!claims) {
    room.fail(socket, 'invalid_token', ErrorText.invalidToken, message.request_id);
    return room.shut(socket, Close.policy, 'Invalid token');
  }
  const opened = await rooms.user(claims.sub).openSocket(room.name, claims.gen);
  if (!opened.ok) {
    const tooMany = opened.reason === 'too_many_sockets';
    room.fail(
      socket,
      tooMany ? 'not_allowed' : 'invalid_token',
      tooMany ? 'Too many open sockets for this user' : ErrorText.invalidToken,
      message.request_id,
    );
    return room.shut(socket, Close.policy, tooMany ? 'Too many open sockets for this user' : 'Unknown user');
  }
  if (room.closed) return rooms.user(claims.sub).closeSocket(room.name);
  room.update(socket, { viewer: opened.profile });
  room.armHeartbeat();
  const ack = {
    user_id: opened.profile.username,
    role: opened.profile.role,
    server_time: new Date(clock.now()).toISOString(),
    // So a client can stay within them instead of learning them from a refusal.
    max_subscriptions: config.maxSubscriptionsPerSocket,
    max_watches: config.maxWatchesPerSocket,
  };
  socket.send(frame(room.services.clock, 'hello_ack', ack, message.request_id));
}

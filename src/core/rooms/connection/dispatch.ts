import * as v from 'valibot';
import { Close, ErrorText } from '../../codes.ts';
import { describeIssues, Envelope } from '../../envelope/schema.ts';
import type { Connection } from '../../ports.ts';
import type { EnvelopeRoom } from './envelope-room.ts';
import { deviceHello, viewerHello } from './hello.ts';
import { MESSAGES } from './messages.ts';
import { authenticated, type SocketState } from './socket-state.ts';

/**
 * One text frame of a /ws/device or /ws/viewer socket: checked as an envelope, then (past the hello)
 * looked up in the message table, checked against who may send it and its payload schema, and handed to
 * its handler. Every refusal is an `error` frame naming what was wrong; only a frame before the hello
 * closes the socket. A handler's promise is returned so that the room's queue holds later frames back.
 */
export function dispatch(room: EnvelopeRoom, socket: Connection<SocketState>, text: string): void | Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return room.fail(socket, 'bad_json', `Malformed JSON: ${error instanceof Error ? error.message : 'cannot parse'}`);
  }
  const parsed = v.safeParse(Envelope, json);
  if (!parsed.success) {
    const requestId = (json as { request_id?: unknown } | null)?.request_id;
    const text = `Invalid message: ${describeIssues(parsed.issues, 'message')}`;
    return room.fail(socket, 'bad_message', text, typeof requestId === 'string' ? requestId : undefined);
  }
  const message = parsed.output;
  const state = socket.state;
  if (!authenticated(state)) {
    if (message.type !== 'hello') {
      room.fail(socket, 'unauthorized', ErrorText.unauthorized, message.request_id);
      return room.shut(socket, Close.policy, 'Send hello first');
    }
    return run(room, socket, state.role === 'device' ? deviceHello(room, socket, message) : viewerHello(room, socket, message));
  }
  const kind = MESSAGES.get(message.type);
  if (!kind) return room.fail(socket, 'unknown_type', `Unknown message type "${message.type}"`, message.request_id);
  if (!kind.from[state.role]) {
    const path = state.role === 'device' ? '/ws/device' : '/ws/viewer';
    return room.fail(socket, 'not_allowed', `Message type "${message.type}" is not accepted on ${path}`, message.request_id);
  }
  const payload = v.safeParse(kind.schema, message.payload);
  if (!payload.success) {
    const text = `Invalid ${message.type}: ${describeIssues(payload.issues, 'payload')}`;
    return room.fail(socket, 'bad_message', text, message.request_id);
  }
  const step = kind.handle(room, socket, payload.output, message);
  if (step) return run(room, socket, step);
}

/** An async step: a failure closes this socket only. */
function run(room: EnvelopeRoom, socket: Connection<SocketState>, step: Promise<void>): Promise<void> {
  return step.catch((error) => {
    room.logFailure(error);
    room.shut(socket, Close.serverError, 'Internal server error');
  });
}

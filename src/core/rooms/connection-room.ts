import * as v from 'valibot';
import { mayAccess } from '../auth/access.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import { Close, type ErrorCode, ErrorText } from '../codes.ts';
import type { ConnectionRoomApi, Profile, SessionChange } from '../contract.ts';
import { errorFrame, frame } from '../envelope/frame.ts';
import { describeIssues, Envelope, Payloads } from '../envelope/schema.ts';
import { InboundLimits, InOrder } from '../inbound.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Connection, OneWay } from '../ports.ts';
import { Room, safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import { unknownChangeKey } from '../state/model.ts';
import { StateOutbox } from '../state/outbox.ts';
import { isRegistered } from './registry-room.ts';
import { type EnvelopeContext, failState, stateGet, stateSet, subscribe, unsubscribe } from './viewer-state.ts';

/**
 * The room of one `/ws/device` or `/ws/viewer` socket: it speaks the envelope protocol (seed 003) to
 * that socket and talks to device rooms on its behalf. It exists because identity arrives only with
 * the hello, after the socket is accepted, and because one viewer socket may watch many devices: on
 * Workers a socket cannot move between Durable Objects, so it lives here and device rooms call in.
 */

type Role = 'device' | 'viewer';

/**
 * Where a session keeps the other party's stub. Symbol keys, because the session lives in the socket's
 * state, which Workers serialises into the socket's attachment, and a serialisation skips them: a stub
 * does not survive one (it comes back as a plain object without its methods), and one holding a
 * Durable Object stub cannot be serialised at all.
 */
const peerStub = Symbol('peerStub');

/** A watch session as one of its two sockets knows it. Made only by `newSession`: one shape. */
interface Session {
  device: string;
  /** The connection room of the other party: signals go there directly, not through the device room. */
  peer: string;
  /**
   * Its stub, looked up on the first signal and kept while this room is in memory. Looked up on every
   * signal, it came from a cache of the 1,024 rooms of each kind used last: with more sessions relaying
   * at once than that, every signal missed it, made a new stub and looked the room up again by id.
   */
  [peerStub]?: OneWay<ConnectionRoomApi>;
}

function newSession(device: string, other: string): Session {
  return { device, peer: other, [peerStub]: undefined };
}

/**
 * Made only by `onConnect` and `socketState`, with the same fields in the same order: one shape, so
 * every read of it on the hot path is a monomorphic load.
 */
interface SocketState {
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

function socketState(from: SocketState, change: Partial<SocketState>): SocketState {
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

export class ConnectionRoom extends Room implements ConnectionRoomApi, EnvelopeContext {
  /** How device rooms address this room: `rooms.connection(name)`. */
  readonly name = this.ctx.id.slice('connection:'.length);
  private lastSeen = this.services.clock.now();
  private lastTouch = 0;
  private limits: InboundLimits | undefined;
  /** Frames that arrive while an async step (hello, watch) runs wait behind it, in order. */
  private queue: InOrder<string> | undefined;
  private closed = false;
  /** Made on first use, like `logFailure`: most sockets never need them. */
  private outbox: StateOutbox | undefined;
  private failureLogger: ((error: unknown) => void) | undefined;

  override get services() {
    return this.ctx.services;
  }

  /** Asked of the host each time: only it knows whether the socket is still open (Workers drops closing ones). */
  private socket(): Connection<SocketState> | undefined {
    for (const conn of this.ctx.connections()) return conn as Connection<SocketState>;
    return undefined;
  }

  override onConnect(conn: Connection, info: ConnectInfo): void {
    const role: Role = info.path === '/ws/device' ? 'device' : 'viewer';
    const openedAt = this.services.clock.now();
    const state: SocketState = {
      role,
      clientAddress: info.clientAddress,
      openedAt,
      device: undefined,
      viewer: undefined,
      sessions: new Map(),
      subscriptions: [],
    };
    conn.setState(state);
    if (info.refuse) return this.shut(conn as Connection<SocketState>, Close.policy, info.refuse);
    this.ctx.setAlarm(state.openedAt + this.services.config.helloTimeoutMs);
  }

  override onMessage(conn: Connection, data: string | ArrayBuffer): void {
    const socket = conn as Connection<SocketState>;
    const now = this.services.clock.now();
    this.lastSeen = now;
    if (this.closed) return;
    this.limits ??= new InboundLimits(this.services.config, now);
    const verdict = this.limits.check(data, now);
    if (!verdict.ok) {
      if (verdict.error) this.fail(socket, 'rate_limited', verdict.error);
      if (verdict.close) this.shut(socket, ...verdict.close);
      return;
    }
    if (typeof data !== 'string') {
      return this.fail(socket, 'bad_message', 'Binary frames are not supported here: send JSON text frames');
    }
    this.queue ??= new InOrder<string>(
      (text) => this.handle(socket, text),
      64,
      () => this.shut(socket, Close.policy, 'Too many messages before the previous request finished'),
    );
    this.queue.push(data);
  }

  override onClose(conn: Connection): void {
    this.cleanup(conn as Connection<SocketState>);
  }

  override onAlarm(): void {
    const socket = this.socket();
    if (!socket || this.closed) return;
    const { config, clock } = this.services;
    const now = clock.now();
    if (!this.authenticated(socket.state)) {
      const deadline = socket.state.openedAt + config.helloTimeoutMs;
      if (now >= deadline)
        return this.shut(socket, Close.policy, `Hello timeout: send hello within ${config.helloTimeoutMs / 1000} s`);
      return this.ctx.setAlarm(deadline);
    }
    const deadline = this.lastSeen + config.heartbeatTimeoutMs;
    if (now >= deadline) return this.shut(socket, Close.goingAway, 'Heartbeat timeout: nothing received for too long');
    this.ctx.setAlarm(deadline);
  }

  // — calls from device rooms —

  deliver(message: string, change?: SessionChange): boolean {
    const socket = this.socket();
    if (!socket || this.closed) return false;
    if (change) {
      const sessions = new Map(socket.state.sessions);
      if (change.add) sessions.set(change.add.session, newSession(socket.state.device ?? '', change.add.peer));
      if (change.remove) sessions.delete(change.remove);
      this.update(socket, { sessions });
    }
    socket.send(message);
    return true;
  }

  deliverState(message: string, deviceId: string, changes: State, seq: number): boolean {
    const socket = this.socket();
    if (!socket || this.closed) return false;
    this.outbox ??= new StateOutbox(this.services.config.stateHighWaterBytes, renderState);
    this.outbox.send(socket, deviceId, changes, seq, message);
    return true;
  }

  relay(from: string, sessionId: string, device: string, message: string): void {
    const socket = this.socket();
    if (socket && !this.closed && socket.state.sessions.get(sessionId)?.peer === from) return socket.send(message);
    // No socket, or it no longer has the session: the device room finds out which, and ends it.
    this.services.rooms.device(device).signalLost(from, sessionId).catch(this.logFailure);
  }

  alive(): boolean {
    return this.socket() !== undefined && !this.closed;
  }

  disconnect(code: number, reason: string): void {
    const socket = this.socket();
    if (socket) this.shut(socket, code, reason);
  }

  // — the protocol —

  private handle(socket: Connection<SocketState>, text: string): void | Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return this.fail(socket, 'bad_json', `Malformed JSON: ${error instanceof Error ? error.message : 'cannot parse'}`);
    }
    const parsed = v.safeParse(Envelope, json);
    if (!parsed.success) {
      const requestId = (json as { request_id?: unknown } | null)?.request_id;
      return this.fail(
        socket,
        'bad_message',
        `Invalid message: ${describeIssues(parsed.issues, 'message')}`,
        typeof requestId === 'string' ? requestId : undefined,
      );
    }
    const message = parsed.output;
    const state = socket.state;
    if (!this.authenticated(state)) {
      if (message.type !== 'hello') {
        this.fail(socket, 'unauthorized', ErrorText.unauthorized, message.request_id);
        return this.shut(socket, Close.policy, 'Send hello first');
      }
      return this.run(socket, state.role === 'device' ? this.deviceHello(socket, message) : this.viewerHello(socket, message));
    }
    if (message.type === 'heartbeat') {
      this.touchDevice(socket);
      return socket.send(frame('heartbeat_ack', {}, message.request_id));
    }
    if (message.type === 'signal_offer' || message.type === 'signal_answer' || message.type === 'signal_ice') {
      return this.signal(socket, message);
    }
    if (message.type === 'end_watch') return this.endWatch(socket, message);
    if (state.role === 'device') {
      if (message.type === 'device_presence') return this.presence(socket, message);
      if (message.type === 'status') return this.run(socket, this.status(socket, message));
    } else {
      if (message.type === 'watch_request') return this.run(socket, this.watch(socket, message));
      if (message.type === 'subscribe') return this.run(socket, subscribe(this, socket, message));
      if (message.type === 'unsubscribe') return unsubscribe(this, socket, message);
      if (message.type === 'state_get') return this.run(socket, stateGet(this, socket, message));
      if (message.type === 'state_set') return this.run(socket, stateSet(this, socket, message));
    }
    if (KNOWN_TYPES.has(message.type)) {
      const path = state.role === 'device' ? '/ws/device' : '/ws/viewer';
      return this.fail(socket, 'not_allowed', `Message type "${message.type}" is not accepted on ${path}`, message.request_id);
    }
    this.fail(socket, 'unknown_type', `Unknown message type "${message.type}"`, message.request_id);
  }

  private async deviceHello(socket: Connection<SocketState>, message: Envelope): Promise<void> {
    const payload = this.payload(socket, message, Payloads.deviceHello);
    if (!payload) return this.shut(socket, Close.policy, 'Invalid hello');
    const { device_id, key } = payload;
    // An unregistered id is refused without loading (or, on Workers, creating) a device room for it.
    const result = (await isRegistered(this.services.rooms, device_id))
      ? await this.services.rooms.device(device_id).deviceHello(this.name, key)
      : ({ ok: false, reason: 'not_found' } as const);
    if (!result.ok) {
      this.services.log.warn('device hello refused', {
        device: device_id,
        reason: result.reason,
        client: socket.state.clientAddress,
      });
      this.fail(
        socket,
        'unauthorized',
        result.reason === 'not_found' ? ErrorText.deviceNotFound : ErrorText.unauthorized,
        message.request_id,
      );
      return this.shut(socket, Close.policy, result.reason === 'not_found' ? 'Unknown device' : 'Wrong device key');
    }
    if (this.closed) return this.services.rooms.device(device_id).deviceGone(this.name);
    this.update(socket, { device: device_id });
    this.lastTouch = this.services.clock.now();
    this.armHeartbeat();
    socket.send(frame('hello_ack', { device_id, server_time: new Date().toISOString() }, message.request_id));
    socket.send(frame('settings', { settings: result.settings, seq: result.seq, snapshot: true }));
  }

  /** The device's report: what it applied becomes the state; a command reply goes back to its sender. */
  private async status(socket: Connection<SocketState>, message: Envelope): Promise<void> {
    const payload = this.payload(socket, message, Payloads.status);
    if (!payload) return;
    const device = socket.state.device as string;
    const requestId = message.request_id ?? payload.request_id;
    if (payload.success === false) {
      this.services.log.warn('device reports failure', { device, request: requestId, message: payload.message });
    }
    const unknown = payload.state ? unknownChangeKey(payload.state) : null;
    if (unknown !== null) return failState(this, socket, { error: 'Unknown key', key: unknown }, requestId);
    const { request_id: _, ...report } = payload;
    const status = { ...report, ...(requestId ? { request_id: requestId } : {}) };
    const result = await this.services.rooms.device(device).deviceStatus(this.name, status);
    if (result && !result.ok) failState(this, socket, result.error, requestId);
  }

  private async viewerHello(socket: Connection<SocketState>, message: Envelope): Promise<void> {
    const payload = v.safeParse(Payloads.viewerHello, message.payload);
    const claims = payload.success ? await verifyUserToken(this.services.tokens, payload.output.token) : null;
    if (!claims) {
      this.fail(socket, 'invalid_token', ErrorText.invalidToken, message.request_id);
      return this.shut(socket, Close.policy, 'Invalid token');
    }
    const opened = await this.services.rooms.user(claims.sub).openSocket(this.name, claims.gen);
    if (!opened.ok) {
      const tooMany = opened.reason === 'too_many_sockets';
      this.fail(
        socket,
        tooMany ? 'not_allowed' : 'invalid_token',
        tooMany ? 'Too many open sockets for this user' : ErrorText.invalidToken,
        message.request_id,
      );
      return this.shut(socket, Close.policy, tooMany ? 'Too many open sockets for this user' : 'Unknown user');
    }
    if (this.closed) return this.services.rooms.user(claims.sub).closeSocket(this.name);
    this.update(socket, { viewer: opened.profile });
    this.armHeartbeat();
    const { config } = this.services;
    socket.send(
      frame(
        'hello_ack',
        {
          user_id: opened.profile.username,
          role: opened.profile.role,
          server_time: new Date().toISOString(),
          // So a client can stay within them instead of learning them from a refusal.
          max_subscriptions: config.maxSubscriptionsPerSocket,
          max_watches: config.maxWatchesPerSocket,
        },
        message.request_id,
      ),
    );
  }

  private async watch(socket: Connection<SocketState>, message: Envelope): Promise<void> {
    const payload = this.payload(socket, message, Payloads.watchRequest);
    if (!payload) return;
    const deviceId = payload.device_id;
    const viewer = socket.state.viewer as Profile;
    // Access first: a device this user may not see is "not found", online or not.
    if (!mayAccess(viewer, deviceId)) {
      return this.fail(socket, 'device_not_found', ErrorText.deviceNotFound, message.request_id);
    }
    if (socket.state.sessions.size >= this.services.config.maxWatchesPerSocket) {
      return this.fail(
        socket,
        'too_many_sessions',
        `Too many watch sessions on this socket (at most ${this.services.config.maxWatchesPerSocket})`,
        message.request_id,
      );
    }
    const result = (await isRegistered(this.services.rooms, deviceId))
      ? await this.services.rooms.device(deviceId).watch(this.name, viewer.username)
      : ({ ok: false, reason: 'not_found' } as const);
    if (!result.ok) {
      const [code, text]: [ErrorCode, string] =
        result.reason === 'not_found'
          ? ['device_not_found', ErrorText.deviceNotFound]
          : result.reason === 'offline'
            ? ['device_offline', ErrorText.deviceOffline]
            : result.reason === 'camera_only'
              ? ['device_offline', 'Device is connected only on /ws/camera/: watching needs it on /ws/device']
              : ['too_many_sessions', 'Too many viewers are watching this device'];
      return this.fail(socket, code, text, message.request_id);
    }
    if (this.closed) return this.services.rooms.device(deviceId).viewerGone(this.name, [result.session_id]);
    // Watching subscribes to the device's state and status too (the device room did its part).
    const subscriptions = [...new Set([...socket.state.subscriptions, deviceId])];
    const sessions = new Map(socket.state.sessions).set(result.session_id, newSession(deviceId, result.link));
    this.update(socket, { sessions, subscriptions });
    socket.send(
      frame(
        'watch_ready',
        { session_id: result.session_id, device_id: deviceId, ice_servers: result.ice_servers },
        message.request_id,
      ),
    );
  }

  /**
   * Offer, answer and ICE go straight to the other party's connection room: one hop, where the device
   * room would make two (and on Workers two RPCs per ICE candidate). The device room hears only of
   * answers (sessions not answered in time end) and, from the receiving room, of signals that found
   * nobody (the session ends). The hop is one-way (`rooms.tell`): in-process it is a plain call, with
   * no promise, closure or microtask per signal (which cost about a tenth of the server's CPU at 1,000
   * relaying pairs); on Workers an RPC nobody awaits.
   */
  private signal(socket: Connection<SocketState>, message: Envelope): void {
    const schema = message.type === 'signal_ice' ? Payloads.signalIce : Payloads.signalSdp;
    const payload = this.payload(socket, message, schema);
    if (!payload) return;
    const sessionId = payload.session_id;
    const session = socket.state.sessions.get(sessionId);
    if (!session) return this.fail(socket, 'session_not_found', ErrorText.sessionNotFound, message.request_id);
    const { rooms } = this.services;
    session[peerStub] ??= rooms.tell.connection(session.peer);
    session[peerStub].relay(this.name, sessionId, session.device, frame(message.type, payload));
    if (message.type === 'signal_answer' && socket.state.role === 'device') {
      rooms.device(session.device).answered(this.name, sessionId).catch(this.logFailure);
    }
    this.touchDevice(socket);
  }

  private endWatch(socket: Connection<SocketState>, message: Envelope): void {
    const payload = this.payload(socket, message, Payloads.endWatch);
    if (!payload) return;
    const sessionId = payload.session_id;
    const state = socket.state;
    const session = state.sessions.get(sessionId);
    if (!session) return this.fail(socket, 'session_not_found', ErrorText.sessionNotFound, message.request_id);
    const sessions = new Map(state.sessions);
    sessions.delete(sessionId);
    this.update(socket, { sessions });
    if (state.role === 'device') {
      // A device ending a session means it could not serve it: the viewer hears "error".
      this.services.rooms
        .device(state.device as string)
        .endFromDevice(this.name, sessionId, payload.message)
        .catch(this.logFailure);
      return socket.send(frame('watch_ended', { session_id: sessionId, reason: 'error' }, message.request_id));
    }
    const deviceId = session.device;
    this.services.rooms.device(deviceId).endWatch(this.name, sessionId).catch(this.logFailure);
    socket.send(frame('watch_ended', { session_id: sessionId, device_id: deviceId, reason: 'user_ended' }, message.request_id));
  }

  private presence(socket: Connection<SocketState>, message: Envelope): void {
    const payload = this.payload(socket, message, Payloads.presence);
    if (!payload) return;
    this.lastTouch = this.services.clock.now();
    this.services.rooms
      .device(socket.state.device as string)
      .presence(this.name, payload)
      .catch(this.logFailure);
  }

  // — plumbing —

  private update(socket: Connection<SocketState>, change: Partial<SocketState>): void {
    socket.setState(socketState(socket.state, change));
  }

  setSubscriptions(socket: Connection, subscriptions: string[]): void {
    this.update(socket as Connection<SocketState>, { subscriptions });
  }

  /** The payload of `message` checked against `schema`, or undefined after telling the client what is wrong. */
  payload<S extends v.GenericSchema>(socket: Connection, message: Envelope, schema: S): v.InferOutput<S> | undefined {
    const parsed = v.safeParse(schema, message.payload);
    if (parsed.success) return parsed.output;
    this.fail(socket, 'bad_message', `Invalid ${message.type}: ${describeIssues(parsed.issues, 'payload')}`, message.request_id);
    return undefined;
  }

  /** An async step: a failure closes this socket only; InOrder holds later frames back until it ends. */
  private run(socket: Connection<SocketState>, step: Promise<void>): Promise<void> {
    return step.catch((error) => {
      this.logFailure(error);
      this.shut(socket, Close.serverError, 'Internal server error');
    });
  }

  private authenticated(state: SocketState): boolean {
    return state.device !== undefined || state.viewer !== undefined;
  }

  private armHeartbeat(): void {
    this.ctx.setAlarm(this.lastSeen + this.services.config.heartbeatTimeoutMs);
  }

  /** Devices renew their presence lease now and then, not on every frame. */
  private touchDevice(socket: Connection<SocketState>): void {
    const device = socket.state.device;
    if (!device) return;
    const now = this.services.clock.now();
    if (now - this.lastTouch < this.services.config.heartbeatTimeoutMs / 3) return;
    this.lastTouch = now;
    this.services.rooms
      .device(device)
      .touch(this.name)
      .then(
        (current) => current || this.shut(socket, Close.policy, "This connection is no longer the device's current one"),
        this.logFailure,
      );
  }

  fail(socket: Connection, code: ErrorCode, message: string, requestId?: string, extra?: object): void {
    socket.send(errorFrame(code, message, requestId, extra));
  }

  private shut(socket: Connection<SocketState>, code: number, reason: string): void {
    if (this.closed) return;
    safeClose(socket, code, reason);
    this.cleanup(socket);
  }

  /** Runs once, whether we closed the socket or the peer did. */
  private cleanup(socket: Connection<SocketState>): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.deleteAlarm();
    const { rooms } = this.services;
    const state = socket.state;
    if (state.device) rooms.device(state.device).deviceGone(this.name).catch(this.logFailure);
    if (state.viewer) {
      rooms.user(state.viewer.username).closeSocket(this.name).catch(this.logFailure);
      const byDevice = new Map<string, string[]>();
      for (const [id, { device }] of state.sessions) byDevice.set(device, [...(byDevice.get(device) ?? []), id]);
      for (const device of state.subscriptions) if (!byDevice.has(device)) byDevice.set(device, []);
      for (const [device, sessions] of byDevice) rooms.device(device).viewerGone(this.name, sessions).catch(this.logFailure);
    }
  }

  /** For `.catch`: one function per room, made the first time a call needs it. */
  private get logFailure(): (error: unknown) => void {
    this.failureLogger ??= (error) =>
      this.services.log.error('call from connection failed', { conn: this.name, error: errorText(error) });
    return this.failureLogger;
  }
}

function renderState(state: State, seq: number, device: string): string {
  return frame('state', { device_id: device, seq, snapshot: false, state });
}

const KNOWN_TYPES = new Set([
  'hello',
  'heartbeat',
  'watch_request',
  'signal_offer',
  'signal_answer',
  'signal_ice',
  'end_watch',
  'device_presence',
  'status',
  'subscribe',
  'unsubscribe',
  'state_get',
  'state_set',
]);

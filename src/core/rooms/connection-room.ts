import { Close, type ErrorCode } from '../codes.ts';
import type { ConnectionRoomApi, SessionChange } from '../contract.ts';
import { errorFrame, stateFrame } from '../envelope/frame.ts';
import { InboundLimits, InOrder } from '../inbound.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Connection } from '../ports.ts';
import { Room, safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import { StateOutbox } from '../state/outbox.ts';
import { dispatch } from './connection/dispatch.ts';
import type { EnvelopeRoom } from './connection/envelope-room.ts';
import { authenticated, newSession, type Role, type SocketState, socketState } from './connection/socket-state.ts';

/**
 * The room of one `/ws/device` or `/ws/viewer` socket: it speaks the envelope protocol (seed 003, the
 * device/viewer signaling protocol of the user's reference documents) to that socket and talks to
 * device rooms on its behalf. It exists because identity arrives only with the hello, after the
 * socket is accepted, and because one viewer socket may watch many devices: on Workers a socket cannot
 * move between Durable Objects, so it lives here and device rooms call in.
 *
 * This file is the socket's lifecycle (limits, timeouts, closing) and the calls other rooms make; what
 * each message does is in `connection/` (dispatch.ts checks a frame, messages.ts is the table).
 */
export class ConnectionRoom extends Room implements ConnectionRoomApi, EnvelopeRoom {
  /** How device rooms address this room: `rooms.connection(name)`. */
  readonly name = this.ctx.id.slice('connection:'.length);
  private lastSeen = this.services.clock.now();
  private lastTouch = 0;
  private limits: InboundLimits | undefined;
  /** Frames that arrive while an async step (hello, watch) runs wait behind it, in order. */
  private queue: InOrder<string> | undefined;
  private ended = false;
  /** Made on first use, like `logFailure`: most sockets never need them. */
  private outbox: StateOutbox | undefined;
  private failureLogger: ((error: unknown) => void) | undefined;

  override get services() {
    return this.ctx.services;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Asked of the host each time: only it knows whether the socket is still open (Workers drops closing ones). */
  private socket(): Connection<SocketState> | undefined {
    for (const conn of this.ctx.connections()) return conn as Connection<SocketState>;
    return undefined;
  }

  override onConnect(conn: Connection, info: ConnectInfo): void {
    const role: Role = info.path === '/ws/device' ? 'device' : 'viewer';
    const state: SocketState = {
      role,
      clientAddress: info.clientAddress,
      openedAt: this.services.clock.now(),
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
    if (this.ended) return;
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
      (text) => dispatch(this, socket, text),
      64,
      () => this.shut(socket, Close.policy, 'Too many messages before the previous request finished'),
    );
    this.queue.push(data);
  }

  override onClose(conn: Connection): void {
    this.cleanup(conn as Connection<SocketState>);
  }

  /** The hello timeout until the hello, then the heartbeat timeout: one alarm for both. */
  override onAlarm(): void {
    const socket = this.socket();
    if (!socket || this.ended) return;
    const { config, clock } = this.services;
    const now = clock.now();
    if (!authenticated(socket.state)) {
      const deadline = socket.state.openedAt + config.helloTimeoutMs;
      if (now >= deadline)
        return this.shut(socket, Close.policy, `Hello timeout: send hello within ${config.helloTimeoutMs / 1000} s`);
      return this.ctx.setAlarm(deadline);
    }
    const deadline = this.lastSeen + config.heartbeatTimeoutMs;
    if (now >= deadline) return this.shut(socket, Close.goingAway, 'Heartbeat timeout: nothing received for too long');
    this.ctx.setAlarm(deadline);
  }

  // — calls from other rooms —

  deliver(message: string, change?: SessionChange): boolean {
    const socket = this.socket();
    if (!socket || this.ended) return false;
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
    if (!socket || this.ended) return false;
    this.outbox ??= new StateOutbox(this.services.config.stateHighWaterBytes, (state, seq, device) =>
      // A merged change, as the subscribers' channel renders one (device/subscribers.ts).
      stateFrame(this.services.clock, device, state, seq, false),
    );
    this.outbox.send(socket, deviceId, changes, seq, message);
    return true;
  }

  relay(from: string, sessionId: string, device: string, message: string): void {
    const socket = this.socket();
    if (socket && !this.ended && socket.state.sessions.get(sessionId)?.peer === from) return socket.send(message);
    // No socket, or it no longer has the session: the device room finds out which, and ends it.
    this.services.rooms.device(device).signalLost(from, sessionId).catch(this.logFailure);
  }

  alive(): boolean {
    return this.socket() !== undefined && !this.ended;
  }

  disconnect(code: number, reason: string): void {
    const socket = this.socket();
    if (socket) this.shut(socket, code, reason);
  }

  // — what the handlers may do (EnvelopeRoom) —

  update(socket: Connection<SocketState>, change: Partial<SocketState>): void {
    // Sessions are counted on the viewer's side: each has one viewer socket, and outlives none.
    if (change.sessions && socket.state.viewer)
      this.services.metrics.watchSessions += change.sessions.size - socket.state.sessions.size;
    socket.setState(socketState(socket.state, change));
  }

  fail(socket: Connection, code: ErrorCode, message: string, requestId?: string, extra?: object): void {
    socket.send(errorFrame(this.services.clock, code, message, requestId, extra));
  }

  armHeartbeat(): void {
    this.ctx.setAlarm(this.lastSeen + this.services.config.heartbeatTimeoutMs);
  }

  leaseRenewed(): void {
    this.lastTouch = this.services.clock.now();
  }

  /** Devices renew their presence lease now and then, not on every frame. */
  touchDevice(socket: Connection<SocketState>): void {
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

  shut(socket: Connection<SocketState>, code: number, reason: string): void {
    if (this.ended) return;
    safeClose(socket, code, reason);
    this.cleanup(socket);
  }

  /** Runs once, whether we closed the socket or the peer did: the rooms it was part of are told. */
  private cleanup(socket: Connection<SocketState>): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.deleteAlarm();
    const { rooms } = this.services;
    const state = socket.state;
    if (state.device) rooms.device(state.device).deviceGone(this.name).catch(this.logFailure);
    if (state.viewer) {
      this.services.metrics.watchSessions -= state.sessions.size;
      rooms.user(state.viewer.username).closeSocket(this.name).catch(this.logFailure);
      const byDevice = new Map<string, string[]>();
      for (const [id, { device }] of state.sessions) byDevice.set(device, [...(byDevice.get(device) ?? []), id]);
      for (const device of state.subscriptions) if (!byDevice.has(device)) byDevice.set(device, []);
      for (const [device, sessions] of byDevice) rooms.device(device).viewerGone(this.name, sessions).catch(this.logFailure);
    }
  }

  /** For `.catch`: one function per room, made the first time a call needs it. */
  get logFailure(): (error: unknown) => void {
    this.failureLogger ??= (error) =>
      this.services.log.error('call from connection failed', { conn: this.name, error: errorText(error) });
    return this.failureLogger;
  }
}

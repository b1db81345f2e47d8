import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { Emitter } from './emitter.ts';
import { EdgecamError } from './errors.ts';
import { Requests } from './requests.ts';
import { StateCache } from './state-cache.ts';
import type {
  CameraState,
  CloseEvent,
  HelloAck,
  IceCandidate,
  OpenEvent,
  SessionDescription,
  SignalIceEvent,
  SignalSdpEvent,
  StateAck,
  StateEvent,
  StateReply,
  StatusEvent,
  Subscribed,
  WatchEndedEvent,
  WatchReady,
} from './types.ts';

/**
 * The /ws/viewer connection (docs/protocol.md): hello, heartbeats, reconnects with backoff, request /
 * reply correlation by `request_id`, the camera state of subscribed devices, and watch signaling.
 * Only standard APIs (WebSocket, timers, JSON), so it runs in browsers, Node 20+ and Deno.
 */

/** What the SDK needs of a WebSocket: the browser API, which `ws` (Node) and Deno implement too. */
interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/**
 * A WebSocket class: the global one by default; in Node 20 (no global WebSocket) pass `ws`'s.
 * Typed loosely on purpose: `ws`'s event types differ from the DOM's in details the SDK never reads.
 */
export type WebSocketConstructor = new (url: string) => unknown;

export interface ViewerOptions {
  /** Base URL of the server: `https://cams.example` or `ws://…`; `/ws/viewer` is appended. */
  url: string;
  /** A JWT from `login()`. A function is called on every (re)connect, so a fresh token can be used. */
  token: string | (() => string | Promise<string>);
  WebSocket?: WebSocketConstructor;
  /** How long a request waits for its reply once sent (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** How many requests may wait for a connection. Default 100. */
  maxQueue?: number;
  /** Default 30 000, as the seed's clients; the server closes after 90 s of silence. */
  heartbeatIntervalMs?: number;
  backoff?: BackoffOptions;
  /** Connect right away (default) or wait for `connect()`. */
  autoConnect?: boolean;
  /** For tests and simulations: the jitter source, `Math.random` by default. */
  random?: () => number;
}

export interface ViewerEvents {
  [name: string]: unknown;
  open: OpenEvent;
  close: CloseEvent;
  error: EdgecamError;
  state: StateEvent;
  status: StatusEvent;
  signal_offer: SignalSdpEvent;
  signal_answer: SignalSdpEvent;
  signal_ice: SignalIceEvent;
  watch_ended: WatchEndedEvent;
}

interface Inbound {
  type: string;
  request_id?: string;
  payload: Record<string, unknown>;
}

type Phase = 'idle' | 'connecting' | 'hello' | 'ready' | 'waiting' | 'closed';

/** Close codes after which reconnecting with the same input fails again (docs/protocol.md). */
const POLICY = 1008;

export class EdgecamViewer extends Emitter<ViewerEvents> {
  private readonly options: ViewerOptions;
  private readonly WS: WebSocketConstructor;
  private readonly random: () => number;
  private readonly cache = new StateCache();
  /** Devices we want to be subscribed to, re-subscribed after every reconnect. */
  private readonly subscriptions = new Set<string>();
  /** Watch sessions of this socket, to end them locally when it drops (the server ends them too). */
  private readonly sessions = new Map<string, string>();
  private readonly requests: Requests;
  private socket: SocketLike | undefined;
  private phase: Phase = 'idle';
  private attempt = 0;
  private everOpened = false;
  private lastHeard = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stable: ReturnType<typeof setTimeout> | undefined;
  /** The hello's request_id, to tell an auth failure from other errors. */
  private helloId = '';
  /** Set when the server refused us for good (bad token, socket cap): no reconnect. */
  private fatal: EdgecamError | undefined;
  /** Last ack, so callers can see who they are. */
  user: HelloAck | undefined;

  constructor(options: ViewerOptions) {
    super();
    this.options = options;
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new Error('No WebSocket available: pass options.WebSocket (in Node 20: the `ws` package)');
    this.WS = WS;
    this.random = options.random ?? Math.random;
    this.requests = new Requests(options.requestTimeoutMs ?? 10_000, options.maxQueue ?? 100, (type, payload, id) =>
      this.send(type, payload, id),
    );
    if (options.autoConnect !== false) this.connect();
  }

  /** True between hello_ack and the socket closing: requests go out immediately. */
  get connected(): boolean {
    return this.phase === 'ready';
  }

  /** Starts connecting (only needed with `autoConnect: false`, or after `close()` to start again). */
  connect(): void {
    if (this.phase !== 'idle' && this.phase !== 'closed') return;
    this.fatal = undefined;
    this.attempt = 0;
    this.open();
  }

  /** Closes the socket for good: no reconnect; queued and in-flight requests are rejected. */
  close(): void {
    if (this.phase === 'closed') return;
    const wasStarted = this.phase !== 'idle';
    this.phase = 'closed';
    this.stopTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      this.detach(socket);
      socket.close(1000, 'client closed');
    }
    this.endSessions('viewer_disconnected');
    this.requests.rejectAll(new EdgecamError('closed', 'The viewer connection was closed'));
    if (wasStarted) this.emit('close', { code: 1000, reason: 'client closed', reconnecting: false });
  }

  // — state —

  /** The merged state and seq held for a device (subscribed or watched), or undefined. */
  getState(deviceId: string): { state: CameraState; seq: number } | undefined {
    return this.cache.get(deviceId);
  }

  /**
   * Subscribes to devices' state and status. Resolves with the server's answer; the snapshot (or the
   * changes since what we hold) arrive as `state` events. Devices are re-subscribed after reconnects.
   */
  async subscribe(deviceIds: string[]): Promise<Subscribed> {
    const added = deviceIds.filter((id) => !this.subscriptions.has(id));
    for (const id of deviceIds) this.subscriptions.add(id);
    try {
      const replies = (await Promise.all(
        inMessages(deviceIds).map((ids) => this.request('subscribe', this.subscribePayload(ids), ['subscribed'])),
      )) as unknown as Subscribed[];
      const reply: Subscribed = {
        device_ids: replies.flatMap((r) => r.device_ids),
        not_found: replies.flatMap((r) => r.not_found),
      };
      for (const id of reply.not_found) {
        this.subscriptions.delete(id);
        this.cache.forget(id);
      }
      return reply;
    } catch (error) {
      for (const id of added) this.subscriptions.delete(id);
      throw error;
    }
  }

  /** Stops the state and status of these devices; their held state is dropped. */
  async unsubscribe(deviceIds: string[]): Promise<{ device_ids: string[] }> {
    for (const id of deviceIds) {
      this.subscriptions.delete(id);
      this.cache.forget(id);
    }
    const replies = (await Promise.all(
      inMessages(deviceIds).map((ids) => this.request('unsubscribe', { device_ids: ids }, ['unsubscribed'])),
    )) as unknown as { device_ids: string[] }[];
    return { device_ids: replies.flatMap((r) => r.device_ids) };
  }

  /**
   * Asks the server for a device's state (`state_get`): a snapshot, or with `since` the changes after
   * it. Also applied to the held state when newer.
   */
  async fetchState(deviceId: string, since?: number): Promise<StateReply> {
    const payload = since === undefined ? { device_id: deviceId } : { device_id: deviceId, since };
    const reply = (await this.request('state_get', payload, ['state'])) as unknown as StateReply;
    if (reply.snapshot) this.applyState(deviceId, reply.seq, true, reply.state, false);
    else for (const entry of reply.changes) this.applyState(deviceId, entry.seq, false, entry.changes, false);
    return reply;
  }

  /**
   * Changes state keys (`state_set`), all or nothing. Resolves with the applied (normalised) values
   * and the seq; rejects with `invalid_value`, `permission_denied` or `unknown_key` (and `key`).
   * The change reaches `getState` through the broadcast, not the ack: a backed-up socket gets merged
   * broadcasts, and applying the ack first would make the merged message look old.
   */
  async setState(deviceId: string, changes: CameraState): Promise<StateAck> {
    return (await this.request('state_set', { device_id: deviceId, changes }, ['state_ack'])) as unknown as StateAck;
  }

  // — watching —

  /** Starts a watch session; the device's answer and ICE candidates arrive as events. */
  async watch(deviceId: string): Promise<WatchReady> {
    const ready = (await this.request('watch_request', { device_id: deviceId }, ['watch_ready'])) as unknown as WatchReady;
    this.sessions.set(ready.session_id, ready.device_id);
    return ready;
  }

  sendOffer(sessionId: string, sdp: SessionDescription): void {
    this.relay('signal_offer', { session_id: sessionId, sdp });
  }

  sendAnswer(sessionId: string, sdp: SessionDescription): void {
    this.relay('signal_answer', { session_id: sessionId, sdp });
  }

  /** `null` says there are no more candidates. */
  sendIce(sessionId: string, candidate: IceCandidate | null): void {
    this.relay('signal_ice', { session_id: sessionId, candidate });
  }

  /** Ends a watch session; resolves with the server's confirmation (`reason: "user_ended"`). */
  async endWatch(sessionId: string): Promise<WatchEndedEvent> {
    const ended = (await this.request('end_watch', { session_id: sessionId }, ['watch_ended'])) as unknown as WatchEndedEvent;
    this.sessions.delete(sessionId);
    return ended;
  }

  // — requests —

  /**
   * Sends a message with a fresh request_id and resolves with the payload of the matching reply. While
   * disconnected it waits in a bounded queue and goes out right after the next hello_ack.
   */
  request(type: string, payload: Record<string, unknown>, expects: string[]): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.phase === 'closed') {
        return reject(new EdgecamError('closed', 'The viewer connection is closed: call connect() to start again'));
      }
      if (this.fatal) return reject(this.fatal);
      const pending = { expects, resolve, reject };
      if (this.phase === 'ready') this.requests.send(this.requests.newId(), type, payload, pending);
      else this.requests.enqueue(type, payload, pending);
    });
  }

  private relay(type: string, payload: Record<string, unknown>): void {
    // Not queued: a watch session does not survive a reconnect, so a late signal would only fail.
    if (this.phase !== 'ready') throw new EdgecamError('not_connected', `Cannot send ${type}: not connected`);
    this.send(type, payload);
  }

  private send(type: string, payload: Record<string, unknown>, requestId?: string): void {
    const message = { type, ...(requestId ? { request_id: requestId } : {}), ts: new Date().toISOString(), payload };
    this.socket?.send(JSON.stringify(message));
  }

  // — the connection —

  private open(): void {
    this.phase = 'connecting';
    const base = this.options.url.replace(/^http/, 'ws').replace(/\/+$/, '');
    let socket: SocketLike;
    try {
      socket = new this.WS(`${base}/ws/viewer`) as SocketLike;
    } catch (cause) {
      // A malformed URL throws synchronously; retrying cannot fix it.
      this.phase = 'closed';
      this.fatal = new EdgecamError('bad_url', `Cannot open ${base}/ws/viewer: ${(cause as Error).message}`);
      this.requests.rejectAll(this.fatal);
      this.emit('error', this.fatal);
      return;
    }
    this.socket = socket;
    socket.onopen = () => void this.sendHello(socket);
    socket.onmessage = (event) => this.onMessage(socket, event.data);
    socket.onclose = (event) => this.onClose(socket, event.code, event.reason);
    // Every error is followed by a close event, which is where reconnecting is decided.
    socket.onerror = () => {};
  }

  private async sendHello(socket: SocketLike): Promise<void> {
    let token: string;
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } catch (cause) {
      this.emit('error', new EdgecamError('token_error', `Getting a token failed: ${(cause as Error).message}`));
      socket.close(4100, 'no token');
      return;
    }
    if (socket !== this.socket) return;
    this.phase = 'hello';
    this.helloId = this.requests.newId('hello');
    this.send('hello', { token }, this.helloId);
  }

  private onMessage(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    this.lastHeard = Date.now();
    let message: Inbound;
    try {
      const parsed = JSON.parse(String(data)) as Partial<Inbound>;
      if (typeof parsed.type !== 'string') throw new Error('no type');
      message = {
        type: parsed.type,
        payload: parsed.payload ?? {},
        ...(parsed.request_id ? { request_id: parsed.request_id } : {}),
      };
    } catch {
      this.emit('error', new EdgecamError('bad_message', 'The server sent a frame that is not an envelope'));
      return;
    }
    if (message.type === 'hello_ack' && this.phase === 'hello') return this.onHelloAck(message.payload as unknown as HelloAck);
    if (message.type === 'error') return this.onError(message);
    const p = message.payload;
    // The state_get reply is applied by fetchState, after this resolves.
    const pending = message.request_id ? this.requests.take(message.request_id, message.type) : undefined;
    if (pending) return pending.resolve(p);
    switch (message.type) {
      case 'state':
        if (typeof p.device_id === 'string' && typeof p.seq === 'number' && typeof p.state === 'object' && p.state) {
          this.applyState(p.device_id, p.seq, p.snapshot === true, p.state as CameraState, true);
        }
        return;
      case 'device_status':
        return this.emit('status', p as unknown as StatusEvent);
      case 'signal_offer':
      case 'signal_answer':
        return this.emit(message.type, p as unknown as SignalSdpEvent);
      case 'signal_ice':
        return this.emit('signal_ice', p as unknown as SignalIceEvent);
      case 'watch_ended':
        this.sessions.delete(String(p.session_id));
        return this.emit('watch_ended', p as unknown as WatchEndedEvent);
      default:
        // heartbeat_ack, and types added by later servers: nothing to do.
        return;
    }
  }

  private onHelloAck(ack: HelloAck): void {
    this.phase = 'ready';
    this.user = ack;
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.startHeartbeat();
    // Only a connection that stays up resets the backoff: a server that accepts and then drops us at
    // once would otherwise be hammered at the shortest delay.
    const stableMs = this.options.backoff?.stableMs ?? 10_000;
    this.stable = setTimeout(() => {
      this.attempt = 0;
    }, stableMs);
    // Re-subscribe before anything queued, so a queued state_get cannot see an older state than the catch-up.
    if (reconnected && this.subscriptions.size > 0) {
      const all = [...this.subscriptions];
      for (const id of all) this.cache.markCatchingUp(id);
      for (const ids of inMessages(all)) {
        this.requests.send(this.requests.newId(), 'subscribe', this.subscribePayload(ids), {
          expects: ['subscribed'],
          resolve: (reply) => {
            for (const gone of (reply as unknown as Subscribed).not_found) {
              this.subscriptions.delete(gone);
              this.cache.forget(gone);
            }
          },
          reject: (error) => this.emit('error', error),
        });
      }
    }
    this.requests.flush();
    this.emit('open', { ...ack, reconnected });
  }

  private onError(message: Inbound): void {
    const p = message.payload;
    const error = new EdgecamError(
      typeof p.code === 'string' ? p.code : 'error',
      typeof p.message === 'string' ? p.message : 'Unknown error',
      {
        ...(typeof p.key === 'string' ? { key: p.key } : {}),
        ...(typeof p.detail === 'string' ? { detail: p.detail } : {}),
      },
    );
    if (message.request_id && message.request_id === this.helloId && this.phase === 'hello') {
      // The server closes with 1008 right after; remember why, so the close stops reconnecting.
      this.fatal = error;
      return;
    }
    const pending = message.request_id ? this.requests.take(message.request_id, 'error') : undefined;
    if (pending) return pending.reject(error);
    // Errors for messages without a request_id (a relayed signal to an ended session, a rate limit).
    this.emit('error', error);
  }

  private onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.detach(socket);
    this.socket = undefined;
    const wasHello = this.phase === 'hello';
    this.stopTimers();
    this.endSessions('viewer_disconnected');
    // Sent but unanswered: the answer died with the socket. A state_set may or may not have been
    // applied; the state events after the catch-up tell.
    this.requests.failInFlight(new EdgecamError('disconnected', `The connection closed (${code}) before the answer arrived`));
    // 1008 before hello_ack is a refusal (bad or expired token, too many sockets, hello timeout):
    // retrying with the same token fails the same way, so stop and say why.
    if (this.fatal || (wasHello && code === POLICY)) {
      this.fatal ??= new EdgecamError('unauthorized', `The server refused the hello: ${reason || code}`);
      this.phase = 'closed';
      this.requests.rejectAll(this.fatal);
      this.emit('error', this.fatal);
      this.emit('close', { code, reason, reconnecting: false });
      return;
    }
    const delayMs = backoffDelay(this.attempt++, this.options.backoff ?? {}, this.random);
    this.phase = 'waiting';
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.phase === 'waiting') this.open();
    }, delayMs);
    this.emit('close', { code, reason, reconnecting: true, delayMs });
  }

  private startHeartbeat(): void {
    const interval = this.options.heartbeatIntervalMs ?? 30_000;
    this.lastHeard = Date.now();
    this.heartbeat = setInterval(() => {
      // Every heartbeat is answered: silence for 2.5 intervals means a half-open socket (a VPN drop),
      // which no close event would ever report. Closing it starts the reconnect.
      const socket = this.socket;
      if (socket && Date.now() - this.lastHeard > interval * 2.5) {
        // Do not wait for the close handshake: on a dead link it never completes.
        socket.close(4000, 'heartbeat timeout');
        this.onClose(socket, 4000, 'heartbeat timeout');
        return;
      }
      this.send('heartbeat', {});
    }, interval);
  }

  private subscribePayload(deviceIds: string[]): Record<string, unknown> {
    const since: Record<string, number> = {};
    for (const id of deviceIds) {
      const seq = this.cache.seq(id);
      if (seq !== undefined) since[id] = seq;
    }
    return Object.keys(since).length > 0 ? { device_ids: deviceIds, since } : { device_ids: deviceIds };
  }

  private applyState(deviceId: string, seq: number, snapshot: boolean, values: CameraState, fromBroadcast: boolean): void {
    const event = this.cache.apply(deviceId, seq, snapshot, values, fromBroadcast);
    if (event) this.emit('state', event);
  }

  private endSessions(reason: string): void {
    for (const [sessionId, deviceId] of [...this.sessions]) {
      this.sessions.delete(sessionId);
      this.emit('watch_ended', { session_id: sessionId, device_id: deviceId, reason });
    }
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    clearTimeout(this.stable);
    this.heartbeat = this.retry = this.stable = undefined;
  }

  private detach(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = null;
    // Kept as a no-op: `ws` throws an 'error' event that has no listener (close() while connecting emits one).
    socket.onerror = () => {};
  }
}

/** The server takes at most this many device ids in one subscribe or unsubscribe (docs/protocol.md). */
const IDS_PER_MESSAGE = 256;

/** `ids` split into messages the server accepts; a short (or empty) list stays one message. */
function inMessages(ids: string[]): string[][] {
  const messages: string[][] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_MESSAGE) messages.push(ids.slice(i, i + IDS_PER_MESSAGE));
  return messages.length > 0 ? messages : [ids];
}

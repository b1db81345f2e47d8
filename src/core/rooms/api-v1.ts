import * as v from 'valibot';
import { mayAccess } from '../auth/access.ts';
import { passwordLogin } from '../auth/login.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import { Close } from '../codes.ts';
import type { Applied, CatchUp, Profile, Via } from '../contract.ts';
import { InOrder, SocketLimits } from '../inbound.ts';
import type { ConnectInfo, Connection, Services } from '../ports.ts';
import { safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import { type Actor, canRead, permissions, unknownKey } from '../state/model.ts';
import { StateOutbox } from '../state/outbox.ts';
import type { ChangeChannel } from './device/change-channel.ts';

/**
 * Seed 002's JSON key/value protocol on /api/v1, for the sockets a device room holds itself:
 * `{"key": value}` sets (a batch is all or nothing), `{"get": [keys]}` reads, a first message
 * `{"username", "password"}` or `{"token"}` authenticates; every change is broadcast to every client.
 */

export interface ApiV1State {
  protocol: 'api-v1';
  client: string;
  user: Profile | null;
  /** `?since=` of a client that may not read yet (ANONYMOUS_READ=false): caught up once it authenticates. */
  since?: number;
}

/** What the protocol needs of its device room. */
export interface StateHost {
  readonly deviceId: string;
  readonly services: Services;
  state(): State;
  catchUp(since: number | undefined): CatchUp;
  apply(actor: Actor, input: Record<string, unknown>, via: Via): Applied;
}

const Credentials = v.object({ username: v.pipe(v.string(), v.maxLength(64)), password: v.pipe(v.string(), v.maxLength(256)) });
const TokenAuth = v.object({ token: v.pipe(v.string(), v.maxLength(4096)) });
const Get = v.object({ get: v.array(v.string('get must be a list of keys'), 'get must be a list of keys') });

export class ApiV1 implements ChangeChannel {
  private readonly limits: SocketLimits;
  private readonly queues = new Map<string, InOrder<string>>();
  /** Changes for a socket that reads slowly are merged, not queued one by one. */
  private readonly outbox: StateOutbox;

  constructor(
    private readonly host: StateHost,
    private readonly sockets: () => Iterable<Connection>,
  ) {
    this.limits = new SocketLimits(host.services.config);
    this.outbox = new StateOutbox(host.services.config.stateHighWaterBytes, renderChange);
  }

  /** Every change, to every client of the device that may read it (the sender included), as `{…, "seq"}`. */
  publish(changes: State, seq: number): void {
    const text = renderChange(changes, seq);
    for (const conn of this.sockets()) if (this.reads(conn)) this.outbox.send(conn, conn.id, changes, seq, text);
  }

  connect(conn: Connection, info: ConnectInfo): void {
    const state: ApiV1State = { protocol: 'api-v1', client: info.clientAddress, user: null };
    if (info.since !== undefined && !this.host.services.config.anonymousRead) state.since = info.since;
    conn.setState(state);
    if (info.since !== undefined && state.since === undefined) this.catchUp(conn, info.since);
  }

  /**
   * May this socket hear the device's state (its broadcasts, a catch-up)? With ANONYMOUS_READ=false a
   * client that has not authenticated hears nothing but the answers to its own messages.
   */
  reads(conn: Connection): boolean {
    return this.host.services.config.anonymousRead || (conn.state as ApiV1State).user !== null;
  }

  /** A reconnecting client says what it last saw and gets exactly what it missed, or a snapshot. */
  private catchUp(conn: Connection, since: number): void {
    const catchUp = this.host.catchUp(since);
    if (catchUp.snapshot) conn.send(JSON.stringify({ ...catchUp.state, seq: catchUp.seq, snapshot: true }));
    else for (const entry of catchUp.changes) conn.send(renderChange(entry.changes, entry.seq));
  }

  message(conn: Connection, data: string | ArrayBuffer): void {
    const now = this.host.services.clock.now();
    const verdict = this.limits.check(conn.id, data, now);
    if (!verdict.ok) {
      if (verdict.error) send(conn, { error: 'Rate limit exceeded', message: verdict.error });
      if (verdict.close) safeClose(conn, ...verdict.close);
      return;
    }
    if (typeof data !== 'string')
      return send(conn, { error: 'Invalid message', message: 'Binary frames are not supported here: send JSON text' });
    let queue = this.queues.get(conn.id);
    if (!queue) {
      queue = new InOrder<string>(
        (text) => this.handle(conn, text),
        64,
        () => safeClose(conn, Close.policy, 'Too many messages before authentication finished'),
      );
      this.queues.set(conn.id, queue);
    }
    queue.push(data);
  }

  close(conn: Connection): void {
    this.limits.forget(conn.id);
    this.queues.delete(conn.id);
    this.outbox.forget(conn.id);
  }

  private handle(conn: Connection, text: string): void | Promise<void> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return send(conn, { error: 'Invalid JSON', message: error instanceof Error ? error.message : 'cannot parse' });
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return send(conn, {
        error: 'Invalid message',
        message: 'Send a JSON object: {"key": value}, {"get": [keys]} or credentials',
      });
    }
    const body = message as Record<string, unknown>;
    if ('username' in body || 'password' in body) return this.login(conn, body).catch((error) => this.failed(conn, error));
    if ('token' in body) return this.tokenLogin(conn, body).catch((error) => this.failed(conn, error));
    if ('get' in body) return this.get(conn, body);
    const result = this.host.apply(this.actor(conn), body, 'api_v1');
    if (!result.ok) return send(conn, result.error);
    // The confirmation; the broadcast that follows reaches this client too.
    send(conn, { ...result.applied, info: Object.keys(result.applied) });
  }

  private get(conn: Connection, body: Record<string, unknown>): void {
    const parsed = v.safeParse(Get, body);
    if (!parsed.success)
      return send(conn, { error: 'Invalid message', message: parsed.issues[0]?.message ?? 'get must be a list of keys' });
    const keys = parsed.output.get;
    const unknown = unknownKey(keys);
    if (unknown !== null) return send(conn, { error: 'Unknown key', key: unknown });
    if (!canRead(this.actor(conn), this.host.services.config.anonymousRead)) {
      return send(conn, { error: 'Permission denied', key: keys[0] ?? 'get' });
    }
    const state = this.host.state();
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = state[key];
    send(conn, out);
  }

  private async login(conn: Connection, body: Record<string, unknown>): Promise<void> {
    const parsed = v.safeParse(Credentials, body);
    if (!parsed.success) return send(conn, { authenticated: false, error: 'username and password must be strings' });
    const state = conn.state as ApiV1State;
    const result = await passwordLogin(this.host.services, parsed.output.username, parsed.output.password, state.client);
    if (!result.ok) {
      return send(conn, {
        authenticated: false,
        error: result.retryAfter ? 'Too many failed logins; try again later' : 'Invalid username or password',
        ...(result.retryAfter ? { retry_after: result.retryAfter } : {}),
      });
    }
    await this.authenticated(conn, result.session.username, result.session.gen, 'Invalid username or password');
  }

  private async tokenLogin(conn: Connection, body: Record<string, unknown>): Promise<void> {
    const parsed = v.safeParse(TokenAuth, body);
    const claims = parsed.success ? await verifyUserToken(this.host.services.tokens, parsed.output.token) : null;
    if (!claims) return send(conn, { authenticated: false, error: 'Invalid token' });
    await this.authenticated(conn, claims.sub, claims.gen, 'Invalid token');
  }

  /**
   * The socket becomes the user's: it counts toward their MAX_SOCKETS_PER_USER and closes when their
   * session ends. `gen` is the generation the credentials were checked against (user-room.ts).
   */
  private async authenticated(conn: Connection, username: string, gen: string, invalid: string): Promise<void> {
    const { rooms } = this.host.services;
    const ref = `${this.host.deviceId}/${conn.id}`;
    const previous = (conn.state as ApiV1State).user;
    const opened = await rooms.user(username).openSocket(ref, gen);
    if (!opened.ok) {
      const tooMany = opened.reason === 'too_many_sockets';
      send(conn, { authenticated: false, error: tooMany ? 'Too many open sockets for this user' : invalid });
      return tooMany ? safeClose(conn, Close.policy, 'Too many open sockets for this user') : undefined;
    }
    const profile = opened.profile;
    const noAccess = !mayAccess(profile, this.host.deviceId);
    // Closed while we asked (its close found no user to release), or not to be kept: release it here.
    if (!this.queues.has(conn.id) || noAccess)
      rooms
        .user(username)
        .closeSocket(ref)
        .catch(() => {});
    if (!this.queues.has(conn.id)) return;
    // Authenticating again as someone else: the socket is no longer the first user's.
    if (previous && previous.username !== username)
      rooms
        .user(previous.username)
        .closeSocket(ref)
        .catch(() => {});
    if (noAccess) {
      send(conn, { authenticated: false, error: 'No access to this device' });
      return safeClose(conn, Close.policy, 'No access to this device');
    }
    const { since, ...state } = conn.state as ApiV1State;
    conn.setState({ ...state, user: profile });
    const actor = this.actor(conn);
    send(conn, {
      authenticated: true,
      user: profile.username,
      role: profile.role,
      permissions: permissions(actor, this.host.services.config.anonymousRead),
    });
    if (since !== undefined) this.catchUp(conn, since);
  }

  private actor(conn: Connection): Actor {
    const user = (conn.state as ApiV1State).user;
    return user ? { kind: 'user', username: user.username, role: user.role } : { kind: 'anonymous' };
  }

  private failed(conn: Connection, error: unknown): void {
    this.host.services.log.error('api/v1 request failed', { device: this.host.deviceId, error: String(error) });
    safeClose(conn, Close.serverError, 'Internal server error');
  }
}

function send(conn: Connection, message: object): void {
  conn.send(JSON.stringify(message));
}

/** A change as seed 002's clients get it, with its sequence number: `{"brightness": 75, "seq": 42}`. */
function renderChange(changes: State, seq: number): string {
  return JSON.stringify({ ...changes, seq });
}

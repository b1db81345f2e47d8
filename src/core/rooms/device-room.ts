import { type DeviceKeyHash, verifyDeviceKey } from '../auth/device-key.ts';
import { Close } from '../codes.ts';
import { frame } from '../envelope/frame.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Connection } from '../ports.ts';
import { Room, safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import { type Actor, validateChanges } from '../state/model.ts';
import { StateOutbox } from '../state/outbox.ts';
import { type CatchUp, StateStore } from '../state/store.ts';
import { ApiV1, type Applied, type StateHost } from './api-v1.ts';
import { type WatchResult, WatchSessions } from './watch-sessions.ts';

/**
 * One device: its registration, its live link (the connection room holding its /ws/device socket),
 * presence, camera state, the viewers subscribed to it, its /api/v1 sockets, and its watch sessions.
 * Everything that must survive an eviction or restart is in storage; fields are a cache rebuilt here.
 */

export interface Registration {
  device_id: string;
  name: string;
  key: DeviceKeyHash;
  created_at: string;
}

interface Link {
  conn: string;
  since: number;
}

export interface DeviceInfo {
  device_id: string;
  name: string;
  online: boolean;
  presence: Record<string, unknown> | null;
  last_seen: string | null;
}

export type HelloResult = { ok: true; settings: State; seq: number } | { ok: false; reason: 'not_found' | 'bad_key' };
export type { Applied, WatchResult };

export interface DeviceRoomApi {
  register(registration: Registration): 'created' | 'exists';
  unregister(): void;
  info(): DeviceInfo | null;
  deviceHello(conn: string, key: string): Promise<HelloResult>;
  deviceGone(conn: string): void;
  touch(conn: string): boolean;
  presence(conn: string, presence: Record<string, unknown>): void;
  deviceReport(conn: string, state: Record<string, unknown>): Applied | null;
  readState(): { state: State; seq: number } | null;
  catchUp(since: number | undefined): CatchUp | null;
  applyChanges(actor: Actor, input: Record<string, unknown>): Applied | null;
  subscribe(conn: string, since: number | undefined): boolean;
  unsubscribe(conn: string): void;
  watch(viewer: string, user: string): Promise<WatchResult>;
  relayFromViewer(viewer: string, session: string, message: string): void;
  relayFromDevice(conn: string, session: string, message: string, answered: boolean): void;
  endWatch(viewer: string, session: string): boolean;
  endFromDevice(conn: string, session: string): boolean;
  viewerGone(viewer: string, sessions: string[]): void;
}

export class DeviceRoom extends Room implements DeviceRoomApi {
  readonly deviceId = this.ctx.id.slice('device:'.length);
  private registration = this.ctx.storage.get<Registration>('registration');
  private link = this.ctx.storage.get<Link>('link');
  private lastSeen = this.ctx.storage.get<number>('last_seen');
  private readonly store = new StateStore(this.ctx.storage, this.services.config.stateLogSize);
  private readonly subscribers = new Set([...this.ctx.storage.list('sub:').keys()].map((key) => key.slice(4)));
  private readonly sessions = new WatchSessions(this);
  private readonly apiV1 = new ApiV1(this.stateHost());
  private readonly outbox = new StateOutbox(this.services.config.stateHighWaterBytes, (changes, seq) =>
    JSON.stringify({ ...changes, seq }),
  );

  /** Online = a live link that has shown signs of life within the heartbeat timeout. */
  private online(now = this.services.clock.now()): boolean {
    return (
      this.link !== undefined && this.lastSeen !== undefined && now - this.lastSeen < this.services.config.heartbeatTimeoutMs
    );
  }

  deviceLink(): string | undefined {
    return this.online() ? this.link?.conn : undefined;
  }

  linkLost(conn: string): void {
    this.deviceGone(conn);
  }

  // — registry —

  register(registration: Registration): 'created' | 'exists' {
    if (this.registration) return 'exists';
    this.registration = registration;
    this.ctx.storage.put('registration', registration);
    return 'created';
  }

  unregister(): void {
    if (this.link) this.rooms.connection(this.link.conn).disconnect(Close.deviceRemoved, 'Device removed').catch(this.logFailure);
    this.sessions.endAll('device_disconnected');
    for (const conn of this.ctx.connections()) safeClose(conn, Close.deviceRemoved, 'Device removed');
    this.registration = undefined;
    this.link = undefined;
    this.lastSeen = undefined;
    this.publishStatus();
    this.subscribers.clear();
    this.store.clear();
    this.ctx.storage.deleteAll();
    this.ctx.deleteAlarm();
  }

  info(): DeviceInfo | null {
    if (!this.registration) return null;
    return {
      device_id: this.registration.device_id,
      name: this.registration.name,
      online: this.online(),
      presence: this.ctx.storage.get<Record<string, unknown>>('presence') ?? null,
      last_seen: this.lastSeen === undefined ? null : new Date(this.lastSeen).toISOString(),
    };
  }

  // — the device's own link —

  async deviceHello(conn: string, key: string): Promise<HelloResult> {
    const stored = this.registration;
    if (!stored) return { ok: false, reason: 'not_found' };
    const valid = await verifyDeviceKey(key, stored.key);
    // Check again after the await: the device may have been removed or re-registered meanwhile.
    if (this.registration !== stored) return { ok: false, reason: 'not_found' };
    if (!valid) return { ok: false, reason: 'bad_key' };
    const previous = this.link;
    if (previous && previous.conn !== conn) {
      // The old socket's peer connections die with it; viewers hear it as a device disconnect.
      this.sessions.endAll('device_disconnected');
      this.rooms.connection(previous.conn).disconnect(Close.replaced, 'Replaced by a newer connection').catch(this.logFailure);
      this.services.log.info('device connection replaced', { device: this.deviceId, old: previous.conn, conn });
    }
    const now = this.services.clock.now();
    this.link = { conn, since: now };
    this.lastSeen = now;
    this.ctx.storage.putMany({ link: this.link, last_seen: now });
    this.services.log.info('device online', { device: this.deviceId, conn });
    this.publishStatus();
    // The device gets its full desired state on every (re)connect, right after hello_ack.
    return { ok: true, settings: { ...this.store.state }, seq: this.store.seq };
  }

  deviceGone(conn: string): void {
    if (this.link?.conn !== conn) return;
    this.link = undefined;
    this.ctx.storage.delete('link');
    this.sessions.endAll('device_disconnected');
    this.services.log.info('device offline', { device: this.deviceId, conn });
    this.publishStatus();
  }

  touch(conn: string): boolean {
    if (this.link?.conn !== conn) return false;
    this.lastSeen = this.services.clock.now();
    this.ctx.storage.put('last_seen', this.lastSeen);
    return true;
  }

  presence(conn: string, presence: Record<string, unknown>): void {
    if (!this.touch(conn)) return;
    this.ctx.storage.put('presence', presence);
    this.publishStatus();
  }

  /** The device says what it actually applied: that is the state now, broadcast like any change. */
  deviceReport(conn: string, state: Record<string, unknown>): Applied | null {
    if (this.link?.conn !== conn) return null;
    return this.applyChanges({ kind: 'device' }, state);
  }

  // — camera state —

  readState(): { state: State; seq: number } | null {
    return this.registration ? { state: { ...this.store.state }, seq: this.store.seq } : null;
  }

  catchUp(since: number | undefined): CatchUp | null {
    return this.registration ? this.store.since(since) : null;
  }

  /** Validates the whole batch, persists it, then tells everyone: the order every protocol relies on. */
  applyChanges(actor: Actor, input: Record<string, unknown>): Applied | null {
    if (!this.registration) return null;
    const checked = validateChanges(actor, input);
    if (!checked.ok) return checked;
    const { changes, triggers } = checked;
    const seq = Object.keys(changes).length > 0 ? this.store.apply(changes) : this.store.seq;
    if (Object.keys(changes).length > 0) this.publish(changes, seq, actor);
    for (const trigger of triggers) this.toDevice(frame('command', { command: trigger, request_id: crypto.randomUUID() }));
    const applied: Record<string, unknown> = { ...changes };
    for (const trigger of triggers) applied[trigger] = true;
    return { ok: true, applied, seq };
  }

  subscribe(conn: string, since: number | undefined): boolean {
    if (!this.registration) return false;
    if (!this.subscribers.has(conn)) {
      this.subscribers.add(conn);
      this.ctx.storage.put(`sub:${conn}`, 1);
    }
    // Delivered from here, not returned, so it can never overtake a later broadcast to this subscriber.
    const target = this.rooms.connection(conn);
    const catchUp = this.store.since(since);
    if (catchUp.snapshot) {
      target.deliver(this.stateFrame(catchUp.state, catchUp.seq, true)).catch(this.logFailure);
    } else {
      for (const entry of catchUp.changes)
        target.deliver(this.stateFrame(entry.changes, entry.seq, false)).catch(this.logFailure);
    }
    target.deliver(this.statusFrame()).catch(this.logFailure);
    return true;
  }

  unsubscribe(conn: string): void {
    if (this.subscribers.delete(conn)) this.ctx.storage.delete(`sub:${conn}`);
  }

  // — watch sessions —

  async watch(viewer: string, user: string): Promise<WatchResult> {
    if (!this.registration) return { ok: false, reason: 'not_found' };
    const result = await this.sessions.start(viewer, user);
    // Watching a device subscribes to its state and status.
    if (result.ok) this.subscribe(viewer, undefined);
    return result;
  }

  relayFromViewer(viewer: string, sessionId: string, message: string): void {
    this.sessions.relayFromViewer(viewer, sessionId, message);
  }

  relayFromDevice(conn: string, sessionId: string, message: string, answered: boolean): void {
    if (this.link?.conn === conn) this.sessions.relayFromDevice(sessionId, message, answered);
  }

  endWatch(viewer: string, sessionId: string): boolean {
    return this.sessions.endByViewer(viewer, sessionId);
  }

  endFromDevice(conn: string, sessionId: string): boolean {
    return this.link?.conn === conn && this.sessions.endByDevice(sessionId);
  }

  viewerGone(viewer: string, sessionIds: string[]): void {
    this.sessions.viewerGone(viewer, sessionIds);
    this.unsubscribe(viewer);
  }

  override onAlarm(): void {
    this.sessions.expire();
  }

  // — sockets this room holds itself (/api/v1) —

  override onConnect(conn: Connection, info: ConnectInfo): void {
    this.apiV1.connect(conn, info);
  }

  override onMessage(conn: Connection, data: string | ArrayBuffer): void {
    this.apiV1.message(conn, data);
  }

  override onClose(conn: Connection): void {
    this.apiV1.close(conn);
    this.outbox.forget(conn.id);
  }

  // — telling everyone —

  /** Every change, serialised once per protocol, to every client of every protocol. */
  private publish(changes: State, seq: number, actor: Actor): void {
    const apiV1 = JSON.stringify({ ...changes, seq });
    for (const conn of this.ctx.connections()) this.outbox.send(conn, conn.id, changes, seq, apiV1);
    const envelope = this.stateFrame(changes, seq, false);
    for (const conn of this.subscribers) {
      this.rooms
        .connection(conn)
        .deliverState(envelope, this.deviceId, changes, seq)
        .then((ok) => ok || this.unsubscribe(conn), this.logFailure);
    }
    // The device's own report needs no echo.
    if (actor.kind !== 'device') this.toDevice(frame('settings', { settings: changes, seq }));
  }

  private publishStatus(): void {
    this.toSubscribers(this.statusFrame());
  }

  private toSubscribers(message: string): void {
    for (const conn of this.subscribers) {
      this.rooms
        .connection(conn)
        .deliver(message)
        .then((ok) => ok || this.unsubscribe(conn), this.logFailure);
    }
  }

  private toDevice(message: string): void {
    const link = this.deviceLink();
    if (link) this.rooms.connection(link).deliver(message).catch(this.logFailure);
  }

  private stateFrame(state: State, seq: number, snapshot: boolean): string {
    return frame('state', { device_id: this.deviceId, seq, snapshot, state });
  }

  private statusFrame(): string {
    const info = this.info();
    return frame('device_status', { device_id: this.deviceId, online: info?.online ?? false, presence: info?.presence ?? null });
  }

  private stateHost(): StateHost {
    return {
      deviceId: this.deviceId,
      services: this.services,
      state: () => this.store.state,
      catchUp: (since) => this.store.since(since),
      apply: (actor, input) => this.applyChanges(actor, input) ?? { ok: false, error: { error: 'Unknown key', key: '' } },
    };
  }

  private get rooms() {
    return this.services.rooms;
  }

  readonly logFailure = (error: unknown) => {
    this.services.log.error('call from device room failed', { device: this.deviceId, error: errorText(error) });
  };
}

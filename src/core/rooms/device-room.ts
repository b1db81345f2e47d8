import { verifyDeviceKey } from '../auth/device-key.ts';
import { type CommandType, commandNames, stateToSettings } from '../camera/codec.ts';
import { Close } from '../codes.ts';
import type {
  Applied,
  CatchUp,
  DeviceInfo,
  DeviceRoomApi,
  DeviceStatus,
  HelloResult,
  Profile,
  Registration,
  WatchResult,
} from '../contract.ts';
import { frame } from '../envelope/frame.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Connection } from '../ports.ts';
import { Room, safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import { type Actor, validateChanges } from '../state/model.ts';
import { StateOutbox } from '../state/outbox.ts';
import { StateStore } from '../state/store.ts';
import { ApiV1, type StateHost } from './api-v1.ts';
import { CameraChannel, type CameraHost } from './camera-channel.ts';
import { WatchSessions } from './watch-sessions.ts';

/**
 * One device: its registration, its live link (the connection room holding its /ws/device socket),
 * presence, camera state, the viewers subscribed to it, its /api/v1 sockets, and its watch sessions.
 * Everything that must survive an eviction or restart is in storage; fields are a cache rebuilt here.
 */

interface Link {
  conn: string;
  since: number;
}

const LINK_CHECK_MS = 1_000;

export class DeviceRoom extends Room implements DeviceRoomApi {
  readonly deviceId = this.ctx.id.slice('device:'.length);
  private registration = this.ctx.storage.get<Registration>('registration');
  private link = this.ctx.storage.get<Link>('link');
  private lastSeen = this.ctx.storage.get<number>('last_seen');
  private readonly store = new StateStore(this.ctx.storage, this.services.config.stateLogSize);
  /**
   * Envelope subscribers by connection room, with the stub each broadcast calls. Kept here: looked up
   * per broadcast, the stubs came from a cache of the 1,024 rooms of each kind used last, which more
   * subscribers than that missed on every change (a new stub and a lookup by id each, per subscriber).
   */
  private readonly subscribers = new Map(
    [...this.ctx.storage.list('sub:').keys()].map((key) => [key.slice(4), this.rooms.connection(key.slice(4))] as const),
  );
  private readonly sessions = new WatchSessions(this);
  private readonly apiV1 = new ApiV1(this.stateHost());
  private readonly camera = new CameraChannel(this.cameraHost(), () => this.sockets('camera'));
  private readonly outbox = new StateOutbox(this.services.config.stateHighWaterBytes, (changes, seq) =>
    JSON.stringify({ ...changes, seq }),
  );

  /** Online on /ws/device = a link that has shown signs of life within the heartbeat timeout. */
  private linkAlive(now = this.services.clock.now()): boolean {
    return (
      this.link !== undefined && this.lastSeen !== undefined && now - this.lastSeen < this.services.config.heartbeatTimeoutMs
    );
  }

  /** Online on either channel: /ws/device, or /ws/camera/ (a socket this room holds itself). */
  private online(): boolean {
    return this.linkAlive() || this.camera.device() !== undefined;
  }

  deviceLink(): string | undefined {
    return this.linkAlive() ? this.link?.conn : undefined;
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

  async info(): Promise<DeviceInfo | null> {
    if (!this.registration) return null;
    await this.checkLink();
    return this.describe();
  }

  private describe(): DeviceInfo | null {
    if (!this.registration) return null;
    return {
      device_id: this.registration.device_id,
      name: this.registration.name,
      online: this.online(),
      presence: this.ctx.storage.get<Record<string, unknown>>('presence') ?? null,
      last_seen: this.lastSeen === undefined ? null : new Date(this.lastSeen).toISOString(),
    };
  }

  /**
   * A link not heard from for a second may have died with its host (a crash, a workerd restart)
   * without any close event: before saying "online", ask the connection room if its socket is open.
   */
  private async checkLink(): Promise<void> {
    const link = this.link;
    if (!link || !this.linkAlive() || this.services.clock.now() - (this.lastSeen ?? 0) < LINK_CHECK_MS) return;
    const alive = await this.rooms.connection(link.conn).alive();
    if (!alive && this.link === link) this.deviceGone(link.conn);
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

  /** For the /ws/camera/ upgrade: is this the device's key? */
  async verifyKey(key: string): Promise<boolean> {
    const stored = this.registration;
    return stored !== undefined && (await verifyDeviceKey(key, stored.key)) && this.registration === stored;
  }

  /**
   * The device's report on /ws/device: what it actually applied becomes the state (broadcast like any
   * change), and a reply to a command goes back to whoever sent it.
   */
  deviceStatus(conn: string, status: DeviceStatus): Applied | null {
    if (this.link?.conn !== conn) return null;
    const applied = status.state ? this.applyChanges({ kind: 'device' }, status.state) : null;
    if (status.request_id) {
      this.camera.deviceReplied({
        requestId: status.request_id,
        success: status.success ?? applied?.ok !== false,
        message: status.message ?? '',
        settings: stateToSettings(this.store.state),
      });
    }
    return applied;
  }

  // — camera state —

  readState(): { state: State; seq: number } | null {
    return this.registration ? { state: { ...this.store.state }, seq: this.store.seq } : null;
  }

  catchUp(since: number | undefined): CatchUp | null {
    return this.registration ? this.store.since(since) : null;
  }

  /** Validates the whole batch, persists it, then tells everyone: the order every protocol relies on. */
  applyChanges(actor: Actor, input: Record<string, unknown>, requestId?: string): Applied | null {
    if (!this.registration) return null;
    const checked = validateChanges(actor, input);
    if (!checked.ok) return checked;
    const { triggers } = checked;
    let changes = checked.changes;
    // A device repeats its whole applied state in every report: only what differs is a change.
    if (actor.kind === 'device')
      changes = Object.fromEntries(Object.entries(changes).filter(([k, v]) => this.store.state[k] !== v));
    const seq = Object.keys(changes).length > 0 ? this.store.apply(changes) : this.store.seq;
    if (Object.keys(changes).length > 0) this.publish(changes, seq, actor, requestId);
    for (const trigger of triggers) this.toDevice(frame('command', { command: trigger, request_id: crypto.randomUUID() }));
    const applied: Record<string, unknown> = { ...changes };
    for (const trigger of triggers) applied[trigger] = true;
    return { ok: true, applied, seq };
  }

  subscribe(conn: string, since: number | undefined): boolean {
    if (!this.registration) return false;
    let target = this.subscribers.get(conn);
    if (!target) {
      target = this.rooms.connection(conn);
      this.subscribers.set(conn, target);
      this.ctx.storage.put(`sub:${conn}`, 1);
    }
    // Delivered from here, not returned, so it can never overtake a later broadcast to this subscriber.
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
    if (!this.deviceLink() && this.camera.device()) return { ok: false, reason: 'camera_only' };
    const result = await this.sessions.start(viewer, user);
    // Watching a device subscribes to its state and status.
    if (result.ok) this.subscribe(viewer, undefined);
    return result;
  }

  answered(conn: string, sessionId: string): void {
    if (this.link?.conn === conn) this.sessions.answered(sessionId);
  }

  signalLost(conn: string, sessionId: string): Promise<void> {
    return this.sessions.signalLost(conn, sessionId);
  }

  endWatch(viewer: string, sessionId: string): boolean {
    return this.sessions.endByViewer(viewer, sessionId);
  }

  endFromDevice(conn: string, sessionId: string, message?: string): boolean {
    return this.link?.conn === conn && this.sessions.endByDevice(sessionId, message);
  }

  viewerGone(viewer: string, sessionIds: string[]): void {
    this.sessions.viewerGone(viewer, sessionIds);
    this.unsubscribe(viewer);
  }

  override onAlarm(): void {
    this.sessions.expire();
  }

  // — sockets this room holds itself: /api/v1 and /ws/camera/ —

  override onConnect(conn: Connection, info: ConnectInfo): void {
    if (info.camera) this.camera.connect(conn, { ...info, camera: info.camera });
    else this.apiV1.connect(conn, info);
  }

  override onMessage(conn: Connection, data: string | ArrayBuffer): void {
    if (protocolOf(conn) === 'camera') this.camera.message(conn, data);
    else this.apiV1.message(conn, data);
  }

  override onClose(conn: Connection): void {
    if (protocolOf(conn) === 'camera') {
      this.camera.close(conn);
    } else {
      this.apiV1.close(conn);
      this.outbox.forget(conn.id);
    }
    // It no longer counts toward its user's MAX_SOCKETS_PER_USER.
    const user = (conn.state as { user?: Profile | null } | null)?.user;
    if (user) this.rooms.user(user.username).closeSocket(`${this.deviceId}/${conn.id}`).catch(this.logFailure);
  }

  /** A user's session ended (they were changed or removed): their socket here goes. */
  closeSocket(connId: string, code: number, reason: string): void {
    for (const conn of this.ctx.connections()) if (conn.id === connId) safeClose(conn, code, reason);
  }

  socketOpen(connId: string): boolean {
    for (const conn of this.ctx.connections()) if (conn.id === connId) return true;
    return false;
  }

  private *sockets(protocol: 'api-v1' | 'camera'): Iterable<Connection> {
    for (const conn of this.ctx.connections()) if (protocolOf(conn) === protocol) yield conn;
  }

  // — telling everyone —

  /** Every change, serialised once per protocol, to every client of every protocol. */
  private publish(changes: State, seq: number, actor: Actor, requestId?: string): void {
    const apiV1 = JSON.stringify({ ...changes, seq });
    for (const conn of this.sockets('api-v1')) if (this.apiV1.reads(conn)) this.outbox.send(conn, conn.id, changes, seq, apiV1);
    const envelope = this.stateFrame(changes, seq, false);
    for (const [conn, target] of this.subscribers) {
      target.deliverState(envelope, this.deviceId, changes, seq).then((ok) => ok || this.unsubscribe(conn), this.logFailure);
    }
    // The device's own report needs no echo.
    if (actor.kind !== 'device') {
      this.toDevice(frame('settings', { settings: changes, seq, ...(requestId ? { request_id: requestId } : {}) }));
    }
    this.camera.publish(changes, actor, requestId);
  }

  /** A command for the device, on the channel it is on; false when it is on neither. */
  private command(command: CommandType, requestId: string): boolean {
    if (this.camera.sendCommand(command, requestId)) return true;
    const link = this.deviceLink();
    if (!link) return false;
    this.rooms
      .connection(link)
      .deliver(frame('command', { command: commandNames[command], request_id: requestId }))
      .catch(this.logFailure);
    return true;
  }

  private publishStatus(): void {
    this.toSubscribers(this.statusFrame());
  }

  private toSubscribers(message: string): void {
    for (const [conn, target] of this.subscribers) {
      target.deliver(message).then((ok) => ok || this.unsubscribe(conn), this.logFailure);
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
    const info = this.describe();
    return frame('device_status', { device_id: this.deviceId, online: info?.online ?? false, presence: info?.presence ?? null });
  }

  private cameraHost(): CameraHost {
    return {
      deviceId: this.deviceId,
      services: this.services,
      state: () => this.store.state,
      apply: (actor, input, requestId) =>
        this.applyChanges(actor, input, requestId) ?? { ok: false, error: { error: 'Unknown key', key: '' } },
      command: (command, requestId) => this.command(command, requestId),
      online: () => this.online(),
      presenceChanged: () => {
        this.lastSeen = this.services.clock.now();
        this.ctx.storage.put('last_seen', this.lastSeen);
        this.publishStatus();
      },
    };
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

function protocolOf(conn: Connection): string | undefined {
  return (conn.state as { protocol?: string } | null)?.protocol;
}

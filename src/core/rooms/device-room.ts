import { verifyDeviceKey } from '../auth/device-key.ts';
import { type CommandType, stateToSettings } from '../camera/codec.ts';
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
import { StateStore } from '../state/store.ts';
import { ApiV1 } from './api-v1.ts';
import { CameraChannel } from './camera-channel.ts';
import type { ChangeChannel } from './device/change-channel.ts';
import { DeviceLink } from './device/device-link.ts';
import { PresenceLease } from './device/presence-lease.ts';
import { Subscribers } from './device/subscribers.ts';
import { WatchSessions } from './watch-sessions.ts';

/**
 * One device: its registration, its camera state, and everyone its changes reach. The state is
 * validated, stored, then published to each channel in turn (device/change-channel.ts): the /api/v1
 * sockets and the /ws/camera/ sockets this room holds itself, the envelope subscribers' connection
 * rooms, and the device's own /ws/device link. It also owns the device's watch sessions. Everything
 * that must survive an eviction or restart is in storage; fields are a cache rebuilt from it.
 */
export class DeviceRoom extends Room implements DeviceRoomApi {
  readonly deviceId = this.ctx.id.slice('device:'.length);
  /** For `.catch` on calls to other rooms (first: the parts below are given it). */
  readonly logFailure = (error: unknown) => {
    this.services.log.error('call from device room failed', { device: this.deviceId, error: errorText(error) });
  };
  private registration = this.ctx.storage.get<Registration>('registration');
  private readonly store = new StateStore(this.ctx.storage, this.services.config.stateLogSize);
  private readonly lease = new PresenceLease(this.ctx);
  private readonly link = new DeviceLink(this.ctx, this.lease, this.logFailure);
  private readonly subscribers = new Subscribers(this.ctx, this.deviceId, this.logFailure);
  private readonly sessions = new WatchSessions(this);
  private readonly apiV1 = new ApiV1(
    {
      deviceId: this.deviceId,
      services: this.services,
      state: () => this.store.state,
      catchUp: (since) => this.store.since(since),
      apply: (actor, input) => this.applyChanges(actor, input) ?? UNREGISTERED,
    },
    () => this.sockets('api-v1'),
  );
  private readonly camera = new CameraChannel(
    {
      deviceId: this.deviceId,
      services: this.services,
      state: () => this.store.state,
      apply: (actor, input, requestId) => this.applyChanges(actor, input, requestId) ?? UNREGISTERED,
      command: (command, requestId) => this.command(command, requestId),
      online: () => this.online(),
      presenceChanged: () => {
        this.lease.renew();
        this.publishStatus();
      },
    },
    () => this.sockets('camera'),
  );
  /** Where every change goes, in this order. */
  private readonly channels: readonly ChangeChannel[] = [this.apiV1, this.subscribers, this.link, this.camera];

  /** Online on either channel: /ws/device (a link within its lease), or /ws/camera/ (a socket held here). */
  private online(): boolean {
    return this.link.conn() !== undefined || this.camera.device() !== undefined;
  }

  /** For the watch sessions: the connection room of the device's /ws/device socket, when online there. */
  deviceLink(): string | undefined {
    return this.link.conn();
  }

  linkLost(conn: string): void {
    this.deviceGone(conn);
  }

  // — registration —

  register(registration: Registration): 'created' | 'exists' {
    if (this.registration) return 'exists';
    this.registration = registration;
    this.ctx.storage.put('registration', registration);
    return 'created';
  }

  unregister(): void {
    this.link.remove();
    this.sessions.endAll('device_disconnected');
    for (const conn of this.ctx.connections()) safeClose(conn, Close.deviceRemoved, 'Device removed');
    this.registration = undefined;
    this.lease.forget();
    this.publishStatus();
    this.subscribers.clear();
    this.store.clear();
    this.ctx.storage.deleteAll();
    this.ctx.deleteAlarm();
  }

  async info(): Promise<DeviceInfo | null> {
    if (!this.registration) return null;
    const dead = await this.link.dead();
    if (dead) this.deviceGone(dead);
    return this.describe();
  }

  /** For the /ws/camera/ upgrade: is this the device's key? */
  async verifyKey(key: string): Promise<boolean> {
    const stored = this.registration;
    return stored !== undefined && (await verifyDeviceKey(key, stored.key)) && this.registration === stored;
  }

  // — the device's own /ws/device link —

  async deviceHello(conn: string, key: string): Promise<HelloResult> {
    const stored = this.registration;
    if (!stored) return { ok: false, reason: 'not_found' };
    const valid = await verifyDeviceKey(key, stored.key);
    // Check again after the await: the device may have been removed or re-registered meanwhile.
    if (this.registration !== stored) return { ok: false, reason: 'not_found' };
    if (!valid) return { ok: false, reason: 'bad_key' };
    if (this.link.open(conn)) {
      // The old socket's peer connections die with it; viewers hear it as a device disconnect.
      this.sessions.endAll('device_disconnected');
      this.services.log.info('device connection replaced', { device: this.deviceId, conn });
    }
    this.services.log.info('device online', { device: this.deviceId, conn });
    this.publishStatus();
    // The device gets its full desired state on every (re)connect, right after hello_ack.
    return { ok: true, settings: { ...this.store.state }, seq: this.store.seq };
  }

  deviceGone(conn: string): void {
    if (!this.link.close(conn)) return;
    this.sessions.endAll('device_disconnected');
    this.services.log.info('device offline', { device: this.deviceId, conn });
    this.publishStatus();
  }

  touch(conn: string): boolean {
    return this.link.touch(conn);
  }

  presence(conn: string, presence: Record<string, unknown>): void {
    if (!this.link.touch(conn)) return;
    this.ctx.storage.put('presence', presence);
    this.publishStatus();
  }

  /**
   * The device's report on /ws/device: what it actually applied becomes the state (published like any
   * change), and a reply to a command goes back to whoever sent it.
   */
  deviceStatus(conn: string, status: DeviceStatus): Applied | null {
    if (!this.link.is(conn)) return null;
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

  /** Validates the whole batch, stores it, then publishes it: the order every protocol relies on. */
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
    if (Object.keys(changes).length > 0) for (const channel of this.channels) channel.publish(changes, seq, actor, requestId);
    for (const trigger of triggers) this.link.trigger(trigger);
    const applied: Record<string, unknown> = { ...changes };
    for (const trigger of triggers) applied[trigger] = true;
    return { ok: true, applied, seq };
  }

  subscribe(conn: string, since: number | undefined): boolean {
    if (!this.registration) return false;
    this.subscribers.add(conn, this.store.since(since), this.statusFrame());
    return true;
  }

  unsubscribe(conn: string): void {
    this.subscribers.remove(conn);
  }

  // — watch sessions (watch-sessions.ts) —

  async watch(viewer: string, user: string): Promise<WatchResult> {
    if (!this.registration) return { ok: false, reason: 'not_found' };
    if (!this.link.conn() && this.camera.device()) return { ok: false, reason: 'camera_only' };
    const result = await this.sessions.start(viewer, user);
    // Watching a device subscribes to its state and status.
    if (result.ok) this.subscribe(viewer, undefined);
    return result;
  }

  answered(conn: string, sessionId: string): void {
    if (this.link.is(conn)) this.sessions.answered(sessionId);
  }

  signalLost(conn: string, sessionId: string): Promise<void> {
    return this.sessions.signalLost(conn, sessionId);
  }

  endWatch(viewer: string, sessionId: string): boolean {
    return this.sessions.endByViewer(viewer, sessionId);
  }

  endFromDevice(conn: string, sessionId: string, message?: string): boolean {
    return this.link.is(conn) && this.sessions.endByDevice(sessionId, message);
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
    if (protocolOf(conn) === 'camera') this.camera.close(conn);
    else this.apiV1.close(conn);
    // It no longer counts toward its user's MAX_SOCKETS_PER_USER.
    const user = (conn.state as { user?: Profile | null } | null)?.user;
    if (user) this.services.rooms.user(user.username).closeSocket(`${this.deviceId}/${conn.id}`).catch(this.logFailure);
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

  // — what else goes out —

  /** A command for the device, on the channel it is on; false when it is on neither. */
  private command(command: CommandType, requestId: string): boolean {
    return this.camera.sendCommand(command, requestId) || this.link.command(command, requestId);
  }

  private describe(): DeviceInfo | null {
    if (!this.registration) return null;
    return {
      device_id: this.registration.device_id,
      name: this.registration.name,
      online: this.online(),
      presence: this.ctx.storage.get<Record<string, unknown>>('presence') ?? null,
      last_seen: this.lease.lastSeen(),
    };
  }

  private publishStatus(): void {
    this.subscribers.send(this.statusFrame());
  }

  private statusFrame(): string {
    const info = this.describe();
    return frame(this.services.clock, 'device_status', {
      device_id: this.deviceId,
      online: info?.online ?? false,
      presence: info?.presence ?? null,
    });
  }
}

/** What the protocols answer when the device was removed while they held a socket to it. */
const UNREGISTERED: Applied = { ok: false, error: { error: 'Unknown key', key: '' } };

function protocolOf(conn: Connection): string | undefined {
  return (conn.state as { protocol?: string } | null)?.protocol;
}

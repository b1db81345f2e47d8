import { Close } from '../codes.ts';
import type {
  Applied,
  CatchUp,
  ChangeSource,
  DeviceInfo,
  DeviceRoomApi,
  DeviceStatus,
  HelloResult,
  HistoryEntry,
  Registration,
  SchedulePlan,
  WatchResult,
} from '../contract.ts';
import { errorText } from '../log.ts';
import type { ConnectInfo, Connection } from '../ports.ts';
import { Room, safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import type { Actor } from '../state/model.ts';
import { StateStore } from '../state/store.ts';
import { type ApplyOptions, Changes } from './device/changes.ts';
import { DeviceLink } from './device/device-link.ts';
import { HeldSockets } from './device/held-sockets.ts';
import { PresenceLease } from './device/presence-lease.ts';
import { RegistrationRecord } from './device/registration.ts';
import { DeviceSchedules } from './device/schedules.ts';
import { type OnlineVia, StatusView } from './device/status-view.ts';
import { Subscribers } from './device/subscribers.ts';
import { WatchSessions } from './watch-sessions.ts';

/**
 * One device's room: the calls other rooms and the HTTP routes make, each handed to the piece in
 * `device/` that owns it — the registration, the state's changes and the channels they are published
 * on, the /ws/device link and its presence lease, the sockets held here — and to the watch sessions.
 * Everything that must survive an eviction or restart is in storage; fields are a cache rebuilt from it.
 */
export class DeviceRoom extends Room implements DeviceRoomApi {
  readonly deviceId = this.ctx.id.slice('device:'.length);
  /** For `.catch` on calls to other rooms (first: the parts below are given it). */
  readonly logFailure = (error: unknown) => {
    this.services.log.error('call from device room failed', { device: this.deviceId, error: errorText(error) });
  };
  private readonly registration = new RegistrationRecord(this.ctx);
  private readonly store = new StateStore(this.ctx.storage, this.services.config, this.services.clock);
  private readonly lease = new PresenceLease(this.ctx);
  private readonly link = new DeviceLink(this.ctx, this.lease, this.logFailure);
  private readonly subscribers = new Subscribers(this.ctx, this.deviceId, this.logFailure);
  private readonly sessions = new WatchSessions(this);
  private readonly schedules = new DeviceSchedules(this);
  private readonly held: HeldSockets = new HeldSockets(this.ctx, this, this.store, this.link);
  private readonly status = new StatusView(this.ctx, this.registration, () => this.onlineVia(), this.lease, this.logFailure);
  /** Published to every channel, in this order. */
  private readonly changes = new Changes(
    this.ctx.storage,
    this.store,
    [this.held.apiV1, this.subscribers, this.link, this.held.camera],
    (name) => this.link.trigger(name),
    this.services.metrics,
  );

  /** Online on either channel: /ws/device (a link within its lease), or /ws/camera/ (a socket held here). */
  online(): boolean {
    return this.onlineVia() !== null;
  }

  private onlineVia(): OnlineVia {
    if (this.held.camera.device() !== undefined) return 'camera';
    return this.link.conn() !== undefined ? 'link' : null;
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
    return this.registration.create(registration);
  }

  unregister(): void {
    this.link.remove();
    this.sessions.endAll('device_disconnected');
    for (const conn of this.ctx.connections()) safeClose(conn, Close.deviceRemoved, 'Device removed');
    this.registration.forget();
    this.lease.forget();
    this.publishStatus();
    this.subscribers.clear();
    this.store.clear();
    this.ctx.storage.deleteAll();
    this.ctx.deleteAlarm();
  }

  async info(): Promise<DeviceInfo | null> {
    if (!this.registration.current) return null;
    const dead = await this.link.dead();
    if (dead) this.deviceGone(dead);
    return this.status.describe();
  }

  /** For the /ws/camera/ upgrade: is this the device's key? */
  async verifyKey(key: string): Promise<boolean> {
    return (await this.registration.check(key)) === 'ok';
  }

  // — the device's own /ws/device link —

  async deviceHello(conn: string, key: string): Promise<HelloResult> {
    const verdict = await this.registration.check(key);
    if (verdict !== 'ok') return { ok: false, reason: verdict };
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

  /** The device's link renews its lease (now and then, not on every frame): its listing row too. */
  touch(conn: string): boolean {
    if (!this.link.touch(conn)) return false;
    this.status.relist();
    return true;
  }

  presence(conn: string, presence: Record<string, unknown>): void {
    if (!this.link.touch(conn)) return;
    this.status.savePresence(presence);
    this.publishStatus();
  }

  /**
   * The device's report on /ws/device: what it actually applied becomes the state (published like any
   * change), and a reply to a command goes back to whoever sent it.
   */
  deviceStatus(conn: string, status: DeviceStatus): Applied | null {
    if (!this.link.is(conn)) return null;
    const applied = status.state ? this.applyChanges({ kind: 'device' }, status.state, { via: 'device' }) : null;
    if (status.request_id) this.held.camera.reported(status, applied, this.store.state);
    return applied;
  }

  // — camera state —

  readState(): { state: State; seq: number } | null {
    return this.registration.current ? { state: { ...this.store.state }, seq: this.store.seq } : null;
  }

  catchUp(since: number | undefined): CatchUp | null {
    return this.registration.current ? this.store.since(since) : null;
  }

  /** A change from any protocol (device/changes.ts); null once the device is removed. */
  applyChanges(actor: Actor, input: Record<string, unknown>, source: ChangeSource, options?: ApplyOptions): Applied | null {
    return this.registration.current ? this.changes.apply(actor, input, source, options) : null;
  }

  history(limit: number, before?: number): HistoryEntry[] | null {
    return this.registration.current ? this.store.history(limit, before) : null;
  }

  subscribe(conn: string, since: number | undefined): boolean {
    if (!this.registration.current) return false;
    this.subscribers.add(conn, this.store.since(since), this.status.frame(this.deviceId));
    return true;
  }

  unsubscribe(conn: string): void {
    this.subscribers.remove(conn);
  }

  // — watch sessions (watch-sessions.ts) —

  async watch(viewer: string, user: string): Promise<WatchResult> {
    if (!this.registration.current) return { ok: false, reason: 'not_found' };
    if (!this.link.conn() && this.held.camera.device()) return { ok: false, reason: 'camera_only' };
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

  // — schedules naming this device (device/schedules.ts) —

  setSchedule(plan: SchedulePlan): void {
    this.schedules.set(plan);
  }

  removeSchedule(id: string): void {
    this.schedules.remove(id);
  }

  /** One alarm for everything the room waits for: watch answers and schedule runs. */
  rearm(): void {
    const times = [this.sessions.nextDue(), this.schedules.nextDue()].filter((at) => at !== undefined);
    if (times.length > 0) this.ctx.setAlarm(Math.min(...times));
    else this.ctx.deleteAlarm();
  }

  override async onAlarm(): Promise<void> {
    this.sessions.expire();
    await this.schedules.runDue();
    if (this.registration.current) this.rearm();
  }

  // — sockets this room holds itself: /api/v1 and /ws/camera/ (device/held-sockets.ts) —

  override onConnect(conn: Connection, info: ConnectInfo): void {
    this.held.connect(conn, info);
  }

  override onMessage(conn: Connection, data: string | ArrayBuffer): void {
    this.held.message(conn, data);
  }

  override onClose(conn: Connection): void {
    this.held.close(conn, this.deviceId);
  }

  closeSocket(connId: string, code: number, reason: string): void {
    this.held.closeOne(connId, code, reason);
  }

  socketOpen(connId: string): boolean {
    return this.held.has(connId);
  }

  /** The device connected or left on /ws/camera/: its lease is renewed, its status told. */
  presenceChanged(): void {
    this.lease.renew();
    this.publishStatus();
  }

  private publishStatus(): void {
    this.subscribers.send(this.status.frame(this.deviceId));
    this.status.relist();
  }
}

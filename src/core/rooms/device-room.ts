import { type DeviceKeyHash, verifyDeviceKey } from '../auth/device-key.ts';
import { Close, type WatchEndReason } from '../codes.ts';
import { frame } from '../envelope/frame.ts';
import { errorText } from '../log.ts';
import { Room } from '../room.ts';
import { type IceServer, iceServers } from '../turn.ts';

/**
 * One device: its registration, its live link (the connection room holding its /ws/device socket),
 * its presence, and the watch sessions between it and viewers. Everything that must survive an
 * eviction or restart is in storage; the fields below are a cache rebuilt in the constructor.
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

interface Session {
  viewer: string;
  user: string;
  created: number;
  answered: boolean;
}

export interface DeviceInfo {
  device_id: string;
  name: string;
  online: boolean;
  presence: Record<string, unknown> | null;
  last_seen: string | null;
}

export type HelloResult = { ok: true } | { ok: false; reason: 'not_found' | 'bad_key' };
export type WatchResult =
  | { ok: true; session_id: string; ice_servers: IceServer[] }
  | { ok: false; reason: 'not_found' | 'offline' | 'too_many_viewers' };

export interface DeviceRoomApi {
  register(registration: Registration): 'created' | 'exists';
  unregister(): void;
  info(): DeviceInfo | null;
  deviceHello(conn: string, key: string): Promise<HelloResult>;
  deviceGone(conn: string): void;
  touch(conn: string): boolean;
  presence(conn: string, presence: Record<string, unknown>): void;
  watch(viewer: string, user: string): Promise<WatchResult>;
  relayFromViewer(viewer: string, session: string, message: string): void;
  relayFromDevice(conn: string, session: string, message: string, answered: boolean): void;
  endWatch(viewer: string, session: string): boolean;
  endFromDevice(conn: string, session: string): boolean;
  viewerGone(viewer: string, sessions: string[]): void;
}

export class DeviceRoom extends Room implements DeviceRoomApi {
  private registration: Registration | undefined;
  private link: Link | undefined;
  private lastSeen: number | undefined;
  private readonly sessions = new Map<string, Session>();

  constructor(...args: ConstructorParameters<typeof Room>) {
    super(...args);
    const storage = this.ctx.storage;
    this.registration = storage.get<Registration>('registration');
    this.link = storage.get<Link>('link');
    this.lastSeen = storage.get<number>('last_seen');
    for (const [key, session] of storage.list<Session>('session:')) this.sessions.set(key.slice(8), session);
  }

  private get deviceId(): string {
    return this.ctx.id.slice('device:'.length);
  }

  /** Online = a live link that has shown signs of life within the heartbeat timeout. */
  private online(now = this.services.clock.now()): boolean {
    return (
      this.link !== undefined && this.lastSeen !== undefined && now - this.lastSeen < this.services.config.heartbeatTimeoutMs
    );
  }

  register(registration: Registration): 'created' | 'exists' {
    if (this.registration) return 'exists';
    this.registration = registration;
    this.ctx.storage.put('registration', registration);
    return 'created';
  }

  unregister(): void {
    if (this.link) this.rooms.connection(this.link.conn).disconnect(Close.deviceRemoved, 'Device removed').catch(this.logFailure);
    this.endAllSessions('device_disconnected');
    this.registration = undefined;
    this.link = undefined;
    this.lastSeen = undefined;
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
      this.endAllSessions('device_disconnected');
      this.rooms.connection(previous.conn).disconnect(Close.replaced, 'Replaced by a newer connection').catch(this.logFailure);
      this.services.log.info('device connection replaced', { device: this.deviceId, old: previous.conn, conn });
    }
    const now = this.services.clock.now();
    this.link = { conn, since: now };
    this.lastSeen = now;
    this.ctx.storage.putMany({ link: this.link, last_seen: now });
    this.services.log.info('device online', { device: this.deviceId, conn });
    return { ok: true };
  }

  deviceGone(conn: string): void {
    if (this.link?.conn !== conn) return;
    this.link = undefined;
    this.ctx.storage.delete('link');
    this.endAllSessions('device_disconnected');
    this.services.log.info('device offline', { device: this.deviceId, conn });
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
  }

  async watch(viewer: string, user: string): Promise<WatchResult> {
    if (!this.registration) return { ok: false, reason: 'not_found' };
    const link = this.link;
    if (!link || !this.online()) return { ok: false, reason: 'offline' };
    if (this.sessions.size >= this.services.config.maxViewersPerDevice) return { ok: false, reason: 'too_many_viewers' };

    const sessionId = crypto.randomUUID();
    const short = sessionId.slice(0, 8);
    const nowS = Math.floor(this.services.clock.now() / 1000);
    const [viewerIce, deviceIce] = await Promise.all([
      iceServers(this.services.config, `viewer_${user}_${short}`, nowS),
      iceServers(this.services.config, `device_${short}`, nowS),
    ]);
    if (this.link !== link) return { ok: false, reason: 'offline' };

    const session: Session = { viewer, user, created: this.services.clock.now(), answered: false };
    this.sessions.set(sessionId, session);
    this.ctx.storage.put(`session:${sessionId}`, session);
    const request = frame('watch_request', { session_id: sessionId, user_id: user, ice_servers: deviceIce });
    const delivered = await this.rooms.connection(link.conn).deliver(request, { add: sessionId });
    if (!delivered) {
      // The link was stale (its socket died without a close): the device is offline after all.
      this.dropSession(sessionId);
      this.deviceGone(link.conn);
      return { ok: false, reason: 'offline' };
    }
    this.scheduleTimeouts();
    this.services.log.info('watch started', { device: this.deviceId, session: sessionId, user });
    return { ok: true, session_id: sessionId, ice_servers: viewerIce };
  }

  relayFromViewer(viewer: string, sessionId: string, message: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.viewer !== viewer || !this.link) return;
    const conn = this.link.conn;
    this.rooms
      .connection(conn)
      .deliver(message)
      .then((ok) => ok || this.deviceGone(conn), this.logFailure);
  }

  relayFromDevice(conn: string, sessionId: string, message: string, answered: boolean): void {
    const session = this.sessions.get(sessionId);
    if (!session || this.link?.conn !== conn) return;
    if (answered && !session.answered) {
      session.answered = true;
      this.ctx.storage.put(`session:${sessionId}`, session);
    }
    this.rooms
      .connection(session.viewer)
      .deliver(message)
      .then((ok) => ok || this.endSession(sessionId, 'viewer_disconnected'), this.logFailure);
  }

  endWatch(viewer: string, sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (!session || session.viewer !== viewer) return false;
    this.endSession(sessionId, 'user_ended', { notifyViewer: false });
    return true;
  }

  /** The device gave up on a session (say, the camera is busy): the viewer hears "error". */
  endFromDevice(conn: string, sessionId: string): boolean {
    if (this.link?.conn !== conn || !this.sessions.has(sessionId)) return false;
    this.endSession(sessionId, 'error', { notifyDevice: false });
    return true;
  }

  viewerGone(viewer: string, sessionIds: string[]): void {
    for (const id of sessionIds) {
      if (this.sessions.get(id)?.viewer === viewer) this.endSession(id, 'viewer_disconnected', { notifyViewer: false });
    }
  }

  override onAlarm(): void {
    const deadline = this.services.clock.now() - this.services.config.watchAnswerTimeoutMs;
    for (const [id, session] of this.sessions) {
      if (!session.answered && session.created <= deadline) this.endSession(id, 'timeout');
    }
    this.scheduleTimeouts();
  }

  /** One alarm covers every session still waiting for the device's answer. */
  private scheduleTimeouts(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const session of this.sessions.values()) if (!session.answered) next = Math.min(next, session.created);
    if (next === Number.POSITIVE_INFINITY) this.ctx.deleteAlarm();
    else this.ctx.setAlarm(next + this.services.config.watchAnswerTimeoutMs);
  }

  private endSession(
    sessionId: string,
    reason: WatchEndReason,
    opts: { notifyViewer?: boolean; notifyDevice?: boolean } = {},
  ): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.dropSession(sessionId);
    const ended = (extra: object) => frame('watch_ended', { session_id: sessionId, reason, ...extra });
    if (this.link && opts.notifyDevice !== false) {
      this.rooms.connection(this.link.conn).deliver(ended({}), { remove: sessionId }).catch(this.logFailure);
    }
    if (opts.notifyViewer !== false) {
      this.rooms
        .connection(session.viewer)
        .deliver(ended({ device_id: this.deviceId }), { remove: sessionId })
        .catch(this.logFailure);
    }
    this.services.log.info('watch ended', { device: this.deviceId, session: sessionId, reason });
  }

  private endAllSessions(reason: WatchEndReason): void {
    for (const id of [...this.sessions.keys()]) this.endSession(id, reason);
  }

  private dropSession(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.ctx.storage.delete(`session:${sessionId}`);
  }

  private get rooms() {
    return this.services.rooms;
  }

  private readonly logFailure = (error: unknown) => {
    this.services.log.error('call from device room failed', { device: this.deviceId, error: errorText(error) });
  };
}

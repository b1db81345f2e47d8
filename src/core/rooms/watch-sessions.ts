import type { WatchEndReason } from '../codes.ts';
import type { WatchResult } from '../contract.ts';
import { frame } from '../envelope/frame.ts';
import type { RoomContext } from '../ports.ts';
import { iceServers } from '../turn.ts';

/**
 * The watch sessions of one device room: who watches, the relay between the two parties, and how each
 * session ends. Sessions are stored, so a room rebuilt after eviction still knows them.
 */

interface Session {
  viewer: string;
  user: string;
  created: number;
  answered: boolean;
}

/** What sessions need of their device room. */
export interface SessionHost {
  readonly ctx: RoomContext;
  readonly deviceId: string;
  /** The connection room holding the device's socket, when online. */
  deviceLink(): string | undefined;
  /** The device's link turned out dead. */
  linkLost(conn: string): void;
  /** The room's one alarm is set to the earliest thing it waits for (`nextDue` here is one). */
  rearm(): void;
  logFailure(error: unknown): void;
}

export class WatchSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly host: SessionHost) {
    for (const [key, session] of host.ctx.storage.list<Session>('session:')) this.sessions.set(key.slice(8), session);
  }

  private get services() {
    return this.host.ctx.services;
  }

  async start(viewer: string, user: string): Promise<WatchResult> {
    const link = this.host.deviceLink();
    if (!link) return { ok: false, reason: 'offline' };
    if (this.sessions.size >= this.services.config.maxViewersPerDevice) return { ok: false, reason: 'too_many_viewers' };

    const sessionId = crypto.randomUUID();
    const short = sessionId.slice(0, 8);
    const nowS = Math.floor(this.services.clock.now() / 1000);
    const [viewerIce, deviceIce] = await Promise.all([
      iceServers(this.services.config, `viewer_${user}_${short}`, nowS),
      iceServers(this.services.config, `device_${short}`, nowS),
    ]);
    if (this.host.deviceLink() !== link) return { ok: false, reason: 'offline' };

    const session: Session = { viewer, user, created: this.services.clock.now(), answered: false };
    this.sessions.set(sessionId, session);
    this.host.ctx.storage.put(`session:${sessionId}`, session);
    const request = frame(this.services.clock, 'watch_request', { session_id: sessionId, user_id: user, ice_servers: deviceIce });
    const delivered = await this.services.rooms.connection(link).deliver(request, { add: { session: sessionId, peer: viewer } });
    if (!delivered) {
      // The link was stale (its socket died without a close): the device is offline after all.
      this.drop(sessionId);
      this.host.linkLost(link);
      return { ok: false, reason: 'offline' };
    }
    this.host.rearm();
    this.services.log.info('watch started', { device: this.host.deviceId, session: sessionId, user });
    return { ok: true, session_id: sessionId, ice_servers: viewerIce, link };
  }

  /** The device answered: the session no longer times out. */
  answered(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.answered) return;
    session.answered = true;
    this.host.ctx.storage.put(`session:${sessionId}`, session);
  }

  /**
   * A signal from `from` (the device's link or the session's viewer) found no socket with that session
   * on the other side. If the other side's socket is gone without a close (a crash, a restart), the
   * session ends now rather than at the next heartbeat timeout; if it is open, it only forgot the
   * session first (the session's end is already on its way) and nothing is done.
   */
  async signalLost(from: string, sessionId: string): Promise<void> {
    const session = this.sessions.get(sessionId);
    const link = this.host.deviceLink();
    if (!session || !link || (from !== link && from !== session.viewer)) return;
    const other = from === link ? session.viewer : link;
    if (await this.services.rooms.connection(other).alive()) return;
    if (other === session.viewer) this.end(sessionId, 'viewer_disconnected');
    else if (this.host.deviceLink() === link) this.host.linkLost(link);
  }

  endByViewer(viewer: string, sessionId: string): boolean {
    if (this.sessions.get(sessionId)?.viewer !== viewer) return false;
    this.end(sessionId, 'user_ended', { notifyViewer: false });
    return true;
  }

  /** The device gave up on a session (say, the camera is busy): the viewer hears "error", and why. */
  endByDevice(sessionId: string, message?: string): boolean {
    if (!this.sessions.has(sessionId)) return false;
    this.end(sessionId, 'error', { notifyDevice: false, message });
    return true;
  }

  viewerGone(viewer: string, sessionIds: string[]): void {
    for (const id of sessionIds) {
      if (this.sessions.get(id)?.viewer === viewer) this.end(id, 'viewer_disconnected', { notifyViewer: false });
    }
  }

  endAll(reason: WatchEndReason): void {
    for (const id of [...this.sessions.keys()]) this.end(id, reason);
  }

  /** Sessions the device has not answered within WATCH_ANSWER_TIMEOUT_S end with "timeout". */
  expire(): void {
    const deadline = this.services.clock.now() - this.services.config.watchAnswerTimeoutMs;
    for (const [id, session] of this.sessions) {
      if (!session.answered && session.created <= deadline) this.end(id, 'timeout');
    }
    this.host.rearm();
  }

  /** When the first session still waiting for the device's answer times out, if any is. */
  nextDue(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const session of this.sessions.values()) if (!session.answered) next = Math.min(next, session.created);
    return next === Number.POSITIVE_INFINITY ? undefined : next + this.services.config.watchAnswerTimeoutMs;
  }

  private end(
    sessionId: string,
    reason: WatchEndReason,
    opts: { notifyViewer?: boolean; notifyDevice?: boolean; message?: string } = {},
  ): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.drop(sessionId);
    const { rooms, log } = this.services;
    const link = this.host.deviceLink();
    if (link && opts.notifyDevice !== false) {
      const ended = frame(this.services.clock, 'watch_ended', { session_id: sessionId, reason });
      rooms.connection(link).deliver(ended, { remove: sessionId }).catch(this.host.logFailure);
    }
    if (opts.notifyViewer !== false) {
      const ended = frame(this.services.clock, 'watch_ended', {
        session_id: sessionId,
        reason,
        device_id: this.host.deviceId,
        ...(opts.message ? { message: opts.message } : {}),
      });
      rooms.connection(session.viewer).deliver(ended, { remove: sessionId }).catch(this.host.logFailure);
    }
    log.info('watch ended', { device: this.host.deviceId, session: sessionId, reason, detail: opts.message });
  }

  private drop(sessionId: string): void {
    this.sessions.delete(sessionId);
    this.host.ctx.storage.delete(`session:${sessionId}`);
  }
}

import {
  Command,
  type CommandType,
  carriesAny,
  decodeCommand,
  decodeStatus,
  encodeCommand,
  encodeSettings,
  encodeStatus,
  type Settings,
  type StatusResponse,
  settingsToChanges,
  stateToSettings,
} from '../camera/codec.ts';
import { Close } from '../codes.ts';
import type { Applied, DeviceStatus, Profile, Via } from '../contract.ts';
import { SocketLimits } from '../inbound.ts';
import type { ConnectInfo, Connection, Services } from '../ports.ts';
import { safeClose } from '../room.ts';
import type { State } from '../state/keys.ts';
import type { Actor } from '../state/model.ts';
import type { ChangeChannel } from './device/change-channel.ts';

/**
 * The binary protobuf channel (/ws/camera/, seeds 000 and 001) for the sockets of one device room.
 * The device (device key) gets ControlCommands and answers with StatusResponses; controllers (user
 * token) send ControlCommands and get StatusResponses: the device's replies, matched by request_id,
 * the server's own when the device cannot be reached, and the current settings on every change.
 * Every socket gets the current CameraSettings first, as seed 000's Pi client expects.
 */

export interface CameraSocketState {
  protocol: 'camera';
  role: 'device' | 'controller';
  user?: Profile;
}

/** What the channel needs of its device room. */
export interface CameraHost {
  readonly deviceId: string;
  readonly services: Services;
  state(): State;
  apply(actor: Actor, input: Record<string, unknown>, via: Via, requestId?: string): Applied;
  /** Forwards a command to the device on whichever channel it is on; false when it is offline. */
  command(command: CommandType, requestId: string): boolean;
  online(): boolean;
  /** The device connected or left on this channel (the room notes when it was last seen). */
  presenceChanged(): void;
}

/** How long a controller's command waits for the device's reply before it is forgotten. */
const REPLY_TIMEOUT_MS = 30_000;
/** The envelope protocol's bound on ids too: a request_id is a name, not a payload. */
const MAX_REQUEST_ID = 128;

interface Pending {
  conn: Connection;
  at: number;
}

export class CameraChannel implements ChangeChannel {
  private readonly limits: SocketLimits;
  /**
   * Replies the device owes controllers, by request_id, oldest first (a Map keeps insertion order, and
   * each entry is newer than the one before): expiry stops at the first entry still waiting. Memory
   * only: a reply after an eviction is dropped.
   */
  private readonly pending = new Map<string, Pending>();
  /** How many of them each controller is owed: both counts are bounded. */
  private readonly owed = new Map<string, number>();

  constructor(
    private readonly host: CameraHost,
    private readonly sockets: () => Iterable<Connection>,
  ) {
    this.limits = new SocketLimits(host.services.config);
  }

  device(): Connection | undefined {
    for (const conn of this.sockets()) if ((conn.state as CameraSocketState | null)?.role === 'device') return conn;
    return undefined;
  }

  connect(conn: Connection, info: ConnectInfo & { camera: NonNullable<ConnectInfo['camera']> }): void {
    const role = info.camera.role;
    if (role === 'device') {
      // One device socket per channel: the newer replaces the older, as on /ws/device.
      const previous = this.device();
      if (previous) safeClose(previous, Close.replaced, 'Replaced by a newer connection');
    }
    conn.setState({
      protocol: 'camera',
      role,
      ...(info.camera.user ? { user: info.camera.user } : {}),
    } satisfies CameraSocketState);
    conn.send(encodeSettings(stateToSettings(this.host.state())));
    const user = info.camera.user;
    if (user) {
      // The socket counts toward its user's MAX_SOCKETS_PER_USER and closes when their session ends.
      // (Its close, if it comes first, releases it after this call: calls to one room keep their order.)
      this.host.services.rooms
        .user(user.username)
        .openSocket(`${this.host.deviceId}/${conn.id}`, info.camera.gen ?? '')
        .then((opened) => {
          if (opened.ok) return;
          safeClose(
            conn,
            Close.policy,
            opened.reason === 'too_many_sockets' ? 'Too many open sockets for this user' : 'Invalid token',
          );
        })
        .catch((error) => this.host.services.log.error('counting a camera socket failed', { error: String(error) }));
    }
    if (role === 'device') {
      this.host.services.log.info('device online on /ws/camera', { device: this.host.deviceId, conn: conn.id });
      this.host.presenceChanged();
    }
  }

  close(conn: Connection): void {
    this.limits.forget(conn.id);
    // A reply to a closed socket has nowhere to go: its entries must not hold the device's bound.
    if (this.owed.has(conn.id)) for (const [id, entry] of this.pending) if (entry.conn.id === conn.id) this.forget(id, entry);
    if ((conn.state as CameraSocketState | null)?.role === 'device') {
      this.host.services.log.info('device offline on /ws/camera', { device: this.host.deviceId, conn: conn.id });
      this.host.presenceChanged();
    }
  }

  message(conn: Connection, data: string | ArrayBuffer): void {
    const now = this.host.services.clock.now();
    const verdict = this.limits.check(conn.id, data, now);
    if (!verdict.ok) {
      if (verdict.error) this.reply(conn, false, verdict.error);
      if (verdict.close) safeClose(conn, ...verdict.close);
      return;
    }
    if (typeof data === 'string') return this.reply(conn, false, 'Send binary protobuf frames on /ws/camera/');
    const bytes = new Uint8Array(data);
    const state = conn.state as CameraSocketState;
    if (state.role === 'device') return this.fromDevice(conn, bytes);
    this.fromController(conn, state, bytes);
  }

  /** A change from any protocol: UPDATE_SETTINGS to the device, the current settings to controllers. */
  publish(changes: State, _seq: number, actor: Actor, requestId?: string): void {
    const device = this.device();
    if (device && actor.kind !== 'device' && carriesAny(changes)) {
      device.send(
        encodeCommand({ command: Command.UPDATE_SETTINGS, settings: stateToSettings(changes), requestId: requestId ?? '' }),
      );
    }
    let update: Uint8Array | undefined;
    for (const conn of this.sockets()) {
      if ((conn.state as CameraSocketState | null)?.role !== 'controller') continue;
      update ??= encodeStatus(this.status(true, 'Settings changed', ''));
      conn.send(update);
    }
  }

  /** Commands for the device on this channel. */
  sendCommand(command: CommandType, requestId: string): boolean {
    const device = this.device();
    if (!device) return false;
    device.send(encodeCommand({ command, requestId }));
    return true;
  }

  /** A reply from the device, on either channel, for the controller that asked. */
  /** The device's report on /ws/device answers a command sent here (it carries the request_id). */
  reported(status: DeviceStatus, applied: Applied | null, state: State): void {
    if (!status.request_id) return;
    const success = status.success ?? applied?.ok !== false;
    this.deviceReplied({
      requestId: status.request_id,
      success,
      message: status.message ?? '',
      settings: stateToSettings(state),
    });
  }

  deviceReplied(reply: { requestId: string; success: boolean; message: string; settings?: Settings }): void {
    const waiting = this.pending.get(reply.requestId);
    if (!waiting) return;
    this.forget(reply.requestId, waiting);
    waiting.conn.send(
      encodeStatus({
        success: reply.success,
        message: reply.message,
        currentSettings: reply.settings ?? stateToSettings(this.host.state()),
        requestId: reply.requestId,
        timestamp: this.host.services.clock.now(),
      }),
    );
  }

  private fromDevice(conn: Connection, bytes: Uint8Array): void {
    const decoded = decodeStatus(bytes);
    if (!decoded.ok) return this.reply(conn, false, `Undecodable StatusResponse: ${decoded.error}`);
    const status = decoded.message;
    if (status.currentSettings) {
      const changes = settingsToChanges(status.currentSettings, this.host.state());
      const applied = this.host.apply({ kind: 'device' }, changes, 'device');
      if (!applied.ok) {
        const e = applied.error;
        return this.reply(conn, false, `${e.error}: ${e.key}${'message' in e ? ` (${e.message})` : ''}`, status.requestId);
      }
    }
    if (status.requestId) {
      this.deviceReplied({
        requestId: status.requestId,
        success: status.success,
        message: status.message,
        settings: status.currentSettings,
      });
    }
  }

  private fromController(conn: Connection, state: CameraSocketState, bytes: Uint8Array): void {
    const decoded = decodeCommand(bytes);
    if (!decoded.ok) return this.reply(conn, false, `Undecodable ControlCommand: ${decoded.error}`);
    const { command, settings, requestId } = decoded.message;
    const user = state.user as Profile;
    if (user.role === 'viewer') return this.reply(conn, false, 'Permission denied: viewers cannot control the camera', requestId);
    if (requestId.length > MAX_REQUEST_ID) {
      return this.reply(conn, false, `request_id is too long (at most ${MAX_REQUEST_ID} characters)`);
    }
    this.expire();
    const busy = this.busy(conn);
    if (busy) return this.reply(conn, false, busy, requestId);
    const id = requestId || crypto.randomUUID();
    if (command === Command.UPDATE_SETTINGS) {
      const changes = settingsToChanges(settings ?? {}, this.host.state());
      const actor: Actor = { kind: 'user', username: user.username, role: user.role };
      // Remember who asked before the change goes out, so the device's reply finds them.
      this.remember(id, conn);
      const applied = this.host.apply(actor, changes, 'camera', id);
      if (!applied.ok) {
        this.forget(id);
        const e = applied.error;
        return this.reply(conn, false, `${e.error}: ${e.key}${'message' in e ? ` (${e.message})` : ''}`, requestId);
      }
      if (!this.host.online()) {
        this.forget(id);
        this.reply(conn, false, 'Device is offline: the settings are saved and reach it when it connects', requestId);
      }
      return;
    }
    this.remember(id, conn);
    if (!this.host.command(command, id)) {
      this.forget(id);
      this.reply(conn, false, 'Device is offline', requestId);
    }
  }

  /** Why this controller may not send another command now, or undefined. */
  private busy(conn: Connection): string | undefined {
    const { cameraPendingPerController, cameraPendingPerDevice } = this.host.services.config;
    if ((this.owed.get(conn.id) ?? 0) >= cameraPendingPerController) {
      return `Too many commands waiting for the device's reply on this socket (at most ${cameraPendingPerController}); wait for replies`;
    }
    if (this.pending.size >= cameraPendingPerDevice) {
      return `Too many commands waiting for this device's reply (at most ${cameraPendingPerDevice}); try again shortly`;
    }
    return undefined;
  }

  private remember(id: string, conn: Connection): void {
    // A reused id replaces the entry it names (and moves to the end: it is now the newest).
    this.forget(id);
    this.pending.set(id, { conn, at: this.host.services.clock.now() });
    this.owed.set(conn.id, (this.owed.get(conn.id) ?? 0) + 1);
  }

  private forget(id: string, entry = this.pending.get(id)): void {
    if (!entry || !this.pending.delete(id)) return;
    const count = (this.owed.get(entry.conn.id) ?? 0) - 1;
    if (count > 0) this.owed.set(entry.conn.id, count);
    else this.owed.delete(entry.conn.id);
  }

  /** Drops replies no longer awaited: the oldest first, stopping at the first one still in time. */
  private expire(): void {
    const before = this.host.services.clock.now() - REPLY_TIMEOUT_MS;
    for (const [id, entry] of this.pending) {
      if (entry.at >= before) return;
      this.forget(id, entry);
    }
  }

  private status(success: boolean, message: string, requestId: string): StatusResponse {
    return {
      success,
      message,
      currentSettings: stateToSettings(this.host.state()),
      requestId,
      timestamp: this.host.services.clock.now(),
    };
  }

  private reply(conn: Connection, success: boolean, message: string, requestId = ''): void {
    conn.send(encodeStatus(this.status(success, message, requestId)));
  }
}

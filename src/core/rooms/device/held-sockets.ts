import type { CommandType } from '../../camera/codec.ts';
import type { Applied, ChangeSource, Profile } from '../../contract.ts';
import type { ConnectInfo, Connection, RoomContext } from '../../ports.ts';
import { safeClose } from '../../room.ts';
import type { Actor } from '../../state/model.ts';
import type { StateStore } from '../../state/store.ts';
import { ApiV1, type StateHost } from '../api-v1.ts';
import { CameraChannel, type CameraHost } from '../camera-channel.ts';
import type { ApplyOptions } from './changes.ts';

/**
 * The sockets a device room holds itself, unlike the /ws/device and /ws/viewer ones (each in its own
 * connection room): /api/v1 clients and /ws/camera/ sockets. Each is handed to its protocol's channel
 * by the `protocol` its state names.
 */
export class HeldSockets {
  readonly apiV1: ApiV1;
  readonly camera: CameraChannel;

  private readonly logFailure: (error: unknown) => void;

  constructor(
    private readonly ctx: RoomContext,
    room: HolderRoom,
    store: StateStore,
    link: { command(command: CommandType, requestId: string): boolean },
  ) {
    this.logFailure = room.logFailure;
    const host: StateHost & CameraHost = {
      deviceId: room.deviceId,
      services: ctx.services,
      state: () => store.state,
      catchUp: (since) => store.since(since),
      apply: (actor, input, via, requestId?: string) => room.applyChanges(actor, input, { via }, { requestId }) ?? UNREGISTERED,
      // On whichever channel the device is: here, or its /ws/device link.
      command: (command, requestId): boolean => this.camera.sendCommand(command, requestId) || link.command(command, requestId),
      online: () => room.online(),
      presenceChanged: () => room.presenceChanged(),
    };
    this.apiV1 = new ApiV1(host, () => this.of('api-v1'));
    this.camera = new CameraChannel(host, () => this.of('camera'));
  }

  connect(conn: Connection, info: ConnectInfo): void {
    if (info.camera) this.camera.connect(conn, { ...info, camera: info.camera });
    else this.apiV1.connect(conn, info);
  }

  message(conn: Connection, data: string | ArrayBuffer): void {
    if (protocolOf(conn) === 'camera') this.camera.message(conn, data);
    else this.apiV1.message(conn, data);
  }

  close(conn: Connection, deviceId: string): void {
    if (protocolOf(conn) === 'camera') this.camera.close(conn);
    else this.apiV1.close(conn);
    // It no longer counts toward its user's MAX_SOCKETS_PER_USER.
    const user = (conn.state as { user?: Profile | null } | null)?.user;
    if (user) this.ctx.services.rooms.user(user.username).closeSocket(`${deviceId}/${conn.id}`).catch(this.logFailure);
  }

  /** A user's session ended (they were changed or removed): their socket here goes. */
  closeOne(connId: string, code: number, reason: string): void {
    for (const conn of this.ctx.connections()) if (conn.id === connId) safeClose(conn, code, reason);
  }

  has(connId: string): boolean {
    for (const conn of this.ctx.connections()) if (conn.id === connId) return true;
    return false;
  }

  private *of(protocol: 'api-v1' | 'camera'): Iterable<Connection> {
    for (const conn of this.ctx.connections()) if (protocolOf(conn) === protocol) yield conn;
  }
}

/** What the held sockets need of their device room. */
export interface HolderRoom {
  readonly deviceId: string;
  readonly logFailure: (error: unknown) => void;
  applyChanges(actor: Actor, input: Record<string, unknown>, source: ChangeSource, options?: ApplyOptions): Applied | null;
  online(): boolean;
  /** The device connected or left on /ws/camera/. */
  presenceChanged(): void;
}

/** What the protocols answer when the device was removed while they held a socket to it. */
const UNREGISTERED: Applied = { ok: false, error: { error: 'Unknown key', key: '' } };

function protocolOf(conn: Connection): string | undefined {
  return (conn.state as { protocol?: string } | null)?.protocol;
}

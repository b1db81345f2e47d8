import { type CommandType, commandNames } from '../../camera/codec.ts';
import { Close } from '../../codes.ts';
import { frame } from '../../envelope/frame.ts';
import type { RoomContext } from '../../ports.ts';
import type { State } from '../../state/keys.ts';
import type { Actor } from '../../state/model.ts';
import type { ChangeChannel } from './change-channel.ts';
import type { PresenceLease } from './presence-lease.ts';

/**
 * The device's /ws/device socket, as its device room knows it: which connection room holds it (the
 * link, stored), whether it is alive (the presence lease), and what is sent to it: every change made
 * by someone else as `settings`, commands, triggers.
 */

interface Link {
  conn: string;
  since: number;
}

/** A link not heard from for this long is asked whether its socket is still open before "online". */
const CHECK_AFTER_MS = 1_000;

export class DeviceLink implements ChangeChannel {
  private link: Link | undefined;
  /**
   * Whether this room has itself seen the link alive (its hello, a touch, a check). A room rebuilt
   * after a restart has not: the link it read from storage may have died with the old host, however
   * recently it was heard from, so the first look at it asks.
   */
  private seen = false;

  constructor(
    private readonly ctx: RoomContext,
    private readonly lease: PresenceLease,
    private readonly logFailure: (error: unknown) => void,
  ) {
    this.link = ctx.storage.get<Link>('link');
  }

  /** The connection room of the device's live socket, while its lease holds. */
  conn(): string | undefined {
    return this.link && this.lease.held() ? this.link.conn : undefined;
  }

  is(conn: string): boolean {
    return this.link?.conn === conn;
  }

  /** A hello on `conn`: it becomes the link; a link it replaces is closed (4000). True if it replaced one. */
  open(conn: string): boolean {
    const previous = this.link;
    const replaced = previous !== undefined && previous.conn !== conn;
    if (replaced)
      this.rooms.connection(previous.conn).disconnect(Close.replaced, 'Replaced by a newer connection').catch(this.logFailure);
    this.link = { conn, since: this.ctx.services.clock.now() };
    this.ctx.storage.put('link', this.link);
    this.lease.renew();
    this.seen = true;
    return replaced;
  }

  /** The link's socket closed (or was found dead); false if `conn` was not the link. */
  close(conn: string): boolean {
    if (!this.is(conn)) return false;
    this.link = undefined;
    this.ctx.storage.delete('link');
    return true;
  }

  /** The device was removed: its socket is closed (4001). */
  remove(): void {
    if (this.link) this.rooms.connection(this.link.conn).disconnect(Close.deviceRemoved, 'Device removed').catch(this.logFailure);
    this.link = undefined;
  }

  /** A sign of life on `conn`: renews the lease; false if `conn` is not the link. */
  touch(conn: string): boolean {
    if (!this.is(conn)) return false;
    this.lease.renew();
    this.seen = true;
    return true;
  }

  /**
   * A link not heard from for a second, or not yet seen by this room, may have died with its host (a
   * crash, a workerd restart) without any close event: before saying "online", ask its connection room
   * if its socket is open. Resolves with the link that turned out dead, if any.
   */
  async dead(): Promise<string | undefined> {
    const conn = this.conn();
    if (!conn || (this.seen && this.lease.silentFor() < CHECK_AFTER_MS)) return undefined;
    const alive = await this.rooms.connection(conn).alive();
    if (alive) this.seen = true;
    return !alive && this.is(conn) ? conn : undefined;
  }

  send(message: string): boolean {
    const conn = this.conn();
    if (conn) this.rooms.connection(conn).deliver(message).catch(this.logFailure);
    return conn !== undefined;
  }

  /** A change from anyone but the device reaches it as `settings`; its own report needs no echo. */
  publish(changes: State, seq: number, actor: Actor, requestId?: string): void {
    if (actor.kind === 'device') return;
    this.send(
      frame(this.ctx.services.clock, 'settings', { settings: changes, seq, ...(requestId ? { request_id: requestId } : {}) }),
    );
  }

  command(command: CommandType, requestId: string): boolean {
    return this.send(frame(this.ctx.services.clock, 'command', { command: commandNames[command], request_id: requestId }));
  }

  trigger(name: string): void {
    this.send(frame(this.ctx.services.clock, 'command', { command: name, request_id: crypto.randomUUID() }));
  }

  private get rooms() {
    return this.ctx.services.rooms;
  }
}

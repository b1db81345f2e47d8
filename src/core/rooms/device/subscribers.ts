import type { CatchUp, ConnectionRoomApi } from '../../contract.ts';
import { stateFrame } from '../../envelope/frame.ts';
import type { Remote, RoomContext } from '../../ports.ts';
import type { State } from '../../state/keys.ts';
import type { ChangeChannel } from './change-channel.ts';

/**
 * The /ws/viewer sockets that follow a device (`subscribe`, or a watch): by connection room, stored,
 * with the stub each broadcast calls. Kept here: looked up per broadcast, the stubs came from a cache
 * of the 1,024 rooms of each kind used last, which more subscribers than that missed on every change
 * (a new stub and a lookup by id each, per subscriber).
 */
export class Subscribers implements ChangeChannel {
  private readonly targets: Map<string, Remote<ConnectionRoomApi>>;

  constructor(
    private readonly ctx: RoomContext,
    private readonly deviceId: string,
    private readonly logFailure: (error: unknown) => void,
  ) {
    const conns = [...ctx.storage.list('sub:').keys()].map((key) => key.slice(4));
    this.targets = new Map(conns.map((conn) => [conn, ctx.services.rooms.connection(conn)] as const));
  }

  /**
   * `conn` follows the device from now: it gets what it missed since `since` (or a snapshot) and the
   * device's status, delivered from here rather than returned so they can never overtake a later
   * broadcast.
   */
  add(conn: string, catchUp: CatchUp, status: string): void {
    let target = this.targets.get(conn);
    if (!target) {
      target = this.ctx.services.rooms.connection(conn);
      this.targets.set(conn, target);
      this.ctx.storage.put(`sub:${conn}`, 1);
    }
    if (catchUp.snapshot) {
      target.deliver(stateFrame(this.ctx.services.clock, this.deviceId, catchUp.state, catchUp.seq, true)).catch(this.logFailure);
    } else {
      for (const entry of catchUp.changes)
        target
          .deliver(stateFrame(this.ctx.services.clock, this.deviceId, entry.changes, entry.seq, false))
          .catch(this.logFailure);
    }
    target.deliver(status).catch(this.logFailure);
  }

  remove(conn: string): void {
    if (this.targets.delete(conn)) this.ctx.storage.delete(`sub:${conn}`);
  }

  /** Forgets them all (the device was removed); storage goes with the room's. */
  clear(): void {
    this.targets.clear();
  }

  /** A change, rendered once, to every subscriber; one whose socket is gone is dropped. */
  publish(changes: State, seq: number): void {
    const message = stateFrame(this.ctx.services.clock, this.deviceId, changes, seq, false);
    for (const [conn, target] of this.targets) {
      target.deliverState(message, this.deviceId, changes, seq).then((ok) => ok || this.remove(conn), this.logFailure);
    }
  }

  /** Anything else for all of them (a `device_status`). */
  send(message: string): void {
    for (const [conn, target] of this.targets) target.deliver(message).then((ok) => ok || this.remove(conn), this.logFailure);
  }
}

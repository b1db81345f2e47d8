import { hashPassword, verifyPassword } from '../auth/password.ts';
import { Close } from '../codes.ts';
import type { OpenSocketResult, Profile, Session, SocketRef, UserChange, UserRoomApi } from '../contract.ts';
import { randomToken } from '../crypto.ts';
import { Room } from '../room.ts';

/**
 * One user: credentials, role, device allow-list, and every socket they hold on any endpoint. Per
 * user, not global, so a hello (which checks the user still exists and counts their sockets) never
 * queues behind others.
 *
 * Sessions end with the record they were opened under: every token carries the record's generation
 * (`gen`), which changes whenever the user is changed (role, allow-list, password) and is new for a
 * user created again under an old name. A token of another generation is refused, and the change
 * closes the user's open sockets.
 */

interface UserRecord extends Profile {
  password: string;
  created_at: string;
  /** Absent in records written before generations existed: their tokens carry none either. */
  gen?: string;
}

const UNCONFIRMED = { allowUnconfirmed: true };
const ENDED = 'Session ended: this user was changed or removed; log in again';

export class UserRoom extends Room implements UserRoomApi {
  /**
   * Open sockets are stored (`socket:<ref>`), so the count survives this room's eviction on Workers;
   * the set is read from storage once per load, not per hello. Entries a crash left behind are found
   * only when the cap is reached, by asking each socket's room whether it is still open. The rows are
   * written unconfirmed (batched): a crash that loses one also closed its socket.
   */
  private open: Set<SocketRef> | undefined;
  /** The stored record, read once per load: this room is the only writer of its storage. */
  private cached: UserRecord | null | undefined;

  private sockets(): Set<SocketRef> {
    this.open ??= new Set([...this.ctx.storage.list('socket:').keys()].map((key) => key.slice('socket:'.length)));
    return this.open;
  }

  private record(): UserRecord | undefined {
    this.cached ??= this.ctx.storage.get<UserRecord>('user') ?? null;
    return this.cached ?? undefined;
  }

  private save(record: UserRecord): void {
    this.ctx.storage.put('user', record);
    this.cached = record;
  }

  async create(profile: Profile, password: string): Promise<'created' | 'exists'> {
    if (this.record()) return 'exists';
    const hash = await hashPassword(password, this.services.config.passwordIterations);
    // Check again: another create may have finished while we were hashing.
    if (this.record()) return 'exists';
    this.save({ ...profile, password: hash, created_at: new Date(this.services.clock.now()).toISOString(), gen: randomToken(9) });
    return 'created';
  }

  async update(change: UserChange): Promise<Profile | null> {
    const hash =
      change.password === undefined ? undefined : await hashPassword(change.password, this.services.config.passwordIterations);
    const record = this.record();
    if (!record) return null;
    this.save({
      ...record,
      ...(change.role ? { role: change.role } : {}),
      ...(change.devices !== undefined ? { devices: change.devices } : {}),
      ...(hash ? { password: hash } : {}),
      gen: randomToken(9),
    });
    await this.endSessions();
    return this.profile();
  }

  async remove(): Promise<void> {
    this.cached = null;
    await this.endSessions();
    this.open = undefined;
    this.ctx.storage.deleteAll();
  }

  profile(): Profile | null {
    const record = this.record();
    return record ? { username: record.username, role: record.role, devices: record.devices } : null;
  }

  session(gen: string): Profile | null {
    return this.record() && (this.record()?.gen ?? '') === gen ? this.profile() : null;
  }

  async verify(password: string): Promise<Session | null> {
    const record = this.record();
    // An unknown user costs the same hash as a known one, so timing does not reveal who exists.
    const stored = record?.password ?? dummyHash(this.services.config.passwordIterations);
    const ok = await verifyPassword(password, stored);
    const now = this.record();
    // The record may have changed while we hashed: the session is of the one the password matched.
    return ok && now && now === record ? { ...(this.profile() as Profile), gen: now.gen ?? '' } : null;
  }

  async openSocket(ref: SocketRef, gen: string | null): Promise<OpenSocketResult> {
    const profile = gen === null ? this.profile() : this.session(gen);
    if (!profile) return { ok: false, reason: 'unknown_user' };
    const max = this.services.config.maxSocketsPerUser;
    if (this.sockets().size >= max) {
      const known = [...this.sockets()];
      const alive = await Promise.all(known.map((socket) => this.isOpen(socket)));
      for (const [i, socket] of known.entries()) {
        if (alive[i]) continue;
        this.sockets().delete(socket);
        this.ctx.storage.delete(`socket:${socket}`, UNCONFIRMED);
      }
      if (this.sockets().size >= max) return { ok: false, reason: 'too_many_sockets' };
    }
    // The user may have been changed or removed while the sockets were asked.
    if ((gen === null ? this.profile() : this.session(gen)) === null) return { ok: false, reason: 'unknown_user' };
    this.sockets().add(ref);
    this.ctx.storage.put(`socket:${ref}`, 1, UNCONFIRMED);
    return { ok: true, profile };
  }

  closeSocket(ref: SocketRef): void {
    this.sockets().delete(ref);
    this.ctx.storage.delete(`socket:${ref}`, UNCONFIRMED);
  }

  /** Closes every socket the user holds (1008): they were opened by a user who is no more. */
  private async endSessions(): Promise<void> {
    const sockets = [...this.sockets()];
    for (const socket of sockets) this.closeSocket(socket);
    if (sockets.length > 0) this.services.log.info('ending sessions', { user: this.ctx.id.slice(5), sockets: sockets.length });
    await Promise.all(
      sockets.map((socket) => {
        const [room, id] = split(socket);
        const closed =
          id === undefined
            ? this.services.rooms.connection(room).disconnect(Close.policy, ENDED)
            : this.services.rooms.device(room).closeSocket(id, Close.policy, ENDED);
        return closed.catch(() => {});
      }),
    );
  }

  private isOpen(socket: SocketRef): Promise<boolean> {
    const [room, id] = split(socket);
    return id === undefined ? this.services.rooms.connection(room).alive() : this.services.rooms.device(room).socketOpen(id);
  }
}

function split(socket: SocketRef): [string, string | undefined] {
  const slash = socket.indexOf('/');
  return slash < 0 ? [socket, undefined] : [socket.slice(0, slash), socket.slice(slash + 1)];
}

function dummyHash(iterations: number): string {
  return `pbkdf2-sha256-chain$${iterations}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
}

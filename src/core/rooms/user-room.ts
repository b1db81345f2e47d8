import { hashPassword, verifyPassword } from '../auth/password.ts';
import type { Role } from '../auth/tokens.ts';
import { Room } from '../room.ts';

/**
 * One user: credentials, role, device allow-list and open sockets. Per user, not global, so a viewer
 * hello (which checks the user still exists and counts their sockets) never queues behind others.
 */

export interface Profile {
  username: string;
  role: Role;
  /** Device ids this user may access; null = all devices. */
  devices: string[] | null;
}

interface UserRecord extends Profile {
  password: string;
  created_at: string;
}

export type OpenSocketResult = { ok: true; profile: Profile } | { ok: false; reason: 'unknown_user' | 'too_many_sockets' };

export interface UserRoomApi {
  create(profile: Profile, password: string): Promise<'created' | 'exists'>;
  setPassword(password: string): Promise<boolean>;
  remove(): void;
  profile(): Profile | null;
  verify(password: string): Promise<Profile | null>;
  openSocket(connId: string): Promise<OpenSocketResult>;
  closeSocket(connId: string): void;
}

const UNCONFIRMED = { allowUnconfirmed: true };

export class UserRoom extends Room implements UserRoomApi {
  /**
   * Open sockets are stored (`socket:<connection>`), so the count survives this room's eviction on
   * Workers; the set is read from storage once per load, not per hello. Entries a crash left behind are
   * found only when the cap is reached, by asking each connection room whether its socket is still open.
   * The rows are written unconfirmed (batched): a crash that loses one also closed its socket.
   */
  private open: Set<string> | undefined;
  /** The stored record, read once per load: this room is the only writer of its storage. */
  private cached: UserRecord | null | undefined;

  private sockets(): Set<string> {
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
    this.save({ ...profile, password: hash, created_at: new Date().toISOString() });
    return 'created';
  }

  async setPassword(password: string): Promise<boolean> {
    const hash = await hashPassword(password, this.services.config.passwordIterations);
    const record = this.record();
    if (!record) return false;
    this.save({ ...record, password: hash });
    return true;
  }

  remove(): void {
    this.open = undefined;
    this.cached = null;
    this.ctx.storage.deleteAll();
  }

  profile(): Profile | null {
    const record = this.record();
    return record ? { username: record.username, role: record.role, devices: record.devices } : null;
  }

  async verify(password: string): Promise<Profile | null> {
    const record = this.record();
    // An unknown user costs the same hash as a known one, so timing does not reveal who exists.
    const stored = record?.password ?? dummyHash(this.services.config.passwordIterations);
    const ok = await verifyPassword(password, stored);
    return ok && record ? this.profile() : null;
  }

  async openSocket(connId: string): Promise<OpenSocketResult> {
    const profile = this.profile();
    if (!profile) return { ok: false, reason: 'unknown_user' };
    const max = this.services.config.maxSocketsPerUser;
    if (this.sockets().size >= max) {
      const known = [...this.sockets()];
      const alive = await Promise.all(known.map((conn) => this.services.rooms.connection(conn).alive()));
      for (const [i, conn] of known.entries()) {
        if (alive[i]) continue;
        this.sockets().delete(conn);
        this.ctx.storage.delete(`socket:${conn}`, UNCONFIRMED);
      }
      if (this.sockets().size >= max) return { ok: false, reason: 'too_many_sockets' };
    }
    this.sockets().add(connId);
    this.ctx.storage.put(`socket:${connId}`, 1, UNCONFIRMED);
    return { ok: true, profile };
  }

  closeSocket(connId: string): void {
    this.sockets().delete(connId);
    this.ctx.storage.delete(`socket:${connId}`, UNCONFIRMED);
  }
}

function dummyHash(iterations: number): string {
  return `pbkdf2-sha256-chain$${iterations}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
}

import type { DeviceEntry, DirectoryApi, UserEntry } from '../contract.ts';
import { randomToken } from '../crypto.ts';
import { Room } from '../room.ts';

/**
 * The index of devices and users, for listings and the first-start admin. It is never on the hot
 * path: hellos, relays and broadcasts go to device, user and connection rooms directly.
 */

export class DirectoryRoom extends Room implements DirectoryApi {
  private bootstrapping: Promise<void> | undefined;
  /** Once per load: with ADMIN_PASSWORD set a bootstrap re-hashes it, too costly for every login. */
  private bootstrapped = false;

  /**
   * With no users, creates the admin: with ADMIN_PASSWORD, or with a random password printed once.
   * With ADMIN_PASSWORD set, also (re)sets that admin's password on every start: the way back in.
   */
  bootstrap(): Promise<void> {
    if (this.bootstrapped) return Promise.resolve();
    this.bootstrapping ??= this.runBootstrap().then(
      () => {
        this.bootstrapped = true;
        this.bootstrapping = undefined;
      },
      (error) => {
        this.bootstrapping = undefined;
        throw error;
      },
    );
    return this.bootstrapping;
  }

  private async runBootstrap(): Promise<void> {
    const { config, log, rooms } = this.services;
    const username = config.adminUsername;
    const user = rooms.user(username);
    if (this.listUsers().length === 0) {
      const password = config.adminPassword ?? randomToken(12);
      await user.create({ username, role: 'admin', devices: null }, password);
      this.addUser({ username, role: 'admin', devices: null });
      if (config.adminPassword) log.info('created admin user from ADMIN_PASSWORD', { username });
      else {
        log.warn('created admin user with a generated password; it is shown only this once', { username, password });
        log.warn('change it by setting ADMIN_PASSWORD, or create your own admin and delete this one');
      }
    } else if (config.adminPassword && this.ctx.storage.get(`user:${username}`)) {
      // Only a changed password is a change: resetting it to itself would end that admin's sessions.
      if (!(await user.verify(config.adminPassword))) await user.update({ password: config.adminPassword });
    }
  }

  addDevice(entry: DeviceEntry): boolean {
    return this.add(`device:${entry.device_id}`, entry);
  }

  removeDevice(id: string): boolean {
    return this.remove(`device:${id}`);
  }

  listDevices(): DeviceEntry[] {
    return [...this.ctx.storage.list<DeviceEntry>('device:').values()];
  }

  addUser(entry: UserEntry): boolean {
    return this.add(`user:${entry.username}`, entry);
  }

  updateUser(entry: UserEntry): boolean {
    if (!this.ctx.storage.get(`user:${entry.username}`)) return false;
    this.ctx.storage.put(`user:${entry.username}`, entry);
    return true;
  }

  removeUser(username: string): boolean {
    return this.remove(`user:${username}`);
  }

  listUsers(): UserEntry[] {
    return [...this.ctx.storage.list<UserEntry>('user:').values()];
  }

  private add(key: string, entry: object): boolean {
    if (this.ctx.storage.get(key)) return false;
    this.ctx.storage.put(key, entry);
    return true;
  }

  private remove(key: string): boolean {
    if (!this.ctx.storage.get(key)) return false;
    this.ctx.storage.delete(key);
    return true;
  }
}

import { verifyDeviceKey } from '../../auth/device-key.ts';
import type { Registration } from '../../contract.ts';
import type { RoomContext } from '../../ports.ts';

/** The device's registration (its name and key hash), stored; absent once the device is removed. */
export class RegistrationRecord {
  current: Registration | undefined;

  constructor(private readonly ctx: RoomContext) {
    this.current = ctx.storage.get<Registration>('registration');
  }

  create(registration: Registration): 'created' | 'exists' {
    if (this.current) return 'exists';
    this.current = registration;
    this.ctx.storage.put('registration', registration);
    return 'created';
  }

  /** Storage goes with the room's own `deleteAll`. */
  forget(): void {
    this.current = undefined;
  }

  async check(key: string): Promise<'ok' | 'not_found' | 'bad_key'> {
    const stored = this.current;
    if (!stored) return 'not_found';
    const valid = await verifyDeviceKey(key, stored.key);
    // Again after the await: the device may have been removed or re-registered meanwhile.
    if (this.current !== stored) return 'not_found';
    return valid ? 'ok' : 'bad_key';
  }
}

import type { Profile } from '../contract.ts';

/**
 * Whether a user may see a device at all. A device outside a user's allow-list is "not found" to
 * them on every endpoint, exactly like one that does not exist, whether it is online or not.
 */
export function mayAccess(profile: Profile, deviceId: string): boolean {
  return profile.devices === null || profile.devices.includes(deviceId);
}

import type { CameraState, StateEvent } from './types.ts';

/**
 * The merged state and last seq per device. A `state` message is applied only if its seq is newer than
 * the one held: a state_get answer can cross a broadcast, and a stale answer must not undo a change.
 */

interface Held {
  state: CameraState;
  seq: number;
  /**
   * Set when we re-subscribed with `since` after a reconnect: the next message is the catch-up, and a
   * snapshot with an older seq then means the server lost its history (restored from a backup), so it
   * wins instead of being ignored.
   */
  catchingUp: boolean;
}

export class StateCache {
  private readonly devices = new Map<string, Held>();

  get(deviceId: string): { state: CameraState; seq: number } | undefined {
    const held = this.devices.get(deviceId);
    return held ? { state: { ...held.state }, seq: held.seq } : undefined;
  }

  seq(deviceId: string): number | undefined {
    return this.devices.get(deviceId)?.seq;
  }

  markCatchingUp(deviceId: string): void {
    const held = this.devices.get(deviceId);
    if (held) held.catchingUp = true;
  }

  forget(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  /** A snapshot replaces; changes merge. Returns the event to emit, or undefined when ignored. */
  apply(deviceId: string, seq: number, snapshot: boolean, values: CameraState, fromBroadcast: boolean): StateEvent | undefined {
    const held = this.devices.get(deviceId);
    const serverReset = held?.catchingUp === true && fromBroadcast && snapshot && seq < held.seq;
    if (held && fromBroadcast) held.catchingUp = false;
    if (held && seq <= held.seq && !serverReset) return undefined;
    // Changes without a base to merge into would be a partial state posing as the whole: wait for a snapshot.
    if (!held && !snapshot) return undefined;
    const state = snapshot ? { ...values } : { ...held?.state, ...values };
    this.devices.set(deviceId, { state, seq, catchingUp: false });
    return { device_id: deviceId, state: { ...state }, changed: Object.keys(values), seq, snapshot };
  }
}

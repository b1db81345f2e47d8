import type { State } from '../../state/keys.ts';
import type { Actor } from '../../state/model.ts';

/**
 * One way a device's changes leave its room: the /api/v1 sockets, the envelope subscribers, the
 * device's own link, the camera channel. Each renders a change its own way, once, and sends it to its
 * own sockets or rooms; the device room publishes a change by handing it to each channel in turn.
 */
export interface ChangeChannel {
  /** `requestId`: the command a controller sent this change with, for the device's reply to find it. */
  publish(changes: State, seq: number, actor: Actor, requestId?: string): void;
}

import type { Clock } from '../clock.ts';
import type { ErrorCode } from '../codes.ts';
import type { State } from '../state/keys.ts';

/**
 * Outgoing envelope frames, serialised once. Server messages always carry `ts` and echo `request_id`.
 */

export function frame(clock: Clock, type: string, payload: unknown, requestId?: string): string {
  const ts = timestamp(clock.now());
  return requestId === undefined
    ? `{"type":"${type}","ts":"${ts}","payload":${JSON.stringify(payload)}}`
    : `{"type":"${type}","request_id":${JSON.stringify(requestId)},"ts":"${ts}","payload":${JSON.stringify(payload)}}`;
}

export function errorFrame(clock: Clock, code: ErrorCode, message: string, requestId?: string, extra?: object): string {
  return frame(clock, 'error', { message, code, ...extra }, requestId);
}

/** A device's state to a viewer: every key (`snapshot`), or the keys of one change. */
export function stateFrame(
  clock: Clock,
  deviceId: string,
  state: State,
  seq: number,
  snapshot: boolean,
  requestId?: string,
): string {
  return frame(clock, 'state', { device_id: deviceId, seq, snapshot, state }, requestId);
}

let stampedAt = Number.NaN;
let stamp = '';

/** `ts` has millisecond precision: formatted once per millisecond, not once per frame (relays send 100k/s). */
function timestamp(now: number): string {
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

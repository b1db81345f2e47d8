import type { Via } from '../contract.ts';

/**
 * What this process has counted since it started, for GET /metrics. Every label has a fixed set of
 * values known here, so counting is an integer add on a field, never a lookup by an open-ended key.
 * On Workers each isolate and Durable Object has its own (docs/operations.md says what is served).
 */

export const ENDPOINTS = ['device', 'viewer', 'api_v1', 'camera'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const VIAS = ['http', 'api_v1', 'viewer', 'camera', 'device', 'preset', 'schedule'] as const satisfies readonly Via[];

export const SCHEDULE_RESULTS = ['ok', 'failed'] as const;
export type ScheduleResult = (typeof SCHEDULE_RESULTS)[number];

export const ROOM_KINDS = ['device', 'connection', 'user', 'limiter', 'directory', 'registry', 'presets', 'schedules'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

/** Close codes counted by number: the protocol's and ours. Any other is counted as `other`. */
export const CLOSE_CODES = ['1000', '1001', '1005', '1006', '1008', '1009', '1011', '1012', '1013', '4000', '4001'] as const;

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

export class Metrics {
  signalsRelayed = 0;
  loginFailures = 0;
  /** Watch sessions open now (a gauge). */
  watchSessions = 0;
  readonly stateChanges = zeros(VIAS);
  /** Sockets open now, by endpoint (a gauge). */
  readonly sockets = zeros(ENDPOINTS);
  readonly socketCloses = zeros([...CLOSE_CODES, 'other']);
  readonly scheduleRuns = zeros(SCHEDULE_RESULTS);
  readonly roomCalls = zeros(ROOM_KINDS);

  socketClosed(code: number): void {
    const key = String(code) as (typeof CLOSE_CODES)[number];
    if (key in this.socketCloses) this.socketCloses[key]++;
    else this.socketCloses.other++;
  }
}

/** The endpoint a socket came in on, from the upgrade's path. */
export function endpointOf(path: string): Endpoint {
  if (path === '/ws/device') return 'device';
  if (path === '/ws/viewer') return 'viewer';
  if (path === '/api/v1') return 'api_v1';
  return 'camera';
}

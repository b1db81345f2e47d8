import { ENDPOINTS, type Metrics, ROOM_KINDS, SCHEDULE_RESULTS, VIAS } from './metrics.ts';

/**
 * The Prometheus text exposition format (0.0.4), written by hand: prom-client needs Node's built-ins,
 * and this is small. Every family has its HELP and TYPE; a family with nothing known here has no samples.
 */

type Sample = [labels: Record<string, string> | null, value: number];

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples(m: Metrics): Sample[];
}

const byLabel = <K extends string>(label: string, keys: readonly K[], values: Record<K, number>): Sample[] =>
  keys.map((key) => [{ [label]: key }, values[key]]);

/** The families that only a process holding the sockets and rooms can count (not a Worker's isolate). */
const PROCESS_FAMILIES: Family[] = [
  {
    name: 'edgecam_sockets',
    help: 'Open WebSocket connections, by endpoint.',
    type: 'gauge',
    samples: (m) => byLabel('endpoint', ENDPOINTS, m.sockets),
  },
  { name: 'edgecam_watch_sessions', help: 'Open watch sessions.', type: 'gauge', samples: (m) => [[null, m.watchSessions]] },
  {
    name: 'edgecam_signals_relayed_total',
    help: 'WebRTC signals relayed between viewers and devices.',
    type: 'counter',
    samples: (m) => [[null, m.signalsRelayed]],
  },
  {
    name: 'edgecam_state_changes_total',
    help: 'Accepted camera state changes, by the way they came in.',
    type: 'counter',
    samples: (m) => byLabel('via', VIAS, m.stateChanges),
  },
  {
    name: 'edgecam_socket_closes_total',
    help: 'WebSocket connections closed, by close code (codes outside the known set count as "other").',
    type: 'counter',
    samples: (m) => Object.entries(m.socketCloses).map(([code, value]) => [{ code }, value]),
  },
  {
    name: 'edgecam_schedule_runs_total',
    help: 'Scheduled runs applied to a device, by result.',
    type: 'counter',
    samples: (m) => byLabel('result', SCHEDULE_RESULTS, m.scheduleRuns),
  },
];

/** The families every host serves: an HTTP front counts these itself. */
const FRONT_FAMILIES: Family[] = [
  {
    name: 'edgecam_login_failures_total',
    help: 'Logins refused for a wrong username or password.',
    type: 'counter',
    samples: (m) => [[null, m.loginFailures]],
  },
  {
    name: 'edgecam_room_calls_total',
    help: 'Calls this host made to rooms, by kind of room.',
    type: 'counter',
    samples: (m) => byLabel('room', ROOM_KINDS, m.roomCalls),
  },
];

export interface Exposition {
  /** Registered and online devices, from the registry shards. */
  devices: { devices: number; online: number };
  metrics: Metrics;
  /** `front`: a Worker's isolate, which holds no sockets or rooms; their families are left empty. */
  scope: 'process' | 'front';
}

export function exposition({ devices, metrics, scope }: Exposition): string {
  const families: [Family, boolean][] = [
    [{ name: 'edgecam_devices', help: 'Registered devices.', type: 'gauge', samples: () => [[null, devices.devices]] }, true],
    [
      { name: 'edgecam_devices_online', help: 'Devices online now.', type: 'gauge', samples: () => [[null, devices.online]] },
      true,
    ],
    ...PROCESS_FAMILIES.map((family): [Family, boolean] => [family, scope === 'process']),
    ...FRONT_FAMILIES.map((family): [Family, boolean] => [family, true]),
  ];
  let text = '';
  for (const [family, known] of families) {
    text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    if (!known) continue;
    for (const [labels, value] of family.samples(metrics)) text += `${family.name}${labelText(labels)} ${value}\n`;
  }
  return text;
}

function labelText(labels: Record<string, string> | null): string {
  if (!labels) return '';
  const pairs = Object.entries(labels).map(
    ([name, value]) => `${name}="${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  );
  return `{${pairs.join(',')}}`;
}

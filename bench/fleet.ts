import { performance } from 'node:perf_hooks';
import Database from 'libsql';
import type WebSocket from 'ws';
import { post } from './http.ts';
import { summarize } from './stats.ts';
import { envelope, open, pool, sleep, waitFor } from './ws-util.ts';

/**
 * The fleet scenario, on a server of its own: `registered` devices, then the server restarted (so its
 * memory holds the fleet, not the garbage of registering it), then `online` of them connected on
 * /ws/device and idle. It measures the device listing (its first page, every page, and the whole list
 * in one answer) against a bare loop that reads the same rows from the server's SQLite file and
 * serialises them, the memory per connected device, and how long a device's coming online takes to
 * show in a listing.
 */

export interface FleetServer {
  base: string;
  wsUrl: string;
  rssKb(): number;
  stop(): Promise<void>;
}

export interface FleetSetup {
  /** Starts the server on the fleet's data directory (again after a stop). */
  start(): Promise<FleetServer>;
  password: string;
  /** The server's SQLite file, read by the bare loop. */
  storePath: string;
  registered: number;
  online: number;
  settle(): Promise<unknown>;
  log(message: string): void;
}

export interface FleetResult {
  rows: number;
  firstPageMs: number;
  allPagesMs: number;
  wholeListMs: number;
  bareLoopMs: number;
  kbPerOnlineDevice: number;
  onlineToListingMs: { p50: number; p99: number };
  roundTripMs: number;
  registerS: number;
}

/** The median of `runs` timings of `body`, in ms. */
async function medianMs(runs: number, body: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await body();
    times.push(performance.now() - t0);
  }
  return summarize(times).p50;
}

export async function fleet(setup: FleetSetup): Promise<FleetResult> {
  const { log } = setup;
  let server = await setup.start();
  const token = await logIn(server.base, setup.password);
  const auth = { authorization: `Bearer ${token}` };
  const get = async (path: string) => {
    const { base } = server;
    const response = await fetch(base + path, { headers: auth });
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as { devices: { device_id: string; online: boolean }[]; next_cursor: string | null };
  };

  const t0 = performance.now();
  const keys: string[] = new Array(setup.registered);
  await pool(setup.registered, 16, async (i) => {
    const registered = await post(server.base, '/api/devices', { device_id: fleetId(i) }, token);
    if (registered.status !== 201) throw new Error(`registering ${fleetId(i)}: ${registered.status}`);
    keys[i] = registered.body.key as string;
  });
  const registerS = (performance.now() - t0) / 1000;
  log(`fleet: ${setup.registered} devices registered in ${registerS.toFixed(1)} s`);
  await server.stop();
  server = await setup.start();
  const { base, wsUrl } = server;

  // Memory is read across the second half of the connections: the garbage of registering 10,000
  // devices is collected meanwhile, and would otherwise make the difference small or negative.
  const sockets: WebSocket[] = [];
  const half = Math.floor(setup.online / 2);
  const connect = (from: number, to: number) =>
    pool(to - from, 32, async (i) => {
      sockets[from + i] = await hello(wsUrl, fleetId(from + i), keys[from + i] as string);
    });
  await connect(0, half);
  await setup.settle();
  await sleep(2000);
  const before = server.rssKb();
  await connect(half, setup.online);
  await setup.settle();
  await sleep(2000);
  const kbPerOnlineDevice = (server.rssKb() - before) / (setup.online - half);

  const whole = await get('/api/devices');
  const rows = whole.devices.length;
  const onlineListed = whole.devices.filter((d) => d.online).length;
  if (onlineListed < setup.online) throw new Error(`${onlineListed} devices listed online, ${setup.online} connected`);

  const firstPageMs = await medianMs(21, () => get('/api/devices?limit=100'));
  const allPagesMs = await medianMs(5, async () => {
    let cursor: string | null = null;
    do cursor = (await get(`/api/devices?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).next_cursor;
    while (cursor);
  });
  const wholeListMs = await medianMs(5, () => get('/api/devices'));
  const store = new Database(setup.storePath, { readonly: true });
  const bareLoopMs = await medianMs(5, () => bareLoop(store, rows)).finally(() => store.close());

  // Devices not yet connected: the time from the hello sent to the first listing that shows it online.
  const roundTripMs = await medianMs(21, () => fetch(`${base}/healthz`).then((r) => r.text()));
  const reach: number[] = [];
  for (let i = setup.online; i < Math.min(setup.registered, setup.online + 50); i++) {
    const socket = await open(`${wsUrl}/ws/device`);
    sockets.push(socket);
    const sent = performance.now();
    socket.send(envelope('hello', { device_id: fleetId(i), key: keys[i] }));
    while (!(await get(`/api/devices?limit=1&q=${fleetId(i)}`)).devices[0]?.online) {
      if (performance.now() - sent > 10_000) throw new Error(`${fleetId(i)} not listed online within 10 s`);
    }
    reach.push(performance.now() - sent);
  }
  for (const socket of sockets) socket.terminate();
  await server.stop();
  const { p50, p99 } = summarize(reach);
  return {
    rows,
    firstPageMs,
    allPagesMs,
    wholeListMs,
    bareLoopMs,
    kbPerOnlineDevice,
    onlineToListingMs: { p50, p99 },
    roundTripMs,
    registerS,
  };
}

async function logIn(base: string, password: string): Promise<string> {
  const login = await post(base, '/api/login', { username: 'admin', password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  return login.body.token as string;
}

function fleetId(i: number): string {
  return `fleet-${String(i).padStart(5, '0')}`;
}

async function hello(wsUrl: string, id: string, key: string): Promise<WebSocket> {
  const socket = await open(`${wsUrl}/ws/device`);
  const acked = waitFor(socket, (text) => text.includes('"hello_ack"'), `${id}'s hello_ack`);
  socket.send(envelope('hello', { device_id: id, key }));
  await acked;
  return socket;
}

/**
 * What a listing must at least do: read every row from the store (the registry shards' rows in the
 * server's SQLite file), order them by id and serialise the answer.
 */
function bareLoop(db: Database.Database, expected: number): string {
  const rows = db
    .prepare("SELECT value FROM kv WHERE room >= 'registry:' AND room < 'registry;' AND key >= 'device:' AND key < 'device;'")
    .all() as { value: string }[];
  if (rows.length !== expected) throw new Error(`the bare loop read ${rows.length} rows, the listing ${expected}`);
  const devices = rows.map((row) => {
    const { leased: _, ...device } = JSON.parse(row.value) as { device_id: string; leased: boolean };
    return device;
  });
  devices.sort((a, b) => (a.device_id < b.device_id ? -1 : 1));
  return JSON.stringify({ devices, next_cursor: null });
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inspectorUrl, sampleAllocations, topAllocators } from './alloc-prof.ts';
import { parseArgs } from './args.ts';
import { fleet } from './fleet.ts';
import { post } from './http.ts';
import { cpuSeconds, runQueueSeconds } from './proc-stat.ts';
import {
  canPin,
  fdLimit,
  freePort,
  killAll,
  root,
  rssKb,
  runLoad as runLoadRaw,
  type Started,
  settle,
  startServer,
  stop,
} from './procs.ts';
import { machine, type Row, svg, table } from './report.ts';
import type { Summary } from './stats.ts';
import { pool } from './ws-util.ts';

/**
 * `npm run bench`: the real server and the raw-`ws` baselines on core 0, the load generator on core 1,
 * every scenario against both; one table, bench/results/latest.json and latest.svg.
 */

const options = parseArgs(process.argv.slice(2));
const SERVER_CORE = 0;
const LOAD_CORE = 1;
const ADMIN_PASSWORD = 'bench-admin-password';
const deadlineMs = options.smoke ? 80_000 : 420_000;
const hardStop = setTimeout(() => {
  console.error(`bench: over its ${deadlineMs / 1000} s budget, stopping everything`);
  killAll();
  process.exit(2);
}, deadlineMs);

const fds = fdLimit(Math.max(4096, options.idle * 2 + 1024));
const idleSockets = Math.min(options.idle, fds - 512);
const rows: Row[] = [];
const details: Record<string, unknown> = {};
const errors: string[] = [];

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

function ratioRow(
  scenario: string,
  metric: string,
  edgecam: number,
  baseline: number,
  baselineName: string,
  target?: { op: '>=' | '<='; value: number },
): void {
  const ratio = edgecam / baseline;
  rows.push({
    scenario,
    metric,
    edgecam,
    baseline,
    baselineName,
    ratio,
    target,
    met: target ? (target.op === '>=' ? ratio >= target.value : ratio <= target.value) : undefined,
  });
}

/** Each target's turn p99s with, in brackets, how late the load generator sent that turn's frames. */
function turnSummary(rates: Record<string, unknown>): string {
  return Object.entries(rates)
    .map(([target, result]) => {
      const { turnP99, turnSendLateP99 } = result as { turnP99: number[]; turnSendLateP99: number[] };
      return `${target} ${turnP99.map((p99, i) => `${p99} (${turnSendLateP99[i]})`).join(', ')}`;
    })
    .join('; ');
}

async function scenario(name: string, body: () => Promise<void>): Promise<void> {
  if (options.only.length && !options.only.includes(name)) return;
  const started = Date.now();
  log(`${name} …`);
  try {
    await body();
    log(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    errors.push(`${name}: ${text}`);
    rows.push({
      scenario: name,
      metric: 'error',
      edgecam: Number.NaN,
      baseline: Number.NaN,
      baselineName: '',
      ratio: Number.NaN,
      error: text,
    });
    log(`${name} FAILED: ${text}`);
  }
}

/**
 * Samples the allocations of edgecam and of the baselines' process from now until the returned function
 * is called, which writes both profiles and logs where each process allocated most.
 */
async function sampleBoth(dir: string, ...processes: Started[]): Promise<() => Promise<void>> {
  mkdirSync(resolve(dir), { recursive: true });
  const stops = await Promise.all(
    processes.map((started, i) => {
      const url = inspectorUrl(started.output());
      if (!url) throw new Error(`no inspector URL in the output of ${started.pid}`);
      return sampleAllocations(i === 0 ? 'edgecam' : 'baseline', url, resolve(dir));
    }),
  );
  return async () => {
    for (const stopOne of stops) {
      const { file, profile } = await stopOne();
      const top = topAllocators(profile, 8).map(({ share, where }) => `${(share * 100).toFixed(1)}% ${where}`);
      log(`allocations sampled in ${file}; most by:\n  ${top.join('\n  ')}`);
    }
  };
}

/** `npm start`'s node arguments (V8 flags included), so the server is measured as it is shipped. */
function startScriptArgs(): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [command, ...args] = (scripts.start as string).split(/\s+/);
  if (command !== 'node') throw new Error(`npm start is expected to run node, not ${command}`);
  return args;
}

async function main(): Promise<void> {
  if (options.allocProf && options.runtime !== 'node')
    throw new Error('--alloc-prof needs --runtime node: it uses the Node inspector');
  const dataDir = mkdtempSync(join(tmpdir(), 'edgecam-bench-'));
  const big = String(1_000_000_000);
  const serverCommand =
    options.runtime === 'deno'
      ? [`${root}node_modules/.bin/deno`, 'run', '-A', 'src/runtime/deno/main.ts']
      : [
          process.execPath,
          ...(options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProf)}`] : []),
          ...(options.allocProf ? ['--inspect=127.0.0.1:0'] : []),
          ...startScriptArgs(),
        ];
  let server: Started | undefined;
  let baseline: Started | undefined;
  try {
    log(
      `pinning: ${canPin ? `server and baselines on core ${SERVER_CORE}, load generator on core ${LOAD_CORE}` : 'taskset not found, not pinned'}`,
    );
    log(`fd limit per process: ${fds}; idle sockets: ${idleSockets}`);
    // LOG_LEVEL=warn hides the `edgecam listening` line, so the port is chosen here and probed.
    const port = await freePort();
    const serverEnv = (port: number, dataDir: string) => ({
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      PASSWORD_ITERATIONS: '100000',
      RATE_LIMIT_PER_S: big,
      RATE_LIMIT_BURST: big,
      MAX_SOCKETS_PER_USER: big,
      MAX_VIEWERS_PER_DEVICE: '100000',
      MAX_WATCHES_PER_SOCKET: '100000',
      WATCH_ANSWER_TIMEOUT_S: '3600',
      SEND_BUFFER_BYTES: String(64 * 1024 * 1024),
      LOG_LEVEL: 'warn',
    });
    server = await startServer('edgecam', serverCommand, serverEnv(port, dataDir), SERVER_CORE, fds, {
      port,
      path: '/api/schema',
    });
    baseline = await startServer(
      'baseline',
      [
        process.execPath,
        ...(options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProf, 'baseline')}`] : []),
        ...(options.allocProf ? ['--inspect=127.0.0.1:0'] : []),
        ...['--import', 'tsx', 'bench/baseline.ts'],
      ],
      { PORT: '0' },
      SERVER_CORE,
      fds,
    );
    const base = `http://127.0.0.1:${server.port}`;
    const wsUrl = `ws://127.0.0.1:${server.port}`;
    const rawUrl = `ws://127.0.0.1:${baseline.port}`;
    log(`edgecam pid ${server.pid} at ${base}; baseline pid ${baseline.pid} at ${rawUrl}`);

    const login = await post(base, '/api/login', { username: 'admin', password: ADMIN_PASSWORD });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    const token = login.body.token as string;
    const deviceCount = Math.max(options.pairsMax, ...options.pairsLatency);
    const devices: { id: string; key: string }[] = new Array(deviceCount);
    await pool(deviceCount, 16, async (i) => {
      const id = `bench-cam-${String(i).padStart(5, '0')}`;
      const res = await post(base, '/api/devices', { device_id: id }, token);
      if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${JSON.stringify(res.body)}`);
      devices[i] = { id, key: res.body.key as string };
    });
    const room = await post(base, '/api/devices', { device_id: 'bench-broadcast' }, token);
    if (room.status !== 201) throw new Error(`device registration failed: ${room.status}`);
    const bounded = (ms: number) => ms + 60_000;
    const srv = server;
    const raw = baseline;
    /**
     * A load task, with the CPU share the server under test used meanwhile (1 = one whole core) and the
     * share of the time it was ready to run but waiting for the CPU (other programs on the machine).
     */
    const runLoad = async (
      task: { target: string } & Record<string, unknown>,
      core: number,
      fdMax: number,
      timeoutMs: number,
      onReady?: (info: Record<string, unknown>) => Promise<void>,
    ) => {
      const pid = task.target === 'edgecam' ? srv.pid : raw.pid;
      const settledMs = await settle([srv.pid, raw.pid]);
      const cpu0 = cpuSeconds(pid);
      const wait0 = runQueueSeconds(pid);
      const t0 = performance.now();
      const result = await runLoadRaw(task, core, fdMax, timeoutMs, onReady);
      const seconds = (performance.now() - t0) / 1000;
      result.serverCpu = Number(((cpuSeconds(pid) - cpu0) / seconds).toFixed(2));
      result.serverWaiting = Number(((runQueueSeconds(pid) - wait0) / seconds).toFixed(3));
      result.settledMs = settledMs;
      return result;
    };

    const stopSampling = options.allocProf ? await sampleBoth(options.allocProf, srv, raw) : undefined;

    /** Resident memory per idle socket of `target`, with `sockets` of them open. */
    const measureIdle = async (target: 'edgecam' | 'raw', pid: number, url: string, sockets: number) => {
      const before = rssKb(pid);
      let after = 0;
      let connected = 0;
      let info: Record<string, unknown> = {};
      await runLoad({ kind: 'idle', target, wsUrl: url, sockets, token }, LOAD_CORE, fds, 120_000, async (ready) => {
        info = ready;
        connected = ready.connected as number;
        if (ready.failed) log(`idle ${target}: ${ready.failed} sockets failed: ${ready.firstError}`);
        await new Promise((r) => setTimeout(r, options.smoke ? 200 : 2000));
        after = rssKb(pid);
      });
      return { before, after, connected, setupMs: info.setupMs, kbPerSocket: (after - before) / connected };
    };

    await scenario('idle', async () => {
      const e = await measureIdle('edgecam', srv.pid, wsUrl, idleSockets);
      const r = await measureIdle('raw', raw.pid, rawUrl, idleSockets);
      details.idle = { edgecam: e, raw: r };
      ratioRow('idle', `RSS KB/socket (${e.connected} vs ${r.connected} sockets)`, e.kbPerSocket, r.kbPerSocket, 'raw ws idle', {
        op: '<=',
        value: 2.2,
      });
    });

    await scenario('connect', async () => {
      const measureMs = options.smoke ? 800 : 2500;
      // Both in turns, like the other scenarios.
      const turns = options.smoke ? 2 : 3;
      const task = {
        kind: 'connect',
        targets: [
          { target: 'edgecam', wsUrl, pid: srv.pid, token },
          { target: 'raw', wsUrl: rawUrl, pid: raw.pid },
        ],
        concurrency: options.connectConcurrency,
        measureMs,
        turns,
      };
      const settledMs = await settle([srv.pid, raw.pid]);
      const both = await runLoadRaw(task, LOAD_CORE, fds, bounded(2 * measureMs));
      const e = both.edgecam as Record<string, unknown>;
      const r = both.raw as Record<string, unknown>;
      details.connect = { edgecam: e, raw: r, settledMs };
      ratioRow(
        'connect',
        'hello handshakes/s vs raw connects/s',
        e.perSecond as number,
        r.perSecond as number,
        'raw ws connect',
        {
          op: '>=',
          value: 0.5,
        },
      );
    });

    await scenario('relay', async () => {
      // All three connected at once and measured in turns, like the fixed-rate relay below.
      const maxTurns = options.smoke ? 2 : 3;
      const maxTask = {
        kind: 'relay',
        targets: [
          { target: 'edgecam', wsUrl, pid: srv.pid, token, devices },
          { target: 'pass', wsUrl: rawUrl, pid: raw.pid },
          { target: 'json', wsUrl: rawUrl, pid: raw.pid },
        ],
        pairs: options.pairsMax,
        size: options.size,
        warmupMs: Math.min(500, options.warmupMs),
        measureMs: options.measureMs,
        turns: maxTurns,
      };
      const settledMs = await settle([srv.pid, raw.pid]);
      const maxLimit = bounded(3 * (options.measureMs + maxTurns * 6_000));
      const max = await runLoadRaw(maxTask, LOAD_CORE, fds, maxLimit);
      const e = max.edgecam as Record<string, unknown>;
      const j = max.json as Record<string, unknown>;
      const p = max.pass as Record<string, unknown>;
      details[`relay_max_K${options.pairsMax}`] = { edgecam: e, json: j, pass: p, settledMs };
      const name = `relay K=${options.pairsMax} max`;
      ratioRow(name, 'relayed msgs/s', e.perSecond as number, j.perSecond as number, 'JSON forwarder', { op: '>=', value: 0.9 });
      ratioRow(name, 'relayed msgs/s', e.perSecond as number, p.perSecond as number, 'byte forwarder');
      for (const pairs of options.pairsLatency) {
        // All three connected at once and measured in turns: see bench/load-relay-rate.ts.
        const turns = options.smoke ? 2 : 5;
        const rateTask = {
          kind: 'relay-rate',
          targets: [
            { target: 'edgecam', wsUrl, pid: srv.pid, token, devices },
            { target: 'pass', wsUrl: rawUrl, pid: raw.pid },
            { target: 'json', wsUrl: rawUrl, pid: raw.pid },
          ],
          pairs,
          rate: options.rate,
          size: options.size,
          warmupMs: Math.min(500, options.warmupMs),
          measureMs: options.latencyMs,
          turns,
        };
        await settle([srv.pid, raw.pid]);
        const rates = await runLoadRaw(rateTask, LOAD_CORE, fds, bounded(3 * (options.latencyMs + turns * 1_000)));
        const el = rates.edgecam as Record<string, unknown>;
        const pl = rates.pass as Record<string, unknown>;
        const jl = rates.json as Record<string, unknown>;
        details[`relay_rate_K${pairs}`] = { edgecam: el, pass: pl, json: jl };
        const les = el.latency as Summary;
        const pls = pl.latency as Summary;
        const jls = jl.latency as Summary;
        const label = `relay K=${pairs} @${options.rate}/s`;
        ratioRow(label, 'p50 one-way ms', les.p50, pls.p50, 'byte forwarder');
        ratioRow(
          label,
          'p99 one-way ms',
          les.p99,
          pls.p99,
          'byte forwarder',
          pairs === 1000 ? { op: '<=', value: 2 } : undefined,
        );
        ratioRow(label, 'p99 one-way ms', les.p99, jls.p99, 'JSON forwarder');
        if (el.lost || pl.lost) log(`${label}: lost edgecam ${el.lost}, raw ${pl.lost}`);
        log(`${label}: turn p99s ms (load generator's send lateness p99 in brackets): ${turnSummary(rates)}`);
      }
    });

    await scenario('broadcast', async () => {
      for (const n of options.subscribers) {
        // Both connected at once and measured in turns, like the relays.
        const turns = options.smoke ? 2 : 3;
        const task = {
          kind: 'broadcast',
          targets: [
            { target: 'edgecam', wsUrl, pid: srv.pid, device: 'bench-broadcast', token },
            { target: 'raw', wsUrl: rawUrl, pid: raw.pid },
          ],
          subscribers: n,
          measureMs: options.broadcastMs,
          maxChanges: options.maxChanges,
          turns,
        };
        const settledMs = await settle([srv.pid, raw.pid]);
        // Each turn may end on one 10 s timeout; connecting takes about 2 ms per subscriber and target.
        const limit = bounded(2 * options.broadcastMs + 2 * turns * 10_000) + n * 40;
        const both = await runLoadRaw(task, LOAD_CORE, fds, limit);
        const e = both.edgecam as Record<string, unknown>;
        const r = both.raw as Record<string, unknown>;
        details[`broadcast_N${n}`] = { edgecam: e, raw: r, settledMs };
        const es = e.latency as Summary;
        const rs = r.latency as Summary;
        const label = `broadcast N=${n}`;
        ratioRow(label, 'last subscriber p50 ms', es.p50, rs.p50, 'raw broadcast');
        ratioRow(
          label,
          'last subscriber p99 ms',
          es.p99,
          rs.p99,
          'raw broadcast',
          n === 5000 ? { op: '<=', value: 1.2 } : undefined,
        );
        ratioRow(
          label,
          'deliveries/s',
          e.deliveriesPerSecond as number,
          r.deliveriesPerSecond as number,
          'raw broadcast',
          n === 1000 ? { op: '>=', value: 0.85 } : undefined,
        );
      }
    });
    await scenario('fleet', async () => {
      // A server of its own, so that the fleet is measured apart from what the other scenarios left.
      const fleetDir = join(dataDir, 'fleet');
      mkdirSync(fleetDir);
      let fleetPid = 0;
      const f = await fleet({
        start: async () => {
          const fleetPort = await freePort();
          const started = await startServer('fleet', serverCommand, serverEnv(fleetPort, fleetDir), SERVER_CORE, fds, {
            port: fleetPort,
            path: '/api/schema',
          });
          fleetPid = started.pid;
          return {
            base: `http://127.0.0.1:${fleetPort}`,
            wsUrl: `ws://127.0.0.1:${fleetPort}`,
            rssKb: () => rssKb(started.pid),
            stop: () => stop(started),
          };
        },
        password: ADMIN_PASSWORD,
        storePath: join(fleetDir, 'edgecam.db'),
        registered: options.fleet,
        online: options.fleetOnline,
        settle: () => settle([fleetPid, srv.pid, raw.pid]),
        log,
      });
      // The same number of idle sockets on the raw server: what a connected device costs beyond a socket.
      const rawIdle = await measureIdle('raw', raw.pid, rawUrl, options.fleetOnline);
      details.fleet = { ...f, rawIdleKbPerSocket: rawIdle.kbPerSocket };
      const label = `fleet ${f.rows} devices, ${options.fleetOnline} online`;
      ratioRow(label, 'whole listing ms', f.wholeListMs, f.bareLoopMs, 'bare store loop', { op: '<=', value: 5 });
      ratioRow(label, 'every page of 1000 ms', f.allPagesMs, f.bareLoopMs, 'bare store loop');
      ratioRow(label, 'first page of 100 ms', f.firstPageMs, f.roundTripMs, 'one HTTP round trip');
      ratioRow(label, 'RSS KB per online device', f.kbPerOnlineDevice, rawIdle.kbPerSocket, 'raw ws idle');
      ratioRow(label, 'hello → listed online p50 ms', f.onlineToListingMs.p50, f.roundTripMs, 'one HTTP round trip');
      ratioRow(label, 'hello → listed online p99 ms', f.onlineToListingMs.p99, f.roundTripMs, 'one HTTP round trip');
    });
    if (stopSampling) await stopSampling();
  } finally {
    if (server) await stop(server);
    if (baseline) await stop(baseline);
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    runtime: options.runtime,
    pinned: canPin,
    fdLimit: fds,
    options,
    rows,
    details,
    errors,
  };
  const out = resolve(root, options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'latest.svg'), svg(rows, details));
  console.log(table(rows));
  log(`wrote ${join(out, 'latest.json')} and latest.svg`);
}

main()
  .then(() => {
    clearTimeout(hardStop);
    process.exit(errors.length ? 1 : 0);
  })
  .catch((error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    killAll();
    process.exit(1);
  });

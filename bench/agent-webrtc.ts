import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from './proc-stat.ts';
import { canPin, freePort, killAll, root, startProcess, startServer, stop } from './procs.ts';
import { BenchViewer } from './webrtc-viewer.ts';

/**
 * `npm run bench:agent`: what the device agent costs with `--webrtc rtp`, in CPU per watcher and per
 * Mbit/s of video it sends. The agent (pinned to core 0, as the Pi's only job) is fed pre-encoded H.264
 * test clips of 1, 2 and 4 Mbit/s by `ffmpeg -re … -c copy -f rtp` (no encoding on the clock), and
 * watched by 0–8 werift viewers in this process (core 1). Each agent serves one unmeasured watch
 * first (the first peer's code runs cold); each configuration's CPU is then taken over a window once
 * every viewer has had video for 2 s. Rounds are interleaved and the median is reported.
 *
 *   npm run bench:agent [-- --rounds 3 --seconds 8 --out bench/results] [-- --smoke]
 */

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const smoke = argv.includes('--smoke');
const outAt = argv.indexOf('--out');
const out = outAt >= 0 ? (argv[outAt + 1] as string) : join(root, 'bench/results');
const rounds = smoke ? 1 : flag('rounds', 3);
const seconds = smoke ? 1 : flag('seconds', 8);
/** Watcher counts per clip bitrate (Mbit/s): the full sweep at 2, enough at 1 and 4 for a slope. */
const grid: [number, number[]][] = smoke
  ? [[1, [0, 1, 2]]]
  : [
      [2, [0, 1, 2, 4, 8]],
      [1, [0, 4]],
      [4, [0, 4]],
    ];
const AGENT_CORE = 0;
const VIEWER_CORE = 1;
const ADMIN_PASSWORD = 'bench-admin-password';

const log = (line: string) => console.error(`[bench:agent] ${line}`);

interface Sample {
  round: number;
  mbps: number;
  watchers: number;
  cpuPercent: number;
  deliveredMbps: number;
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v ffmpeg']).status !== 0) throw new Error('needs ffmpeg: apt-get install ffmpeg');
  if (canPin) spawnSync('taskset', ['-cp', String(VIEWER_CORE), String(process.pid)]);
  const work = mkdtempSync(join(tmpdir(), 'edgecam-bench-agent-'));
  const clips = new Map(grid.map(([mbps]) => [mbps, encodeClip(work, mbps)]));
  const port = await freePort();
  const server = await startServer(
    'edgecam',
    [process.execPath, '--import', 'tsx', 'src/runtime/node/main.ts'],
    { HOST: '127.0.0.1', PORT: String(port), DATA_DIR: join(work, 'data'), ADMIN_PASSWORD, LOG_LEVEL: 'warn' },
    VIEWER_CORE,
    1024,
    { port, path: '/healthz' },
  );
  const base = `http://127.0.0.1:${port}`;
  const token = await login(base);
  const samples: Sample[] = [];
  // Stopped with SIGTERM even when a round fails: the agent then stops its stream (ffmpeg runs in a
  // process group of its own, which a SIGKILL of the agent's group would leave running).
  let agent: ReturnType<typeof startProcess> | undefined;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [mbps, counts] of grid) {
        const device = `bench-${round}-${mbps}`;
        const key = await register(base, token, device);
        agent = startProcess(
          [
            ...[process.execPath, '--import', 'tsx', 'src/agent/main.ts', '--server', base, '--device', device],
            ...['--protocol', 'json', '--webrtc', 'rtp', '--rtp-port', String(30_000 + 2 * round + 10 * mbps)],
            ...['--max-watchers', '16', '--state-file', join(work, `${device}.json`)],
            ...[
              '--stream',
              `exec ffmpeg -hide_banner -loglevel error -re -stream_loop -1 -i ${clips.get(mbps)} -c copy -f rtp "$EDGECAM_RTP_URL"`,
            ],
          ],
          { EDGECAM_KEY: key },
          AGENT_CORE,
        );
        const started = agent;
        await until(
          () => started.output().includes('video arriving') && started.output().includes(' online '),
          20_000,
          started.output,
        );
        // One watch first, unmeasured: the first peer's code runs cold (V8 compiles werift as it goes).
        // The bench measures CPU, not connection set-up (the tests do): on a busy machine a viewer that
        // gets no video is tried once more, and one that fails again says what the agent saw.
        const open = () => BenchViewer.open(`ws://127.0.0.1:${port}`, token, device, 20_000);
        const watch = () =>
          open()
            .catch((error: Error) => {
              log(`a viewer failed (${error.message}); trying once more`);
              return open();
            })
            .catch((error: Error) => {
              throw new Error(`${error.message}; the agent's log:\n${started.output().slice(-3_000)}`);
            });
        const warmup = await watch();
        await sleep(smoke ? 500 : 5_000);
        await warmup.close();
        const viewers: BenchViewer[] = [];
        for (const watchers of counts) {
          while (viewers.length < watchers) viewers.push(await watch());
          await sleep(smoke ? 500 : 2_000);
          const bytes0 = viewers.reduce((sum, v) => sum + v.bytes, 0);
          const cpu0 = cpuSeconds(started.pid);
          const t0 = performance.now();
          await sleep(seconds * 1_000);
          const elapsed = (performance.now() - t0) / 1000;
          const cpuPercent = (100 * (cpuSeconds(started.pid) - cpu0)) / elapsed;
          const deliveredMbps = ((viewers.reduce((sum, v) => sum + v.bytes, 0) - bytes0) * 8) / elapsed / 1e6;
          samples.push({ round, mbps, watchers, cpuPercent, deliveredMbps });
          log(
            `round ${round}: ${mbps} Mbit/s clip, ${watchers} watching: agent ${cpuPercent.toFixed(1)}% of a core, ${deliveredMbps.toFixed(2)} Mbit/s delivered`,
          );
        }
        await Promise.all(viewers.map((v) => v.close()));
        await stop(started);
        agent = undefined;
      }
    }
  } finally {
    if (agent) await stop(agent);
    await stop(server);
    killAll();
    rmSync(work, { recursive: true, force: true });
  }
  report(samples);
}

function report(samples: Sample[]): void {
  const rows = grid.flatMap(([mbps, counts]) =>
    counts.map((watchers) => {
      const mine = samples.filter((s) => s.mbps === mbps && s.watchers === watchers);
      return {
        mbps,
        watchers,
        cpuPercent: median(mine.map((s) => s.cpuPercent)),
        deliveredMbps: median(mine.map((s) => s.deliveredMbps)),
      };
    }),
  );
  const at = (mbps: number, watchers: number) => rows.find((r) => r.mbps === mbps && r.watchers === watchers)?.cpuPercent ?? 0;
  const sweep = smoke ? 1 : 2;
  // Measured here: the first viewer costs more than each further one (werift's per-process work starts).
  const firstWatcher = at(sweep, 1) - at(sweep, 0);
  const furtherWatchers = rows.filter((r) => r.mbps === sweep && r.watchers >= 1);
  const perFurtherWatcher =
    furtherWatchers.length > 1 ? slope(furtherWatchers.map((r) => [r.watchers, r.cpuPercent])) : Number.NaN;
  // Marginal: the slope of CPU over the video delivered, across every row with viewers.
  const perMbps = slope(rows.filter((r) => r.watchers > 0).map((r) => [r.deliveredMbps, r.cpuPercent]));
  const lines = [
    '| clip | watchers | agent CPU (% of one core) | video delivered |',
    '| ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.mbps} Mbit/s | ${r.watchers} | ${r.cpuPercent.toFixed(1)} % | ${r.deliveredMbps.toFixed(2)} Mbit/s |`,
    ),
    '',
    `no viewer, video arriving (${sweep} Mbit/s clip): ${at(sweep, 0).toFixed(1)} % of a core`,
    `the first viewer adds: ${firstWatcher.toFixed(1)} % of a core`,
    `each further viewer adds (least squares over 1+ viewers): ${perFurtherWatcher.toFixed(1)} % of a core`,
    `each further Mbit/s delivered adds (least squares over the rows with viewers): ${perMbps.toFixed(2)} % of a core`,
    `median of ${rounds} interleaved round(s) of ${seconds} s; agent ${canPin ? `pinned to core ${AGENT_CORE}` : 'not pinned (no taskset)'}`,
  ];
  console.log(lines.join('\n'));
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'agent-webrtc.json'),
    `${JSON.stringify({ date: new Date().toISOString(), rounds, seconds, rows, firstWatcher, perFurtherWatcher, perMbps, samples }, null, 2)}\n`,
  );
}

/**
 * A 10 s H.264 clip (constrained baseline, 1280×720 at 30 fps, a keyframe a second) at `mbps`, with
 * SPS/PPS before each keyframe in the stream itself, as `rpicam-vid --inline` sends them. (Added at
 * play time by `-bsf:v dump_extra` instead, they stop the loop: the filter refuses packets after the
 * first pass's end.)
 */
function encodeClip(dir: string, mbps: number): string {
  const file = join(dir, `clip-${mbps}M.mkv`);
  const rate = `${mbps}M`;
  const result = spawnSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', '10'],
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '30'],
      ...['-b:v', rate, '-maxrate', rate, '-bufsize', rate, '-x264-params', 'repeat-headers=1', file],
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error(`encoding the ${rate} clip failed`);
  return file;
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  return ((await res.json()) as { token: string }).token;
}

async function register(base: string, token: string, device: string): Promise<string> {
  const res = await fetch(`${base}/api/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ device_id: device }),
  });
  return ((await res.json()) as { key: string }).key;
}

async function until(check: () => boolean, ms: number, output: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`the agent did not come up with video in ${ms} ms:\n${output()}`);
    await sleep(100);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxy / sxx;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => {
  console.error(error);
  killAll();
  process.exit(1);
});

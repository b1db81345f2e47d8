import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HeapProfile, ProfileNode } from '../../bench/alloc-prof.ts';
import { spawnChild } from '../../scripts/child-process.ts';

/**
 * The benchmark at toy sizes (`--smoke`): it runs to the end and reports every scenario. The figures
 * themselves are never asserted; they mean nothing at this size.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  results: Results;
}

interface Results {
  runtime: string;
  rows: { scenario: string; metric: string; edgecam: number; baseline: number; error?: string }[];
  errors: string[];
  details: Record<string, Record<string, { turnP99: number[] }>>;
}

/** Runs `npm run bench -- --smoke <args>`; `check` reads its output before the output folder is removed. */
async function smoke(args: string[], killAfterMs: number, check: (run: Run, out: string) => void): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'edgecam-bench-smoke-'));
  try {
    const bench = spawnChild([process.execPath, '--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out, ...args]);
    const timer = setTimeout(() => bench.signal('SIGKILL'), killAfterMs);
    const code = await bench.exited;
    clearTimeout(timer);
    const [stdout, stderr] = [bench.output('stdout'), bench.output('stderr')];
    assert.equal(code, 0, `bench exited with ${code}\n${stderr}`);
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as Results;
    check({ code, stdout, stderr, results }, out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function assertRows(results: Results, scenarios: string[]): void {
  assert.deepEqual(results.errors, []);
  const found = new Set(results.rows.map((row) => row.scenario.split(' ')[0]));
  assert.deepEqual([...found].sort(), scenarios);
  for (const row of results.rows) {
    assert.equal(typeof row.edgecam, 'number', `${row.scenario} ${row.metric}`);
    assert.equal(typeof row.baseline, 'number', `${row.scenario} ${row.metric}`);
  }
}

test('npm run bench -- --smoke completes with every scenario in the table and the JSON', { timeout: 88_000 }, async () => {
  await smoke([], 85_000, ({ stdout, results }, out) => {
    for (const scenario of [
      'idle',
      'connect',
      'relay K=5 max',
      'relay K=5 @20/s',
      'broadcast N=10',
      'fleet 300 devices, 60 online',
    ]) {
      assert.match(stdout, new RegExp(`^${scenario.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'), `table lacks ${scenario}`);
    }
    assert.equal(results.runtime, 'node');
    assertRows(results, ['broadcast', 'connect', 'fleet', 'idle', 'relay']);
    // Both relays measure the targets in turns and report each turn: two per target in a smoke run.
    const rate = results.details.relay_rate_K5 as Record<string, { turnP99: number[]; turnSendLateP99: number[] }>;
    const max = results.details.relay_max_K5 as unknown as Record<string, { turnPerSecond: number[] }>;
    for (const target of ['edgecam', 'pass', 'json']) {
      const turns = rate[target]?.turnP99 ?? [];
      assert.ok(turns.length === 2 && turns.every((p99) => p99 > 0), `${target} turnP99 ${JSON.stringify(turns)}`);
      const late = rate[target]?.turnSendLateP99 ?? [];
      assert.ok(late.length === 2 && late.every((p99) => p99 >= 0), `${target} turnSendLateP99 ${JSON.stringify(late)}`);
      // A turn is 400 ms here: one stall of a loaded CI host can leave a turn empty, never both.
      const rates = max[target]?.turnPerSecond ?? [];
      assert.ok(
        rates.length === 2 && rates.every((perSecond) => perSecond >= 0) && rates.some((perSecond) => perSecond > 0),
        `${target} turnPerSecond ${JSON.stringify(rates)}`,
      );
    }
    assert.match(readFileSync(join(out, 'latest.svg'), 'utf8'), /^<svg /);
  });
});

test('npm run bench -- --runtime deno measures the server on Deno', { timeout: 58_000 }, async () => {
  // Two scenarios, to keep it short: a handshake and the relay are what differ between the runtimes.
  await smoke(['--runtime', 'deno', '--only', 'connect,relay'], 55_000, ({ results }) => {
    assert.equal(results.runtime, 'deno');
    assertRows(results, ['connect', 'relay']);
  });
});

test('--alloc-prof samples where each process allocates, garbage included', { timeout: 58_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-alloc-prof-'));
  try {
    await smoke(['--only', 'relay', '--alloc-prof', dir], 55_000, ({ stderr }) => {
      assert.match(stderr, /allocations sampled in .*edgecam\.heapprofile; most by:/);
      const share = (name: string, file: RegExp) => {
        const profile = JSON.parse(readFileSync(join(dir, `${name}.heapprofile`), 'utf8')) as HeapProfile;
        let total = 0;
        let matched = 0;
        const visit = (node: ProfileNode) => {
          total += node.selfSize;
          if (file.test(node.callFrame.url)) matched += node.selfSize;
          node.children.forEach(visit);
        };
        visit(profile.head);
        return matched / total;
      };
      // A relayed signal's parse, checks and frame die young: sampled only with collected objects kept.
      assert.ok(share('edgecam', /src\/core\/rooms\/connection\/dispatch\.ts$/) > 0.05, 'the relay path is in the profile');
      assert.ok(share('baseline', /bench\/baseline\.ts$/) > 0.05, "the JSON forwarder's parse is in the profile");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `--against` needs the repository's history; a source archive has none. */
const inGit = spawnSync('git', ['rev-parse', 'HEAD']).status === 0;

test('bench:rounds interleaves this checkout with a commit and judges each target on the median', {
  timeout: 120_000,
  skip: !inGit && 'not a git checkout',
}, async () => {
  const out = mkdtempSync(join(tmpdir(), 'edgecam-bench-rounds-'));
  try {
    const rounds = spawnChild([
      ...[process.execPath, '--import', 'tsx', 'bench/rounds.ts'],
      ...['--rounds', '3', '--against', 'HEAD', '--out', out, '--smoke', '--only', 'connect'],
    ]);
    assert.equal(await rounds.exited, 0, rounds.output());
    const order = [...rounds.output().matchAll(/round (\d)\/3: (this checkout|HEAD)/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(order, ['1 this checkout', '1 HEAD', '2 this checkout', '2 HEAD', '3 this checkout', '3 HEAD']);
    const { summary } = JSON.parse(readFileSync(join(out, 'rounds.json'), 'utf8')) as {
      summary: { row: string; sides: { side: string; ratios: number[]; median: number; figures: { edgecam: number } }[] }[];
    };
    const connect = summary.find((s) => s.row.startsWith('connect'));
    assert.ok(connect, JSON.stringify(summary));
    assert.deepEqual(
      connect.sides.map((s) => s.side),
      ['this checkout', 'HEAD'],
    );
    for (const side of connect.sides) {
      assert.equal(side.ratios.length, 3);
      assert.ok(side.ratios.every((r) => r > 0));
      assert.equal(side.median, [...side.ratios].sort((a, b) => a - b)[1]);
      assert.ok(side.figures.edgecam > 0, 'hellos per second, not only the ratio');
    }
    // The median ratio, the median figures behind it, then each round's ratio.
    assert.match(rounds.output('stdout'), /this checkout +median [\d.]+× \([\d.e+]+ against [\d.e+]+\) +rounds( [\d.]+×){3}/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

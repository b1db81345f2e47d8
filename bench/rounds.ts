import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from './report.ts';

/**
 * `npm run bench:rounds -- [--rounds 3] [--against <git ref>] [--out <dir>] [bench flags…]`: the bench run several
 * times, each target judged on the median of its rounds (one run's verdict on this shared machine is
 * a coin with a bias). With `--against`, as many rounds of that commit run interleaved with this
 * checkout's (this, that, this, that…), so that a slow stretch of the machine falls on both alike.
 */

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const take = (flag: string): string | undefined => {
  const at = argv.indexOf(flag);
  if (at < 0) return undefined;
  const [, value] = argv.splice(at, 2);
  return value;
};
const rounds = Number(take('--rounds') ?? 3);
const against = take('--against');
const results = take('--out') ?? join(root, 'bench/results');
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a whole number ≥ 1');

interface Side {
  name: string;
  dir: string;
  runs: Row[][];
}

const work = mkdtempSync(join(tmpdir(), 'edgecam-bench-rounds-'));
const sides: Side[] = [{ name: 'this checkout', dir: root, runs: [] }];
if (against) sides.push({ name: against, dir: checkout(against), runs: [] });
process.on('exit', cleanUp);
process.on('SIGINT', () => process.exit(130));

for (let round = 1; round <= rounds; round++) {
  for (const side of sides) {
    console.error(`[rounds] round ${round}/${rounds}: ${side.name}`);
    const out = join(work, `out-${sides.indexOf(side)}-${round}`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...argv, '--out', out], {
      cwd: side.dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const file = join(out, 'latest.json');
    if (!existsSync(file)) throw new Error(`the bench of ${side.name} wrote no results (exit ${run.status})`);
    side.runs.push((JSON.parse(readFileSync(file, 'utf8')) as { rows: Row[] }).rows);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const keyOf = (row: Row) => `${row.scenario} · ${row.metric} (baseline: ${row.baselineName})`;
const first = sides[0]?.runs[0] ?? [];
const summary = first
  .filter((row) => row.metric !== 'error')
  .map((row) => {
    const bySide = sides.map((side) => {
      const found = side.runs.map((rows) => rows.find((r) => keyOf(r) === keyOf(row)));
      const ratios = found.map((r) => r?.ratio ?? Number.NaN);
      const mid = median(ratios);
      const met = row.target ? (row.target.op === '>=' ? mid >= row.target.value : mid <= row.target.value) : undefined;
      // The figures behind the ratio too (ms, KB, per second), each side's median over the rounds.
      const figures = {
        edgecam: median(found.map((r) => r?.edgecam ?? Number.NaN)),
        baseline: median(found.map((r) => r?.baseline ?? Number.NaN)),
      };
      return { side: side.name, ratios, median: mid, met, figures };
    });
    return { row: keyOf(row), target: row.target, sides: bySide };
  });

const fmt = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');
for (const { row, target, sides: bySide } of summary) {
  const bound = target ? ` (target ${target.op} ${target.value}×)` : '';
  console.log(`${row}${bound}`);
  for (const s of bySide) {
    const verdict = s.met === undefined ? '' : s.met ? '  met' : '  NOT MET';
    const figures = `(${s.figures.edgecam.toPrecision(3)} against ${s.figures.baseline.toPrecision(3)})`;
    console.log(`  ${s.side.padEnd(16)} median ${fmt(s.median)} ${figures}  rounds ${s.ratios.map(fmt).join(' ')}${verdict}`);
  }
}
mkdirSync(results, { recursive: true });
writeFileSync(
  join(results, 'rounds.json'),
  `${JSON.stringify({ date: new Date().toISOString(), rounds, against: against ?? null, argv, summary }, null, 2)}\n`,
);
console.error(`[rounds] wrote ${join(results, 'rounds.json')}`);

/** A worktree of `ref` sharing this checkout's node_modules (the bench's dependencies rarely change). */
function checkout(ref: string): string {
  const dir = join(work, 'against');
  const added = spawnSync('git', ['worktree', 'add', '--detach', dir, ref], { cwd: root, stdio: 'inherit' });
  if (added.status !== 0) throw new Error(`git worktree add ${ref} failed`);
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const same = spawnSync('git', ['diff', '--quiet', ref, '--', 'package-lock.json'], { cwd: root });
  if (same.status !== 0) console.error(`[rounds] ${ref} has another package-lock.json: it runs with this checkout's packages`);
  return dir;
}

function cleanUp(): void {
  if (against) spawnSync('git', ['worktree', 'remove', '--force', join(work, 'against')], { cwd: root });
  rmSync(work, { recursive: true, force: true });
}

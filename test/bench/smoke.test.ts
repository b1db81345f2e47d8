import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

/**
 * The benchmark at toy sizes (`--smoke`): it runs to the end and reports every scenario. The figures
 * themselves are never asserted; they mean nothing at this size.
 */

const root = new URL('../..', import.meta.url).pathname;

test('npm run bench -- --smoke completes with every scenario in the table and the JSON', { timeout: 58_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'edgecam-bench-smoke-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.equal(code, 0, `bench exited with ${code}\n${stderr}`);
    for (const scenario of ['idle', 'connect', 'relay K=5 max', 'relay K=5 @20/s', 'broadcast N=10']) {
      assert.match(stdout, new RegExp(`^${scenario.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'), `table lacks ${scenario}`);
    }
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as {
      rows: { scenario: string; metric: string; edgecam: number; baseline: number; error?: string }[];
      errors: string[];
    };
    assert.deepEqual(results.errors, []);
    const scenarios = new Set(results.rows.map((row) => row.scenario.split(' ')[0]));
    assert.deepEqual([...scenarios].sort(), ['broadcast', 'connect', 'idle', 'relay']);
    for (const row of results.rows) {
      assert.equal(typeof row.edgecam, 'number', `${row.scenario} ${row.metric}`);
      assert.equal(typeof row.baseline, 'number', `${row.scenario} ${row.metric}`);
    }
    // The fixed-rate relay also reports each turn's own p99: two turns per target in a smoke run.
    const rate = (results as unknown as { details: Record<string, Record<string, { turnP99: number[] }>> }).details
      .relay_rate_K5 as Record<string, { turnP99: number[] }>;
    for (const target of ['edgecam', 'pass', 'json']) {
      const turns = rate[target]?.turnP99 ?? [];
      assert.ok(turns.length === 2 && turns.every((p99) => p99 > 0), `${target} turnP99 ${JSON.stringify(turns)}`);
    }
    assert.match(readFileSync(join(out, 'latest.svg'), 'utf8'), /^<svg /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

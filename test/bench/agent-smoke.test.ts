import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnChild } from '../../scripts/child-process.ts';

/**
 * `npm run bench:agent` at toy size (`--smoke`): it runs to the end, a werift viewer receives the
 * agent's video, and the table and JSON say what was measured. The figures are not asserted.
 */

test('the agent bench runs end to end and reports CPU per watcher and per Mbit/s', async () => {
  const out = mkdtempSync(join(tmpdir(), 'edgecam-bench-agent-smoke-'));
  try {
    const bench = spawnChild([process.execPath, '--import', 'tsx', 'bench/agent-webrtc.ts', '--smoke', '--out', out]);
    const timer = setTimeout(() => bench.signal('SIGKILL'), 150_000);
    const code = await bench.exited;
    clearTimeout(timer);
    const [stdout, stderr] = [bench.output('stdout'), bench.output('stderr')];
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\| 1 Mbit\/s \| 1 \| [\d.]+ % \| [\d.]+ Mbit\/s \|/);
    assert.match(stdout, /the first viewer adds: -?[\d.]+ % of a core/);
    assert.match(stdout, /each further viewer adds \(least squares over 1\+ viewers\): -?[\d.]+ % of a core/);
    assert.match(
      stdout,
      /each further Mbit\/s delivered adds \(least squares over the rows with viewers\): -?[\d.]+ % of a core/,
    );
    const results = JSON.parse(readFileSync(join(out, 'agent-webrtc.json'), 'utf8'));
    const watched = results.rows.find((r: { watchers: number }) => r.watchers === 1);
    assert.ok(watched.deliveredMbps > 0.1, `the viewer received ${watched.deliveredMbps} Mbit/s`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Applier, ApplyQueue, type ApplyResult, commandApplier } from '../../src/agent/apply.ts';
import { createLogger } from '../../src/core/log.ts';
import type { State } from '../../src/core/state/keys.ts';

const log = createLogger('silent');
const dir = mkdtempSync(join(tmpdir(), 'edgecam-apply-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the command gets the full state as JSON on stdin; exit 0 and its last line are the answer', async () => {
  const out = join(dir, 'stdin.json');
  const applier = commandApplier(`cat > ${out}; echo first; echo "set $EDGECAM_FPS fps"`, log);
  const result = await applier.apply({ fps: 25, resolution: '1280x720', brightness: 60 });
  assert.deepEqual(result, { success: true, message: 'set 25 fps' });
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), { fps: 25, resolution: '1280x720', brightness: 60 });
});

test('a failing command reports its exit status and its last line, stderr when stdout is silent', async () => {
  const result = await commandApplier('echo "v4l2: invalid value" >&2; exit 3', log).apply({});
  assert.deepEqual(result, { success: false, message: 'apply failed (exit 3): v4l2: invalid value' });
});

test('a command that ignores stdin still works', async () => {
  assert.deepEqual(await commandApplier('true', log).apply({ fps: 30 }), { success: true, message: 'applied' });
});

test('a hung command is killed after the timeout, with everything it started', async () => {
  const started = Date.now();
  const result = await commandApplier('sleep 30 | sleep 31', log, 300).apply({});
  assert.equal(result.success, false);
  assert.match(result.message, /timed out after 0.3 s/);
  assert.ok(Date.now() - started < 5_000);
});

/** An applier that waits until told, to see what the queue does meanwhile. */
function manualApplier() {
  const runs: { state: State; finish: (r: ApplyResult) => void }[] = [];
  let wake: () => void = () => {};
  const applier: Applier = {
    apply: (state) =>
      new Promise((finish) => {
        runs.push({ state, finish });
        wake();
      }),
    stop: async () => {},
  };
  const nextRun = async (count: number) => {
    while (runs.length < count) await new Promise<void>((resolve) => (wake = resolve));
    return runs[count - 1] as (typeof runs)[number];
  };
  return { applier, runs, nextRun };
}

test('runs never overlap, and changes that arrive meanwhile make exactly one more run with the latest state', async () => {
  const { applier, runs, nextRun } = manualApplier();
  let desired: State = { fps: 30 };
  const done: { ids: (string | undefined)[]; superseded: boolean; state: State }[] = [];
  const queue = new ApplyQueue(
    applier,
    () => desired,
    (_r, state, ids, superseded) => done.push({ ids, superseded, state }),
  );
  queue.request('a');
  const first = await nextRun(1);
  desired = { fps: 25 };
  queue.request('b');
  desired = { fps: 20 };
  queue.request(undefined);
  assert.equal(runs.length, 1, 'no second run while the first is in progress');
  first.finish({ success: true, message: 'ok' });
  const second = await nextRun(2);
  assert.deepEqual(second.state, { fps: 20 });
  second.finish({ success: true, message: 'ok' });
  await queue.idle();
  assert.equal(runs.length, 2);
  assert.deepEqual(done, [
    { ids: ['a'], superseded: true, state: { fps: 30 } },
    { ids: ['b', undefined], superseded: false, state: { fps: 20 } },
  ]);
  assert.equal(queue.busy, false);
});

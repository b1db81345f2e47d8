import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { Backoff } from '../../src/agent/backoff.ts';
import { commandStream, StreamSupervisor, simulatedStream } from '../../src/agent/stream.ts';
import { createLogger } from '../../src/core/log.ts';
import { eventually } from '../helpers/eventually.ts';

/** The supervisor against real processes: each start appends "start <pid> <fps>" to a file. */

const log = createLogger('silent');
const dir = mkdtempSync(join(tmpdir(), 'edgecam-stream-'));
const state = { resolution: '1280x720', fps: 30, bitrate: '2M', encoding: 'h264', brightness: 50 };
let supervisors: StreamSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.map((s) => s.shutdown()));
  supervisors = [];
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
// `exec`: the shell becomes the sleep, so nothing is orphaned and the tests do not wait for init to reap.
const single = (file: string) => `echo "start $$ $EDGECAM_FPS $EDGECAM_WIDTH $EDGECAM_BITRATE_BPS" >> ${file}; exec sleep 1000`;
const pipeline = (file: string) => `echo "start $$ $EDGECAM_FPS $EDGECAM_WIDTH" >> ${file}; sleep 1000 | sleep 1000`;

function setup(script = single, logger = log) {
  const file = join(dir, `starts-${n++}.log`);
  const supervisor = new StreamSupervisor(commandStream(script(file)), state, logger, {
    backoff: new Backoff({ baseMs: 50, capMs: 200, jitter: false }),
  });
  supervisors.push(supervisor);
  // Lines only: the shell creates the file before it writes to it, so a read can find it empty.
  const starts = () =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('start '))
          .map((line) => line.split(' ').slice(1))
      : [];
  return { supervisor, starts };
}

const waitFor = <T>(what: string, check: () => T) => eventually(what, check, { ms: 3_000, everyMs: 25 });

/** True while any process of the group is alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('start runs the command with the settings in its environment', async () => {
  const { supervisor, starts } = setup();
  assert.match(await supervisor.start(), /^stream started \(pid \d+\)$/);
  const [line] = await waitFor('the first start', () => starts().length === 1 && starts());
  assert.deepEqual(line?.slice(1), ['30', '1280', '2000000']);
  assert.equal(supervisor.status().running, true);
  assert.match(await supervisor.start(), /already running/);
});

test('stop kills the whole pipeline, and it stays stopped', async () => {
  const { supervisor, starts } = setup(pipeline);
  await supervisor.start();
  await waitFor('the start', () => starts().length === 1);
  const pid = supervisor.status().pid as number;
  assert.equal(groupAlive(pid), true);
  assert.equal(await supervisor.stop(), 'stream stopped');
  assert.equal(groupAlive(pid), false, 'both halves of the pipeline are gone');
  // Proving nothing happens: longer than the longest restart delay here (200 ms).
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(starts().length, 1);
  assert.deepEqual(supervisor.status(), { wanted: false, running: false, pid: undefined });
});

test('a stream that dies is started again, and its leftovers are killed', async () => {
  const { supervisor, starts } = setup(pipeline);
  await supervisor.start();
  await waitFor('the start', () => starts().length === 1);
  const pid = supervisor.status().pid as number;
  process.kill(pid, 'SIGKILL'); // the shell only: its `sleep | sleep` would be orphaned
  await waitFor('a restart', () => starts().length === 2);
  await waitFor('the old group to be gone', () => !groupAlive(pid));
  assert.notEqual(supervisor.status().pid, pid);
});

test('a change of fps restarts it with the new value; a change of brightness does not', async () => {
  const { supervisor, starts } = setup();
  await supervisor.start();
  await waitFor('the start', () => starts().length === 1);
  await supervisor.update({ ...state, brightness: 80 });
  await supervisor.update({ ...state, brightness: 80, fps: 25 });
  const lines = await waitFor('a restart', () => starts().length === 2 && starts());
  assert.equal(lines[1]?.[1], '25');
});

test('settings changed while stopped are used by the next start', async () => {
  const { supervisor, starts } = setup();
  await supervisor.update({ ...state, fps: 15 });
  assert.equal(starts().length, 0);
  await supervisor.start();
  const lines = await waitFor('the start', () => starts().length === 1 && starts());
  assert.equal(lines[0]?.[1], '15');
});

test('restart stops and starts it, even when it was stopped', async () => {
  const { supervisor, starts } = setup();
  await supervisor.start();
  await waitFor('the start', () => starts().length === 1);
  const pid = supervisor.status().pid as number;
  assert.match(await supervisor.restart(), /^stream restarted/);
  assert.equal(groupAlive(pid), false);
  await waitFor('the restart', () => starts().length === 2);
  await supervisor.stop();
  await supervisor.restart();
  await waitFor('a start after a stop', () => starts().length === 3);
  assert.equal(supervisor.status().wanted, true);
});

test('a command that keeps failing is retried with growing delays, up to the cap', async () => {
  const lines: string[] = [];
  // Each start notes when it ran (ms): the gaps between them must be at least the announced delays.
  const { supervisor, starts } = setup(
    (file) => `echo "start $$ $(date +%s%3N)" >> ${file}; exit 1`,
    createLogger('info', (line) => lines.push(line)),
  );
  await supervisor.start();
  await waitFor('five attempts', () => starts().length >= 5);
  await supervisor.stop();
  const delays = lines.flatMap((line) => /stream restarting in_ms=(\d+)/.exec(line)?.[1] ?? []).map(Number);
  // Backoff here: 50 ms doubling to 200 ms, no jitter.
  assert.deepEqual(delays.slice(0, 4), [50, 100, 200, 200]);
  const at = starts().map((line) => Number(line[1]));
  for (let i = 0; i < 4; i++) {
    const gap = (at[i + 1] as number) - (at[i] as number);
    assert.ok(gap >= (delays[i] as number) - 5, `start ${i + 2} came ${gap} ms after start ${i + 1}, not after ${delays[i]} ms`);
  }
});

test('the simulated stream needs no process and stops on request', async () => {
  const lines: string[] = [];
  const supervisor = new StreamSupervisor(
    simulatedStream(
      createLogger('info', (l) => lines.push(l)),
      20,
    ),
    state,
    log,
  );
  supervisors.push(supervisor);
  assert.equal(await supervisor.start(), 'stream started');
  await waitFor('a heartbeat', () => lines.some((l) => l.includes('simulate: stream heartbeat')));
  assert.equal(await supervisor.stop(), 'stream stopped');
});

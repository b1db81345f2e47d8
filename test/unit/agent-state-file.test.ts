import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadState, sameState, saveState } from '../../src/agent/state-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a missing file is a fresh start: nothing applied, streaming wanted', () => {
  assert.deepEqual(loadState(join(dir, 'none.json')), {
    ok: true,
    found: false,
    remembered: { applied: null, streamWanted: true },
  });
});

test('what is saved is loaded back, and no temporary file is left behind', () => {
  const path = join(dir, 'sub', 'state.json');
  saveState(path, { applied: { fps: 25, resolution: '1280x720', 'auto-exposure': false }, streamWanted: false });
  assert.deepEqual(loadState(path), {
    ok: true,
    found: true,
    remembered: { applied: { fps: 25, resolution: '1280x720', 'auto-exposure': false }, streamWanted: false },
  });
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['state.json']);
});

test('a torn or foreign file is reported, not trusted', () => {
  const torn = join(dir, 'torn.json');
  writeFileSync(torn, '{"applied": {"fps": 2');
  const loaded = loadState(torn);
  assert.equal(loaded.ok, false);
  const foreign = join(dir, 'foreign.json');
  writeFileSync(foreign, '{"applied": [1, 2]}');
  assert.equal(loadState(foreign).ok, false);
});

test('sameState compares keys and values, not order', () => {
  assert.equal(sameState({ a: 1, b: 'x' }, { b: 'x', a: 1 }), true);
  assert.equal(sameState({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(sameState({ a: 1, b: 2 }, { a: 1 }), false);
  assert.equal(sameState({ a: true }, { a: 'on' }), false);
  assert.equal(sameState(null, {}), false);
});

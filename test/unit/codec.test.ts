import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  carriesAny,
  decodeCommand,
  decodeStatus,
  encodeCommand,
  encodeStatus,
  settingsToChanges,
  stateToSettings,
} from '../../src/core/camera/codec.ts';
import { defaultState, type State } from '../../src/core/state/keys.ts';

describe('CameraSettings ↔ state', () => {
  test('every mapped key survives a round trip', () => {
    const state: State = { ...defaultState(), resolution: '1280x720', 'main-camera': 2, 'ai-confidence': 0.7, brightness: 0 };
    const changes = settingsToChanges(stateToSettings(state), state);
    for (const [key, value] of Object.entries(changes)) assert.deepEqual(value, state[key], key);
    assert.deepEqual(Object.keys(changes).sort(), [
      'ai-confidence',
      'ai-enabled',
      'ai-model',
      'auto-exposure',
      'bitrate',
      'brightness',
      'camera-name',
      'contrast',
      'encoding',
      'exposure-time',
      'fps',
      'main-camera',
      'quality',
      'resolution',
      'saturation',
      'sharpness',
    ]);
  });

  test('width alone keeps the current height; camera_index 0 is main-camera 1', () => {
    assert.deepEqual(settingsToChanges({ width: 640 }, { resolution: '1920x1080' }), { resolution: '640x1080' });
    assert.deepEqual(settingsToChanges({ cameraIndex: 0 }, {}), { 'main-camera': 1 });
  });

  test('keys the channel does not carry are left out', () => {
    assert.deepEqual(stateToSettings({ record: 'on', gain: 3 }), {});
    assert.equal(carriesAny({ record: 'on' }), false);
    assert.equal(carriesAny({ fps: 10 }), true);
  });
});

describe('decoding', () => {
  test('commands and statuses round trip', () => {
    const command = decodeCommand(encodeCommand({ command: 1, requestId: 'r' }));
    assert.deepEqual(command, { ok: true, message: { command: 1, settings: undefined, requestId: 'r' } });
    const status = decodeStatus(encodeStatus({ success: true, message: 'm', requestId: 'r', timestamp: 1_700_000_000_000 }));
    assert.ok(status.ok);
    assert.equal(status.message.timestamp, 1_700_000_000_000);
  });

  test('garbage and unknown command numbers are errors, never exceptions', () => {
    assert.equal(decodeCommand(new Uint8Array([0x0a, 0xff, 0xff, 0xff])).ok, false);
    assert.equal(decodeCommand(new Uint8Array([0x08, 0x09])).ok, false, 'command 9 does not exist');
    assert.equal(decodeStatus(new Uint8Array([0xff])).ok, false);
  });
});

test('the generated protobuf code is up to date with proto/camera_control.proto (npm run proto)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proto-'));
  try {
    execFileSync(process.execPath, ['scripts/gen-proto.mjs', dir], { cwd: new URL('../..', import.meta.url).pathname });
    for (const file of ['camera_control.js', 'camera_control.d.ts']) {
      const fresh = readFileSync(join(dir, file), 'utf8');
      const committed = readFileSync(new URL(`../../src/core/camera/generated/${file}`, import.meta.url), 'utf8');
      assert.equal(committed, fresh, `${file} differs: run npm run proto`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

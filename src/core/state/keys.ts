import * as v from 'valibot';
import type { Role } from '../auth/tokens.ts';

/**
 * The camera state: every key, its type and range, how input is normalised, its default, and who may
 * read and write it. One table for every protocol; docs/state.md and GET /api/schema are made from it.
 * Names are seed 002's; seed 001's CameraSettings fields got kebab-case names.
 */

export type Value = number | string | boolean;
export type State = Record<string, Value>;

/** Who may write: a role (and those above it), or only the device's own reports. */
export type Writer = Role | 'device';

export interface KeyDef {
  key: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'enum' | 'trigger';
  description: string;
  default: Value | null;
  min?: number;
  max?: number;
  values?: readonly string[];
  pattern?: string;
  /** Accepted input that is not the canonical value, e.g. "on" for true. */
  accepts?: readonly (string | boolean)[];
  write: Writer;
  /** Not stored: a trigger forwarded to the device. */
  trigger?: boolean;
  schema: v.GenericSchema<unknown, Value>;
}

const rangeMessage = (min: number, max: number) => `Value must be between ${min} and ${max}`;

const int = (min: number, max: number) =>
  v.pipe(
    v.number('Value must be a number'),
    v.integer('Value must be a whole number'),
    v.minValue(min, rangeMessage(min, max)),
    v.maxValue(max, rangeMessage(min, max)),
  );

const onOff = v.union(
  [
    v.boolean(),
    v.pipe(
      v.picklist(['on', 'off']),
      v.transform((s) => s === 'on'),
    ),
  ],
  'Value must be true, false, "on" or "off"',
);

const printable = (max: number) =>
  v.pipe(
    v.string('Value must be a string'),
    v.minLength(1, 'Value must not be empty'),
    v.maxLength(max, `Value must be at most ${max} characters`),
    v.regex(/^[\x20-\x7E\u00A0-\uFFFF]+$/, 'Value must be printable characters'),
    v.check(wellFormed, 'Value must be well-formed Unicode (a lone surrogate is not)'),
  );

const resolution = v.pipe(
  v.string('Value must be a string like "1920x1080"'),
  v.regex(/^\d{3,4}x\d{3,4}$/, 'Value must look like "1920x1080"'),
  v.check((s) => {
    const [w, h] = s.split('x').map(Number) as [number, number];
    return w >= 160 && w <= 7680 && h >= 120 && h <= 4320;
  }, 'Width must be between 160 and 7680 and height between 120 and 4320'),
);

/**
 * No lone UTF-16 surrogate: such a string has no UTF-8 form, so the protobuf channel would send bytes
 * strict decoders (protobufjs among them) refuse. With the `u` flag a paired surrogate is one code point.
 */
export function wellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

/** "800k", "2M", "1.5M": bits per second between 100k and 50M. */
export function bitrateBits(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([kKmM])$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * (match[2]?.toLowerCase() === 'k' ? 1_000 : 1_000_000);
}
const bitrate = v.pipe(
  v.string('Value must be a string like "800k" or "2M"'),
  v.check((s) => bitrateBits(s) !== null, 'Value must look like "800k" or "2M"'),
  v.check((s) => {
    const bits = bitrateBits(s) as number;
    return bits >= 100_000 && bits <= 50_000_000;
  }, 'Value must be between 100k and 50M'),
);

const record = v.union(
  [
    v.pipe(
      v.picklist(['on', 'off', 'pause']),
      v.transform((s) => s as string),
    ),
    v.pipe(
      v.literal('pause_release'),
      v.transform(() => 'on'),
    ),
    v.pipe(
      v.boolean(),
      v.transform((b) => (b ? 'on' : 'off')),
    ),
  ],
  'Value must be "on", "off", "pause", "pause_release", true or false',
);

type Def = Omit<KeyDef, 'key'>;

const percent = (description: string, fallback: number): Def => ({
  type: 'integer',
  description,
  default: fallback,
  min: 0,
  max: 100,
  write: 'operator',
  schema: int(0, 100),
});
const flag = (description: string, fallback: boolean, write: Writer = 'operator'): Def => ({
  type: 'boolean',
  description,
  default: fallback,
  accepts: ['on', 'off'],
  write,
  schema: onOff,
});

const table: Record<string, Def> = {
  brightness: percent('Image brightness', 50),
  contrast: percent('Image contrast', 50),
  saturation: percent('Colour saturation', 50),
  sharpness: percent('Image sharpness', 50),
  gain: percent('Sensor gain / ISO', 50),
  'red-gain': percent('Red channel gain', 50),
  'blue-gain': percent('Blue channel gain', 50),
  'jpeg-quality': percent('JPEG quality of snapshots', 85),
  quality: percent('Encoder quality', 80),
  resolution: {
    type: 'string',
    description: 'Video resolution, "WxH" (W 160–7680, H 120–4320)',
    default: '1920x1080',
    pattern: '^\\d{3,4}x\\d{3,4}$',
    write: 'operator',
    schema: resolution,
  },
  fps: { type: 'integer', description: 'Frames per second', default: 30, min: 5, max: 60, write: 'operator', schema: int(5, 60) },
  bitrate: {
    type: 'string',
    description: 'Video bitrate, e.g. "800k" or "2M" (100k–50M)',
    default: '2M',
    pattern: '^\\d+(\\.\\d+)?[kKmM]$',
    write: 'operator',
    schema: bitrate,
  },
  encoding: {
    type: 'enum',
    description: 'Video codec',
    default: 'h264',
    values: ['h264', 'h265'],
    write: 'operator',
    schema: v.picklist(['h264', 'h265'], 'Value must be "h264" or "h265"'),
  },
  'auto-exposure': flag('Automatic exposure', true),
  'auto-white-balance': flag('Automatic white balance', true),
  'noise-supression': flag('Noise reduction', false),
  'exposure-time': {
    type: 'integer',
    description: 'Exposure time in microseconds (used when auto-exposure is off)',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    write: 'operator',
    schema: int(1, 1_000_000),
  },
  'ai-enabled': flag('AI features enabled', false),
  'ai-model': {
    type: 'string',
    description: 'AI model name, e.g. "object_detection"',
    default: 'object_detection',
    pattern: '^[a-z0-9_-]{1,64}$',
    write: 'operator',
    schema: v.pipe(v.string('Value must be a string'), v.regex(/^[a-z0-9_-]{1,64}$/, 'Value must be 1-64 of a-z 0-9 _ -')),
  },
  'ai-confidence': {
    type: 'number',
    description: 'AI detection confidence threshold',
    default: 0.5,
    min: 0,
    max: 1,
    write: 'operator',
    schema: v.pipe(v.number('Value must be a number'), v.minValue(0, rangeMessage(0, 1)), v.maxValue(1, rangeMessage(0, 1))),
  },
  'camera-name': {
    type: 'string',
    description: 'Camera display name (admin only)',
    default: 'Camera',
    pattern: '^.{1,64}$',
    write: 'admin',
    schema: printable(64),
  },
  'main-camera': {
    type: 'integer',
    description: 'Active camera (1 or 2)',
    default: 1,
    min: 1,
    max: 2,
    write: 'operator',
    schema: int(1, 2),
  },
  'cam1-light': flag('Camera 1 light', false),
  'cam2-light': flag('Camera 2 light', false),
  'cam1-sensor': {
    type: 'integer',
    description: 'Camera 1 sensor (1-based)',
    default: 1,
    min: 1,
    max: 8,
    write: 'operator',
    schema: int(1, 8),
  },
  'cam2-sensor': {
    type: 'integer',
    description: 'Camera 2 sensor (1-based)',
    default: 1,
    min: 1,
    max: 8,
    write: 'operator',
    schema: int(1, 8),
  },
  'pip-mode': {
    type: 'string',
    description: 'Picture-in-picture mode',
    default: 'off',
    pattern: '^.{1,32}$',
    write: 'operator',
    schema: printable(32),
  },
  record: {
    type: 'enum',
    description: 'Recording: "on", "off" or "pause" (true/false and "pause_release" → "on" accepted)',
    default: 'off',
    values: ['on', 'off', 'pause'],
    accepts: [true, false, 'pause_release'],
    write: 'operator',
    schema: record,
  },
  snap: {
    type: 'trigger',
    description: 'Take a snapshot: send true; forwarded to the device, not stored',
    default: null,
    write: 'operator',
    trigger: true,
    schema: v.literal(true, 'Value must be true'),
  },
  'cam1-exists': flag('Camera 1 detected (read-only: reported by the device)', false, 'device'),
  'cam2-exists': flag('Camera 2 detected (read-only: reported by the device)', false, 'device'),
};

export const KEYS: readonly KeyDef[] = Object.entries(table).map(([key, def]) => ({ key, ...def }));

const byName = new Map(KEYS.map((def) => [def.key, def]));

/** The definition of `key`; Map lookup, so `__proto__` and friends are simply unknown. */
export function keyDef(key: string): KeyDef | undefined {
  return byName.get(key);
}

export function defaultState(): State {
  const state: State = {};
  for (const def of KEYS) if (!def.trigger) state[def.key] = def.default as Value;
  return state;
}

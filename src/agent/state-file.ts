import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import * as v from 'valibot';
import type { State } from '../core/state/keys.ts';

/**
 * What the agent remembers across restarts: the last state `--apply` accepted, and whether streaming
 * is wanted. With it a restart is quiet (no re-apply when the server's state is what was applied) and
 * a stream someone stopped stays stopped.
 *
 * Written atomically (temporary file, fsync, rename): a Pi loses power mid-write, and a torn file must
 * never be read back as a state.
 */

export interface Remembered {
  /** The last successfully applied state; null before the first success. */
  applied: State | null;
  streamWanted: boolean;
}

const Schema = v.object({
  applied: v.nullable(v.record(v.string(), v.union([v.number(), v.string(), v.boolean()]))),
  streamWanted: v.boolean(),
});

export const FRESH: Remembered = { applied: null, streamWanted: true };

export type Loaded = { ok: true; remembered: Remembered; found: boolean } | { ok: false; error: string };

/** A missing file is a fresh start; an unreadable one is reported so the caller can say so and start fresh. */
export function loadState(path: string): Loaded {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, remembered: { ...FRESH }, found: false };
    return { ok: false, error: (error as Error).message };
  }
  try {
    const parsed = v.safeParse(Schema, JSON.parse(text));
    if (!parsed.success) return { ok: false, error: `unexpected content: ${parsed.issues[0]?.message}` };
    return { ok: true, remembered: parsed.output, found: true };
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}` };
  }
}

export function saveState(path: string, remembered: Remembered): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...remembered, saved_at: new Date().toISOString() }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Same keys, same values: the server wants exactly what was last applied. */
export function sameState(a: State | null, b: State): boolean {
  if (!a) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

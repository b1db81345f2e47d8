import * as v from 'valibot';
import { atLeast } from '../auth/roles.ts';
import type { Role } from '../auth/tokens.ts';
import { KEYS, type KeyDef, keyDef, type State, type Value } from './keys.ts';

/** Who is asking, and what they may read and write: the rules every protocol shares. */

export type Actor = { kind: 'user'; username: string; role: Role } | { kind: 'anonymous' } | { kind: 'device' };

/** The error shapes of seed 002, used as they are by /api/v1 and HTTP and carried by envelope errors. */
export type StateError =
  | { error: 'Unknown key'; key: string }
  | { error: 'Permission denied'; key: string }
  | { error: 'Invalid value'; key: string; message: string };

export type Validated = { ok: true; changes: State; triggers: string[] } | { ok: false; error: StateError };

export function canRead(actor: Actor, anonymousRead: boolean): boolean {
  return actor.kind !== 'anonymous' || anonymousRead;
}

export function canWrite(actor: Actor, def: KeyDef): boolean {
  // The device reports what it actually applied, read-only keys included.
  if (actor.kind === 'device') return !def.trigger;
  if (actor.kind !== 'user' || def.write === 'device') return false;
  return atLeast(actor.role, def.write);
}

export function permissions(actor: Actor, anonymousRead: boolean): { read: string[]; write: string[] } {
  return {
    read: canRead(actor, anonymousRead) ? KEYS.map((def) => def.key) : [],
    write: KEYS.filter((def) => canWrite(actor, def)).map((def) => def.key),
  };
}

/**
 * Checks a whole batch before anything is applied (all or nothing): every key known, writable by
 * `actor`, and valid. Returns canonical values ("on" → true, "pause_release" → "on") and triggers apart.
 */
export function validateChanges(actor: Actor, input: Record<string, unknown>): Validated {
  const changes: State = {};
  const triggers: string[] = [];
  for (const key of Object.keys(input)) {
    const def = keyDef(key);
    if (!def) return { ok: false, error: { error: 'Unknown key', key } };
    if (!canWrite(actor, def)) return { ok: false, error: { error: 'Permission denied', key } };
    const parsed = v.safeParse(def.schema, input[key]);
    if (!parsed.success)
      return { ok: false, error: { error: 'Invalid value', key, message: parsed.issues[0]?.message ?? 'Invalid value' } };
    if (def.trigger) triggers.push(key);
    else changes[key] = parsed.output as Value;
  }
  return { ok: true, changes, triggers };
}

/**
 * A batch of changes as it arrived: any JSON object, each of its own keys checked by
 * `validateChanges`. Not `v.record`: that drops keys like `__proto__`, so such a batch would pass as an
 * empty change; here it is refused as "Unknown key", as on /api/v1.
 */
export const Changes = (message: string) =>
  v.custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), message);

/**
 * The first key of a batch no state key has (`__proto__` included), or null. Checked where a batch
 * enters, before it travels to its device room: an RPC's copy may not keep a key named `__proto__`.
 */
export function unknownChangeKey(input: Record<string, unknown>): string | null {
  for (const key of Object.keys(input)) if (!keyDef(key)) return key;
  return null;
}

/** For a `get`: the first key that is unknown, or null when all are known. */
export function unknownKey(keys: readonly string[]): string | null {
  for (const key of keys) if (!keyDef(key) || keyDef(key)?.trigger) return key;
  return null;
}

/**
 * Values saved for later (a preset, a schedule): checked as `actor`'s change would be now, and again
 * when applied. A trigger is an action, not a value to keep: it is refused.
 */
export function checkSavedValues(
  actor: Actor,
  input: Record<string, unknown>,
): { ok: true; values: State } | { ok: false; error: StateError } {
  const unknown = unknownChangeKey(input);
  if (unknown !== null) return { ok: false, error: { error: 'Unknown key', key: unknown } };
  const checked = validateChanges(actor, input);
  if (!checked.ok) return checked;
  const [trigger] = checked.triggers;
  if (trigger)
    return { ok: false, error: { error: 'Invalid value', key: trigger, message: `${trigger} is an action: it cannot be saved` } };
  if (Object.keys(checked.changes).length === 0)
    return { ok: false, error: { error: 'Invalid value', key: '', message: 'values must set at least one key' } };
  return { ok: true, values: checked.changes };
}

import * as v from 'valibot';
import { KEYS, type KeyDef } from '../../state/keys.ts';

/**
 * The camera state as one object, made from each key's own schema (state/keys.ts): what the OpenAPI
 * document says a state, a change, a preset's values and a history entry hold. Every key is optional
 * (a change names some) and no other is allowed (a change with one is refused as "Unknown key").
 */
export const CameraState = v.pipe(
  v.strictObject(Object.fromEntries(KEYS.map((def) => [def.key, v.optional(v.pipe(def.schema, v.description(about(def))))]))),
  v.description('Camera-state keys and values (docs/state.md); a change names only the keys it changes.'),
);

function about(def: KeyDef): string {
  const who = def.write === 'device' ? 'read-only: set by the device' : `written by ${def.write}+`;
  return `${def.description} (${who})`;
}

import * as v from 'valibot';
import { KEYS } from '../../state/keys.ts';

/**
 * The camera state as one object, made from each key's own schema (state/keys.ts): what the OpenAPI
 * document says a state, a change, a preset's values and a history entry hold. Every key is optional
 * (a change names some) and no other is allowed (a change with one is refused as "Unknown key").
 */
export const CameraState = v.pipe(
  v.strictObject(
    Object.fromEntries(KEYS.map((def) => [def.key, v.optional(v.pipe(def.schema, v.description(def.description)))])),
  ),
  v.description(
    'Camera-state keys and values (docs/state.md); a change names only the keys it changes. Writing needs the operator role, except ' +
      KEYS.filter((def) => def.write !== 'operator')
        .map((def) => `${def.key} (${def.write === 'device' ? "the device's reports only" : def.write})`)
        .join(', ') +
      '.',
  ),
);

import type { Context } from 'hono';
import * as v from 'valibot';
import { describeIssues } from '../envelope/schema.ts';
import type { StateError } from '../state/model.ts';

/** The request's JSON body checked against `schema`, or the 400 that says what was wrong with it. */
export async function readBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S> | Response> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    return c.json({ error: 'Invalid JSON body', hint: 'send a JSON object with Content-Type: application/json' }, 400);
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) return c.json({ error: 'Invalid request', message: describeIssues(parsed.issues, 'body') }, 400);
  return parsed.output;
}

/** The status of a refused change: the seed's 403 for a key this user may not write, else 400. */
export function stateErrorStatus(error: StateError): 400 | 403 {
  return error.error === 'Permission denied' ? 403 : 400;
}

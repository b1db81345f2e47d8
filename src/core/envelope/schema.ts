import * as v from 'valibot';
import { wellFormed } from '../state/keys.ts';
import { Changes } from '../state/model.ts';

/**
 * The envelope protocol of seed 003: `{type, request_id?, ts, payload}`. Every inbound frame is checked
 * here before anything else touches it: first the envelope, then the payload schema of its type.
 * Clients may omit `ts` (we stamp our own on everything we send).
 */

const Id = (what: string) =>
  v.pipe(
    v.string(`${what} must be a string`),
    v.minLength(1, `${what} must not be empty`),
    v.maxLength(128, `${what} is too long`),
  );

export const DeviceId = v.pipe(
  v.string('device_id must be a string'),
  v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'device_id must be 1-64 characters of A-Z a-z 0-9 . _ -'),
);

export const Envelope = v.object({
  type: v.pipe(v.string('type must be a string'), v.maxLength(64, 'type is too long')),
  request_id: v.optional(Id('request_id')),
  ts: v.optional(v.string('ts must be an ISO 8601 string')),
  // Any object but an array; its fields are checked by the payload schema of the type. Not copied
  // (as v.record would, on every relayed frame): JSON.parse made it, nothing else holds it.
  payload: v.optional(
    v.custom<Record<string, unknown>>(
      (p) => typeof p === 'object' && p !== null && !Array.isArray(p),
      'payload must be an object',
    ),
    {},
  ),
});
export type Envelope = v.InferOutput<typeof Envelope>;

/** Text that is passed on (to viewers, to protobuf controllers): bounded and well-formed Unicode. */
const Text = (what: string, max: number) =>
  v.pipe(
    v.string(`${what} must be a string`),
    v.maxLength(max, `${what} is too long (at most ${max})`),
    v.check(wellFormed, `${what} must be well-formed Unicode`),
  );

const SessionId = Id('session_id');
const Sdp = v.object({
  type: v.picklist(['offer', 'answer', 'pranswer', 'rollback'], 'sdp.type must be offer, answer, pranswer or rollback'),
  sdp: v.optional(v.string('sdp.sdp must be a string')),
});
const Candidate = v.nullable(
  v.object({
    candidate: v.string('candidate.candidate must be a string'),
    sdpMid: v.optional(v.nullable(v.string())),
    sdpMLineIndex: v.optional(v.nullable(v.number())),
    usernameFragment: v.optional(v.nullable(v.string())),
  }),
);

export const Payloads = {
  deviceHello: v.object({ device_id: DeviceId, key: v.pipe(v.string('key must be a string'), v.maxLength(256)) }),
  viewerHello: v.object({ token: v.pipe(v.string('token must be a string'), v.maxLength(4096)) }),
  heartbeat: v.object({}),
  watchRequest: v.object({ device_id: DeviceId }),
  signalSdp: v.object({ session_id: SessionId, sdp: Sdp }),
  signalIce: v.object({ session_id: SessionId, candidate: Candidate }),
  endWatch: v.object({
    session_id: SessionId,
    // A device says why it cannot serve the session; the viewer sees it in watch_ended.
    message: v.optional(Text('message', 512)),
  }),
  subscribe: v.object({
    device_ids: v.pipe(v.array(DeviceId, 'device_ids must be a list of device ids'), v.minLength(1), v.maxLength(256)),
    // The last seq seen per device, to catch up from after a reconnect.
    since: v.optional(v.record(DeviceId, v.pipe(v.number(), v.integer(), v.minValue(0)))),
  }),
  unsubscribe: v.object({ device_ids: v.pipe(v.array(DeviceId, 'device_ids must be a list of device ids'), v.maxLength(256)) }),
  stateGet: v.object({ device_id: DeviceId, since: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))) }),
  stateSet: v.object({
    device_id: DeviceId,
    changes: Changes('changes must be an object of key: value'),
  }),
  status: v.object({
    // On the envelope, or echoed in the payload as `command` and `settings` carry it.
    request_id: v.optional(Id('request_id')),
    success: v.optional(v.boolean('success must be true or false')),
    message: v.optional(Text('message', 1024)),
    state: v.optional(Changes('state must be an object of key: value')),
  }),
  // Presence is the device's own metadata (battery, temperature…): any flat object, kept small.
  presence: v.pipe(
    v.record(
      v.pipe(v.string(), v.maxLength(64)),
      v.union(
        [Text('a presence value', 1024), v.number(), v.boolean(), v.null()],
        'presence values must be strings, numbers, booleans or null',
      ),
    ),
    v.check((p) => Object.keys(p).length <= 32, 'presence has at most 32 fields'),
  ),
};

/** "payload.device_id: device_id must be …" — the first problem, said plainly. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], root: string): string {
  const issue = issues[0];
  if (!issue) return 'invalid';
  const path = issue.path?.map((item) => String(item.key)).join('.');
  return `${path ? `${root}.${path}` : root}: ${issue.message}`;
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorFrame, frame } from '../../src/core/envelope/frame.ts';

let nowMs = Date.UTC(2026, 11, 7, 12, 0, 0, 123);
const clock = { now: () => nowMs };

describe('frame', () => {
  test("is JSON with type, the clock's time as an ISO 8601 ts, and the payload", () => {
    const parsed = JSON.parse(frame(clock, 'hello_ack', { device_id: 'cam-1', n: 2, nested: { ok: true } }));
    assert.equal(parsed.type, 'hello_ack');
    assert.equal(parsed.ts, '2026-12-07T12:00:00.123Z');
    assert.deepEqual(parsed.payload, { device_id: 'cam-1', n: 2, nested: { ok: true } });
  });

  test('stamps each frame with the time it is made, to the millisecond', () => {
    const first = JSON.parse(frame(clock, 'heartbeat_ack', {})).ts;
    nowMs += 1;
    const second = JSON.parse(frame(clock, 'heartbeat_ack', {})).ts;
    assert.deepEqual([first, second], ['2026-12-07T12:00:00.123Z', '2026-12-07T12:00:00.124Z']);
    nowMs -= 1;
  });

  test('has no request_id when none is given', () => {
    const parsed = JSON.parse(frame(clock, 'heartbeat_ack', {}));
    assert.deepEqual(Object.keys(parsed).sort(), ['payload', 'ts', 'type']);
  });

  test('echoes request_id when given', () => {
    assert.equal(JSON.parse(frame(clock, 'heartbeat_ack', {}, 'req-1')).request_id, 'req-1');
  });

  test('echoes an empty request_id rather than dropping it', () => {
    assert.equal(JSON.parse(frame(clock, 'heartbeat_ack', {}, '')).request_id, '');
  });

  test('escapes a hostile request_id so it cannot add fields', () => {
    const hostile = '","type":"evil","x":"\\\n\u2028</script>';
    const parsed = JSON.parse(frame(clock, 'heartbeat_ack', {}, hostile));
    assert.equal(parsed.request_id, hostile);
    assert.equal(parsed.type, 'heartbeat_ack');
    assert.equal('x' in parsed, false);
  });

  test('escapes strings inside the payload', () => {
    const parsed = JSON.parse(frame(clock, 'watch_ended', { reason: 'a "quoted"\nreason' }));
    assert.equal(parsed.payload.reason, 'a "quoted"\nreason');
  });
});

describe('errorFrame', () => {
  test('is an error frame with message and code in the payload and the request_id echoed', () => {
    const parsed = JSON.parse(errorFrame(clock, 'session_not_found', 'Session not found', 'r7'));
    assert.equal(parsed.type, 'error');
    assert.equal(parsed.request_id, 'r7');
    assert.deepEqual(parsed.payload, { message: 'Session not found', code: 'session_not_found' });
  });
});

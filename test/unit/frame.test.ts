import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorFrame, frame } from '../../src/core/envelope/frame.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('frame', () => {
  test('is JSON with type, an ISO 8601 ts and the payload', () => {
    const before = Date.now();
    const parsed = JSON.parse(frame('hello_ack', { device_id: 'cam-1', n: 2, nested: { ok: true } }));
    assert.equal(parsed.type, 'hello_ack');
    assert.match(parsed.ts, ISO);
    assert.ok(Date.parse(parsed.ts) >= before - 1 && Date.parse(parsed.ts) <= Date.now() + 1);
    assert.deepEqual(parsed.payload, { device_id: 'cam-1', n: 2, nested: { ok: true } });
  });

  test('has no request_id when none is given', () => {
    const parsed = JSON.parse(frame('heartbeat_ack', {}));
    assert.deepEqual(Object.keys(parsed).sort(), ['payload', 'ts', 'type']);
  });

  test('echoes request_id when given', () => {
    assert.equal(JSON.parse(frame('heartbeat_ack', {}, 'req-1')).request_id, 'req-1');
  });

  test('echoes an empty request_id rather than dropping it', () => {
    assert.equal(JSON.parse(frame('heartbeat_ack', {}, '')).request_id, '');
  });

  test('escapes a hostile request_id so it cannot add fields', () => {
    const hostile = '","type":"evil","x":"\\\n\u2028</script>';
    const parsed = JSON.parse(frame('heartbeat_ack', {}, hostile));
    assert.equal(parsed.request_id, hostile);
    assert.equal(parsed.type, 'heartbeat_ack');
    assert.equal('x' in parsed, false);
  });

  test('escapes strings inside the payload', () => {
    const parsed = JSON.parse(frame('watch_ended', { reason: 'a "quoted"\nreason' }));
    assert.equal(parsed.payload.reason, 'a "quoted"\nreason');
  });
});

describe('errorFrame', () => {
  test('is an error frame with message and code in the payload and the request_id echoed', () => {
    const parsed = JSON.parse(errorFrame('session_not_found', 'Session not found', 'r7'));
    assert.equal(parsed.type, 'error');
    assert.equal(parsed.request_id, 'r7');
    assert.deepEqual(parsed.payload, { message: 'Session not found', code: 'session_not_found' });
  });
});

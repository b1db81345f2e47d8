import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as v from 'valibot';
import { describeIssues, Envelope, Payloads } from '../../src/core/envelope/schema.ts';

describe('Envelope', () => {
  test('accepts a hello with request_id, ts and payload, as the seed shows it', () => {
    const hello = {
      type: 'hello',
      request_id: 'abc123',
      ts: '2024-01-15T10:30:00Z',
      payload: { device_id: 'camera-01', key: 'secret-device-key' },
    };
    const result = v.safeParse(Envelope, hello);
    assert.ok(result.success);
    assert.deepEqual(result.output, hello);
  });

  test('accepts a message without ts', () => {
    assert.equal(v.safeParse(Envelope, { type: 'heartbeat', payload: {} }).success, true);
  });

  test('fills a missing payload with an empty object', () => {
    const result = v.safeParse(Envelope, { type: 'heartbeat' });
    assert.ok(result.success);
    assert.deepEqual(result.output.payload, {});
  });

  test('rejects a message without type', () => {
    assert.equal(v.safeParse(Envelope, { payload: {} }).success, false);
  });

  test('rejects a type that is not a string', () => {
    assert.equal(v.safeParse(Envelope, { type: 7, payload: {} }).success, false);
  });

  for (const payload of ['text', 42, true, null, [], [{ device_id: 'cam' }]]) {
    test(`rejects a non-object payload: ${JSON.stringify(payload)}`, () => {
      const result = v.safeParse(Envelope, { type: 'hello', payload });
      assert.equal(result.success, false);
      assert.equal(describeIssues(result.issues ?? [], 'message'), 'message.payload: payload must be an object');
    });
  }

  test('rejects an empty request_id', () => {
    assert.equal(v.safeParse(Envelope, { type: 'heartbeat', request_id: '', payload: {} }).success, false);
  });

  test('rejects a request_id over 128 characters', () => {
    assert.equal(v.safeParse(Envelope, { type: 'heartbeat', request_id: 'r'.repeat(129) }).success, false);
  });

  test('rejects a non-object message', () => {
    for (const message of [null, 'hello', 1, []]) assert.equal(v.safeParse(Envelope, message).success, false);
  });
});

describe('Payloads.signalIce', () => {
  test('accepts a null candidate (end of candidates)', () => {
    assert.equal(v.safeParse(Payloads.signalIce, { session_id: 's-1', candidate: null }).success, true);
  });

  test('accepts a browser RTCIceCandidate as the seed shows it', () => {
    const payload = {
      session_id: 'sess-123',
      candidate: {
        candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0',
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'abcd',
      },
    };
    const result = v.safeParse(Payloads.signalIce, payload);
    assert.ok(result.success);
    assert.deepEqual(result.output, payload);
  });

  test('rejects a candidate without its candidate string', () => {
    assert.equal(v.safeParse(Payloads.signalIce, { session_id: 's-1', candidate: { sdpMid: '0' } }).success, false);
  });

  test('rejects a missing session_id', () => {
    assert.equal(v.safeParse(Payloads.signalIce, { candidate: null }).success, false);
  });
});

describe('Payloads.signalSdp', () => {
  test('accepts an offer', () => {
    const payload = { session_id: 's-1', sdp: { type: 'offer', sdp: 'v=0\r\n' } };
    assert.equal(v.safeParse(Payloads.signalSdp, payload).success, true);
  });

  test('rejects an unknown sdp type', () => {
    const payload = { session_id: 's-1', sdp: { type: 'hello', sdp: 'v=0\r\n' } };
    assert.equal(v.safeParse(Payloads.signalSdp, payload).success, false);
  });
});

describe('Payloads.deviceHello', () => {
  test('accepts a device id of letters, digits, dot, underscore and dash up to 64 characters', () => {
    for (const device_id of ['camera-01', 'a', 'A.b_c-9', 'x'.repeat(64)]) {
      assert.equal(v.safeParse(Payloads.deviceHello, { device_id, key: 'k' }).success, true, device_id);
    }
  });

  for (const device_id of ['has space', 'x'.repeat(65), '', 'slash/id', 'ümlaut', 'new\nline']) {
    test(`rejects the device id ${JSON.stringify(device_id.length > 20 ? `${device_id.length} chars` : device_id)}`, () => {
      assert.equal(v.safeParse(Payloads.deviceHello, { device_id, key: 'k' }).success, false);
    });
  }

  test('rejects a missing key', () => {
    assert.equal(v.safeParse(Payloads.deviceHello, { device_id: 'cam' }).success, false);
  });
});

describe('Payloads.presence', () => {
  test('accepts flat scalar values', () => {
    assert.equal(v.safeParse(Payloads.presence, { battery: 80, charging: true, name: 'cam', error: null }).success, true);
  });

  test('rejects nested objects', () => {
    assert.equal(v.safeParse(Payloads.presence, { nested: { a: 1 } }).success, false);
  });

  test('rejects more than 32 fields', () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    assert.equal(v.safeParse(Payloads.presence, many).success, false);
  });
});

describe('describeIssues', () => {
  test('names the path of the first problem under the given root', () => {
    const result = v.safeParse(Payloads.deviceHello, { device_id: 'has space', key: 'k' });
    assert.equal(result.success, false);
    assert.equal(
      describeIssues(result.issues ?? [], 'payload'),
      'payload.device_id: device_id must be 1-64 characters of A-Z a-z 0-9 . _ -',
    );
  });

  test('joins nested paths with dots', () => {
    const result = v.safeParse(Payloads.signalSdp, { session_id: 's', sdp: { type: 'nope' } });
    assert.equal(
      describeIssues(result.issues ?? [], 'payload'),
      'payload.sdp.type: sdp.type must be offer, answer, pranswer or rollback',
    );
  });

  test('uses the root alone for a problem with the value itself', () => {
    const result = v.safeParse(Payloads.deviceHello, 'not an object');
    assert.match(describeIssues(result.issues ?? [], 'payload'), /^payload: /);
  });

  test('says invalid when there are no issues', () => {
    assert.equal(describeIssues([], 'payload'), 'invalid');
  });
});

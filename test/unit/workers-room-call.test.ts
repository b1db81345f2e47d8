import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Metrics } from '../../src/core/metrics/metrics.ts';
import { roomsVia } from '../../src/core/rooms/index.ts';
import { roomCall } from '../../src/runtime/workers/room-call.ts';

/**
 * Calls between rooms on Workers: through one Durable Object stub per addressed room, kept, because
 * only calls made through the same stub are delivered in the order they were made.
 */

function fakeStubs() {
  const made: string[] = [];
  const received: string[] = [];
  let next: 'reject' | 'throw' | undefined;
  const answer = async (method: string, args: unknown[]) => {
    received.push(`${method} ${String(args[3])}`);
    return true;
  };
  const stubOf = (id: string) => {
    made.push(id);
    return {
      call: (_room: string, method: string, args: unknown[]) => {
        const failure = next;
        next = undefined;
        if (failure === 'throw') throw new TypeError('The RPC receiver does not implement the method.');
        if (failure === 'reject') return Promise.reject(new Error('Network connection lost.'));
        return answer(method, args);
      },
    };
  };
  return { stubOf, made, received, failNextCall: (how: 'reject' | 'throw') => (next = how) };
}

describe('Workers room calls', () => {
  test('every call to a room goes through the one stub its address keeps, in order', async () => {
    const { stubOf, made, received } = fakeStubs();
    const device = roomsVia(roomCall(stubOf), () => {}, new Metrics()).connection('device-side');
    await Promise.all(['ice 1', 'ice 2', 'ice 3'].map((text) => device.relay('viewer-side', 'session', 'cam', text)));
    assert.deepEqual(made, ['connection:device-side'], 'one stub for three calls');
    assert.deepEqual(received, ['relay ice 1', 'relay ice 2', 'relay ice 3']);
  });

  for (const how of ['reject', 'throw'] as const) {
    test(`a stub whose call failed (${how}) is dropped: the call rejects, the next makes a new stub`, async () => {
      const { stubOf, made, failNextCall } = fakeStubs();
      const device = roomsVia(roomCall(stubOf), () => {}, new Metrics()).connection('device-side');
      await device.relay('viewer-side', 'session', 'cam', 'ice 1');
      failNextCall(how);
      const failed = device.relay('viewer-side', 'session', 'cam', 'ice 2');
      assert.ok(failed instanceof Promise, 'a failure reaches the caller as a rejection, never as a throw');
      await assert.rejects(failed, how === 'throw' ? /does not implement/ : /Network connection lost/);
      assert.equal(await device.relay('viewer-side', 'session', 'cam', 'ice 3'), true);
      assert.deepEqual(made, ['connection:device-side', 'connection:device-side']);
    });
  }
});

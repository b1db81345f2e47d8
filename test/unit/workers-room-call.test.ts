import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roomsVia } from '../../src/core/rooms/index.ts';
import { roomCall } from '../../src/runtime/workers/room-call.ts';

/**
 * Calls between rooms on Workers: through one Durable Object stub per addressed room, kept, because
 * only calls made through the same stub are delivered in the order they were made.
 */

function fakeStubs() {
  const made: string[] = [];
  const received: string[] = [];
  let failNext = false;
  const stubOf = (id: string) => {
    made.push(id);
    return {
      call: async (_room: string, method: string, args: unknown[]) => {
        if (failNext) {
          failNext = false;
          throw new Error('Network connection lost.');
        }
        received.push(`${method} ${String(args[2])}`);
        return true;
      },
    };
  };
  return { stubOf, made, received, failNextCall: () => (failNext = true) };
}

describe('Workers room calls', () => {
  test('every call to a room goes through the one stub its address keeps, in order', async () => {
    const { stubOf, made, received } = fakeStubs();
    const device = roomsVia(roomCall(stubOf)).connection('device-side');
    await Promise.all(['ice 1', 'ice 2', 'ice 3'].map((text) => device.relay('viewer-side', 'session', text)));
    assert.deepEqual(made, ['connection:device-side'], 'one stub for three calls');
    assert.deepEqual(received, ['relay ice 1', 'relay ice 2', 'relay ice 3']);
  });

  test('a stub that threw is dropped: the next call makes a new one', async () => {
    const { stubOf, made, failNextCall } = fakeStubs();
    const device = roomsVia(roomCall(stubOf)).connection('device-side');
    await device.relay('viewer-side', 'session', 'ice 1');
    failNextCall();
    await assert.rejects(device.relay('viewer-side', 'session', 'ice 2'), /Network connection lost/);
    assert.equal(await device.relay('viewer-side', 'session', 'ice 3'), true);
    assert.deepEqual(made, ['connection:device-side', 'connection:device-side']);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/core/log.ts';
import type { Connection, RoomContext, Services } from '../../src/core/ports.ts';
import { dispatch, Room } from '../../src/core/room.ts';

/** No handler can throw into a runtime's socket loop: a failure closes that one socket with 1011. */

function fakeConnection() {
  const closes: [number, string][] = [];
  const conn: Connection = {
    id: 'c1',
    state: null,
    setState() {},
    send() {},
    close: (code, reason) => void closes.push([code, reason]),
  };
  return { conn, closes };
}

function context(lines: string[]): RoomContext {
  const log = createLogger('error', (line) => lines.push(line));
  return {
    id: 'test:room',
    storage: undefined as never,
    services: { log } as Services,
    connections: () => [],
    setAlarm() {},
    deleteAlarm() {},
  };
}

class Failing extends Room {
  override onMessage(_conn: Connection, data: string | ArrayBuffer): void | Promise<void> {
    if (data === 'throw') throw new Error('boom');
    if (data === 'reject') return Promise.reject(new Error('async boom'));
  }
}

describe('dispatch', () => {
  test('a throwing handler is logged and closes only its socket with 1011', () => {
    const lines: string[] = [];
    const room = new Failing(context(lines));
    const { conn, closes } = fakeConnection();
    assert.doesNotThrow(() => dispatch.message(room, conn, 'throw'));
    assert.deepEqual(closes, [[1011, 'Internal server error']]);
    assert.match(lines[0] as string, /room handler failed room=test:room event=message conn=c1 error="Error: boom"/);
  });

  test('a rejecting handler is caught, logged and closes its socket with 1011', async () => {
    const lines: string[] = [];
    const room = new Failing(context(lines));
    const { conn, closes } = fakeConnection();
    dispatch.message(room, conn, 'reject');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(closes, [[1011, 'Internal server error']]);
    assert.match(lines[0] as string, /async boom/);
  });

  test('a handler that succeeds closes nothing', () => {
    const room = new Failing(context([]));
    const { conn, closes } = fakeConnection();
    dispatch.message(room, conn, 'fine');
    assert.deepEqual(closes, []);
  });
});

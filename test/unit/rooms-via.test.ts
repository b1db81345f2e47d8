import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { roomsVia } from '../../src/core/rooms/index.ts';

describe('roomsVia', () => {
  const calls: unknown[][] = [];
  const rooms = roomsVia(async (id, method, args) => {
    calls.push([id, method, args]);
    return method;
  });

  test('a call reaches the room of that kind and name, with its method and arguments', async () => {
    calls.length = 0;
    assert.equal(await rooms.connection('d').relay('v', 's', 'text'), 'relay');
    await rooms.connection('c1').alive();
    await rooms.directory().listDevices();
    assert.deepEqual(calls, [
      ['connection:d', 'relay', ['v', 's', 'text']],
      ['connection:c1', 'alive', []],
      ['directory:main', 'listDevices', []],
    ]);
  });

  test('a stub is reused for the same name and still right after many other names', async () => {
    assert.equal(rooms.device('cam'), rooms.device('cam'));
    for (let i = 0; i < 3000; i++) rooms.connection(`c${i}`);
    calls.length = 0;
    await rooms.connection('c0').alive();
    await rooms.connection('c2999').alive();
    assert.deepEqual(calls, [
      ['connection:c0', 'alive', []],
      ['connection:c2999', 'alive', []],
    ]);
  });
});

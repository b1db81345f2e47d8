import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { Metrics } from '../../src/core/metrics/metrics.ts';
import { roomsVia } from '../../src/core/rooms/index.ts';

describe('roomsVia', () => {
  const calls: unknown[][] = [];
  const metrics = new Metrics();
  const rooms = roomsVia(
    async (id, method, args) => {
      calls.push([id, method, args]);
      return method;
    },
    () => {},
    metrics,
  );

  test('each call is counted by the kind of room it goes to', async () => {
    const before = { ...metrics.roomCalls };
    await rooms.device('cam').info();
    await rooms.device('other').info();
    await rooms.registry(3).counts();
    assert.equal(metrics.roomCalls.device - before.device, 2);
    assert.equal(metrics.roomCalls.registry - before.registry, 1);
    assert.equal(metrics.roomCalls.user - before.user, 0);
  });

  test('a call reaches the room of that kind and name, with its method and arguments', async () => {
    calls.length = 0;
    assert.equal(await rooms.connection('d').relay('v', 's', 'cam', 'text'), 'relay');
    await rooms.connection('c1').alive();
    await rooms.directory().listDevices();
    assert.deepEqual(calls, [
      ['connection:d', 'relay', ['v', 's', 'cam', 'text']],
      ['connection:c1', 'alive', []],
      ['directory:main', 'listDevices', []],
    ]);
  });

  test('stubs are kept per name, share their methods, and each calls its own room after many others', async () => {
    assert.equal(rooms.device('cam'), rooms.device('cam'));
    const stubs = Array.from({ length: 3000 }, (_, i) => rooms.connection(`c${i}`));
    assert.equal(stubs[0]?.alive, stubs[2999]?.alive);
    calls.length = 0;
    await stubs[0]?.alive();
    await stubs[2999]?.alive();
    await rooms.device('c0').touch('x');
    // A name looked up again after the cache dropped its stub gets a new one, for the same room.
    await rooms.connection('c0').alive();
    assert.deepEqual(calls, [
      ['connection:c0', 'alive', []],
      ['connection:c2999', 'alive', []],
      ['device:c0', 'touch', ['x']],
      ['connection:c0', 'alive', []],
    ]);
  });

  test('awaiting, printing or serialising a stub calls no room, and leaves the other stubs working', async () => {
    calls.length = 0;
    const stub = rooms.device('cam');
    assert.equal(await Promise.resolve(stub), stub);
    JSON.stringify(stub);
    inspect(stub);
    // `__proto__` is no method: reading it makes none, so no stub's prototype gains one.
    assert.equal(Reflect.get(stub, '__proto__'), undefined);
    assert.equal(Object.hasOwn(Object.getPrototypeOf(stub), '__proto__'), false);
    assert.deepEqual(calls, []);
    await rooms.device('other').touch('x');
    assert.deepEqual(calls, [['device:other', 'touch', ['x']]]);
  });
});

describe('roomsVia: one-way calls', () => {
  test("rooms.tell reaches a connection room through the host's tell, with the stub as its address, and returns nothing", () => {
    const told: unknown[][] = [];
    const rooms = roomsVia(
      async () => 'async',
      (id, method, args, address) => {
        told.push([id, method, args, address.id]);
      },
      new Metrics(),
    );
    assert.equal(rooms.tell.connection('d').relay('v', 's', 'cam', 'text'), undefined);
    assert.equal(rooms.tell.connection('d'), rooms.tell.connection('d'), 'the stub is kept');
    assert.deepEqual(told, [['connection:d', 'relay', ['v', 's', 'cam', 'text'], 'connection:d']]);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteStore } from '../../src/runtime/node/sqlite.ts';
import { eventually } from '../helpers/eventually.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const unconfirmed = { allowUnconfirmed: true };

/** What a second process would read from the file right now. */
function onDisk(name: string, room: string, prefix: string): string[] {
  const other = new SqliteStore(join(dir, name));
  const keys = [...other.storage(room).list(prefix).keys()];
  other.close();
  return keys;
}

describe('SqliteStore unconfirmed writes', () => {
  test('are read back at once, by get and list, before they are committed', () => {
    const store = new SqliteStore(join(dir, 'read.db'));
    const room = store.storage('r');
    room.put('socket:b', 1);
    room.put('socket:a', 1, unconfirmed);
    room.delete('socket:b', unconfirmed);
    assert.equal(room.get('socket:a'), 1);
    assert.equal(room.get('socket:b'), undefined);
    assert.deepEqual([...room.list('socket:').keys()], ['socket:a']);
    assert.deepEqual(onDisk('read.db', 'r', 'socket:'), ['socket:b'], 'not committed yet');
    store.close();
  });

  test('are committed by the next confirmed write, in the order they were made', () => {
    const store = new SqliteStore(join(dir, 'order.db'));
    const room = store.storage('r');
    room.put('k', 'early', unconfirmed);
    room.delete('k');
    assert.deepEqual(onDisk('order.db', 'r', 'k'), []);
    room.put('k', 'late', unconfirmed);
    store.storage('other').put('x', 1);
    assert.deepEqual(onDisk('order.db', 'r', 'k'), ['k']);
    store.close();
  });

  test('are committed by close and by the timer', async () => {
    const store = new SqliteStore(join(dir, 'close.db'));
    store.storage('r').put('a', 1, unconfirmed);
    store.close();
    assert.deepEqual(onDisk('close.db', 'r', ''), ['a']);

    const timed = new SqliteStore(join(dir, 'timer.db'));
    timed.storage('r').put('b', 1, unconfirmed);
    assert.deepEqual(onDisk('timer.db', 'r', ''), [], 'held back at first');
    // The timer commits it on its own (100 ms); polled, so a slow machine only waits longer.
    await eventually('the timed commit', () => onDisk('timer.db', 'r', '').length > 0);
    assert.deepEqual(onDisk('timer.db', 'r', ''), ['b']);
    timed.close();
  });
});

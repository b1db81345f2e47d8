import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad } from '../../bench/procs.ts';

test('a load task larger than one environment string (128 KiB) reaches the load generator whole', async () => {
  // The task of 2,000 relay pairs is about this size. An unknown kind makes the load generator stop at
  // once, echoing the task it read: its end proves the whole task arrived.
  const task = { pad: 'x'.repeat(200_000), kind: 'none-such' };
  await assert.rejects(runLoad(task, 0, 1024, 30_000), (error: Error) => {
    assert.match(error.message, /"kind":"none-such"\}/);
    return true;
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Samples, summarize } from '../../bench/stats.ts';

test('Samples keeps every value past its first capacity, and summarize reads them', () => {
  const samples = new Samples(10);
  for (let i = 1; i <= 5000; i++) samples.push(i);
  assert.equal(samples.length, 5000);
  const summary = summarize(samples.values());
  assert.deepEqual([summary.count, summary.p50, summary.p99, summary.max], [5000, 2500, 4950, 5000]);
});

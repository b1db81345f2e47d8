import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem, isTimeZone, latestDue, nextRuns, runAfter } from '../../src/core/schedule/times.ts';

/** When schedules run: croner in a time zone, the missed-run rule, one-shot times. */

const ms = (iso: string) => Date.parse(iso);

test('after downtime only the latest missed run is due, and none from before the schedule counted', () => {
  const everyMinute = { cron: '* * * * *', timezone: 'UTC' };
  // Down from 10:00:30 to 10:05:10: runs at 10:01 … 10:05 were missed; 10:05 is the one applied.
  assert.equal(latestDue(everyMinute, ms('2026-12-07T10:00:30Z'), ms('2026-12-07T10:05:10Z')), ms('2026-12-07T10:05:00Z'));
  // Nothing due yet.
  assert.equal(latestDue(everyMinute, ms('2026-12-07T10:00:30Z'), ms('2026-12-07T10:00:59Z')), null);
  // The run at `after` itself was the last one applied: not again.
  assert.equal(latestDue(everyMinute, ms('2026-12-07T10:05:00Z'), ms('2026-12-07T10:05:30Z')), null);
  const once = { at: '2026-12-07T10:03:00.000Z', timezone: 'UTC' };
  assert.equal(latestDue(once, ms('2026-12-07T10:00:00Z'), ms('2026-12-07T11:00:00Z')), ms('2026-12-07T10:03:00Z'));
  assert.equal(latestDue(once, ms('2026-12-07T10:03:00Z'), ms('2026-12-07T11:00:00Z')), null);
});

test('daylight saving: a skipped time runs when the clocks have gone forward; a repeated one runs once', () => {
  // 14 March 2027, New York: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
  const spring = { cron: '30 2 14 3 *', timezone: 'America/New_York' };
  assert.equal(runAfter(spring, ms('2027-01-01T00:00:00Z')), ms('2027-03-14T07:00:00Z'));
  // 7 November 2027: 01:30 happens twice (EDT, then EST); the run is the first, once.
  const autumn = { cron: '30 1 7 11 *', timezone: 'America/New_York' };
  const [first, next] = nextRuns(autumn, ms('2027-11-01T00:00:00Z'), 2);
  assert.equal(first, ms('2027-11-07T05:30:00Z'));
  assert.equal(next, ms('2028-11-07T06:30:00Z'));
  // The same wall time in winter and summer is a different UTC time.
  const nine = { cron: '0 9 1 3,4 *', timezone: 'America/New_York' };
  assert.deepEqual(nextRuns(nine, ms('2026-12-07T00:00:00Z'), 2), [ms('2027-03-01T14:00:00Z'), ms('2027-04-01T13:00:00Z')]);
});

test('6 fields have seconds first; other counts, bad values and unknown zones are refused', () => {
  assert.equal(runAfter({ cron: '*/2 * * * * *', timezone: 'UTC' }, ms('2026-12-07T00:00:04Z')), ms('2026-12-07T00:00:06Z'));
  assert.equal(cronProblem('0 9 * * *', 'UTC'), null);
  assert.match(cronProblem('* * * *', 'UTC') ?? '', /5 fields, or 6/);
  assert.match(cronProblem('0 0 0 * * * *', 'UTC') ?? '', /5 fields, or 6/);
  assert.match(cronProblem('61 * * * *', 'UTC') ?? '', /not valid/);
  assert.equal(isTimeZone('Europe/Berlin'), true);
  assert.equal(isTimeZone('Mars/Olympus'), false);
});

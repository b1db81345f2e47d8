import { Cron } from 'croner';
import type { SchedulePlan } from '../contract.ts';

/**
 * When a schedule runs: a cron expression (5 fields, or 6 with seconds first) in an IANA time zone,
 * through croner (DST-correct: a time that does not exist that day, in the hour skipped in spring,
 * runs when the clocks have gone forward; one that happens twice in autumn runs once, the first time),
 * or once `at` a given instant.
 */

type Timing = Pick<SchedulePlan, 'cron' | 'at' | 'timezone'>;

/** Why `cron` cannot be used, or null. */
export function cronProblem(cron: string, timezone: string): string | null {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `cron must have 5 fields, or 6 with seconds first (it has ${fields})`;
  try {
    new Cron(cron, { timezone });
    return null;
  } catch (error) {
    return `cron is not valid: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The first run strictly after `after` (ms), or null when there is none. */
export function runAfter(timing: Timing, after: number): number | null {
  if (timing.at !== undefined) {
    const at = Date.parse(timing.at);
    return at > after ? at : null;
  }
  if (timing.cron === undefined) return null;
  return new Cron(timing.cron, { timezone: timing.timezone }).nextRun(new Date(after))?.getTime() ?? null;
}

/** The next `n` runs after `now` (ms). */
export function nextRuns(timing: Timing, now: number, n: number): number[] {
  if (timing.at !== undefined) {
    const at = Date.parse(timing.at);
    return at > now ? [at] : [];
  }
  if (timing.cron === undefined) return [];
  return new Cron(timing.cron, { timezone: timing.timezone }).nextRuns(n, new Date(now)).map((date) => date.getTime());
}

/**
 * The latest run due in (`after`, `now`], or null: after downtime only the latest missed run is
 * applied, once; earlier ones are skipped.
 */
export function latestDue(timing: Timing, after: number, now: number): number | null {
  const first = runAfter(timing, after);
  if (first === null || first > now) return null;
  if (timing.at !== undefined) return first;
  const [latest] = new Cron(timing.cron as string, { timezone: timing.timezone }).previousRuns(1, new Date(now + 1));
  const at = latest?.getTime() ?? first;
  return at > after ? at : first;
}

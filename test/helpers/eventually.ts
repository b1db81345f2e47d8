/**
 * Waiting for something another process (or the server's own schedule) makes true, when there is no
 * event to await: `check` is asked every `everyMs` until it returns something truthy, which is
 * returned; after `ms` the test fails, naming what it waited for and, if given, what `context` says
 * (say, an agent's output).
 */

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export interface EventuallyOptions {
  ms?: number;
  everyMs?: number;
  /** More to say when it fails. */
  context?: () => string;
}

export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  { ms = 5_000, everyMs = 20, context }: EventuallyOptions = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms${context ? `:\n${context()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Time, as the core reads it: every room, token check and frame stamp asks `services.clock`, so a
 * test can move time at will instead of waiting for it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock, which every runtime's services use. */
export const systemClock: Clock = { now: () => Date.now() };

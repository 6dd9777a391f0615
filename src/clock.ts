/** Time source injected everywhere decisions depend on "now" (tests pass a fake one). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

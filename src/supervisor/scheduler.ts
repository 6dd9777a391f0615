/**
 * Owns every periodic timer of the supervisor ("one scheduler for the supervisor's
 * timers"): maintenance, worker watch, ladder checks and the connectivity probe. Each series waits
 * for its task to settle before it arms the next timer, so a slow task never overlaps itself.
 * `close()` is idempotent and clears every pending timer; nothing is armed after it, so no timer
 * outlives the scheduler. Tasks catch their own errors (a throw escapes and ends that series).
 */

/** Options of one series. */
export interface SeriesOptions {
  /** Does not keep the process alive (the hourly maintenance). */
  unref?: boolean;
}

/** The supervisor's timers. */
export interface Scheduler {
  /** Runs `task` every `intervalMs()` (read each time a timer is armed), after the previous run settled. */
  every(intervalMs: () => number, task: () => void | Promise<void>, options?: SeriesOptions): void;
  /** Runs `task` now, then again after each delay it resolves to; `undefined` ends the series. */
  loop(task: () => Promise<number | undefined>, options?: SeriesOptions): void;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** Clears every pending timer; no series arms another. Idempotent. */
  close(): void;
}

/** Creates an empty scheduler. */
export function createScheduler(): Scheduler {
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const arm = (delayMs: number, fire: () => void, options: SeriesOptions): void => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      fire();
    }, delayMs);
    if (options.unref) timer.unref();
    timers.add(timer);
  };

  return {
    every(intervalMs, task, options = {}) {
      const next = (): void => arm(intervalMs(), run, options);
      const run = (): void => {
        const result = task();
        if (result instanceof Promise) void result.finally(next);
        else next();
      };
      next();
    },
    loop(task, options = {}) {
      const run = (): void => {
        if (closed) return;
        void task().then((delayMs) => {
          if (delayMs !== undefined) arm(delayMs, run, options);
        });
      };
      run();
    },
    get closed() {
      return closed;
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** Polling with a deadline, for tests that wait on real file-system events. */

/** Options of waitFor. */
export interface WaitForOptions {
  /** Give up after this long (default 10,000 ms: generous on a loaded machine). */
  timeoutMs?: number;
  /** Poll period (default 20 ms). */
  intervalMs?: number;
  /** Said in the timeout error: what was being waited for. */
  what?: string;
  /** Appended to the timeout error: what the test saw (e.g. the tail of a child's log). */
  detail?: () => string;
}

/**
 * Resolves with the first truthy value `predicate` returns (it may be async), polling every 20 ms;
 * throws a clear error when `timeoutMs` passes first. An exception from the predicate is kept as
 * the last failure and shown in the timeout error.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 20 } = options;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      const what = options.what ?? predicate.toString().replace(/\s+/g, " ").slice(0, 200);
      const why =
        lastError === undefined ? "" : `; last error: ${(lastError as Error).message ?? String(lastError)}`;
      const detail = options.detail ? `\n${options.detail()}` : "";
      throw new Error(`waitFor timed out after ${elapsed} ms waiting for: ${what}${why}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, timeoutMs - elapsed)));
  }
}

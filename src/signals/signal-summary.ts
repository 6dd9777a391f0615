/**
 * A company's signals over a window, read from the per-minute buckets: what `warden status`, the
 * decrypt-failure alert and the ladder's key-state evidence look at. A window includes the bucket
 * it starts in, so it covers at most one minute more than asked.
 */
import type { SignalQueries } from "../store/signals.js";
import { MINUTE } from "./signal-recorder.js";

/** Signals of one company over a window. */
export interface SignalSummary {
  decryptFailures: number;
  /** Decrypt failures by reason. */
  byReason: Record<string, number>;
  sessionChurn: number;
  retryReceipts: number;
  /** Stream errors by `<reason> <code>`. */
  streamErrors: Record<string, number>;
  /** Hashed peers with the most decrypt failures. */
  topPeers: { peer: string; count: number }[];
}

const sum = (counts: Record<string, number> | undefined) =>
  Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** The first bucket a window of `windowMs` ending at `now` includes. */
export function windowStart(now: number, windowMs: number): number {
  return Math.floor((now - windowMs) / MINUTE) * MINUTE;
}

/** Sums a company's buckets over the `windowMs` before `now`. */
export function summariseSignals(
  queries: Pick<SignalQueries, "window">,
  company: string,
  now: number,
  windowMs: number,
): SignalSummary {
  const w = queries.window(company, windowStart(now, windowMs), now);
  const byReason = w.byKind["decrypt-failure"] ?? {};
  return {
    decryptFailures: sum(byReason),
    byReason,
    sessionChurn: sum(w.byKind["session-churn"]),
    retryReceipts: sum(w.byKind["retry-receipt"]),
    streamErrors: w.byKind["stream-error"] ?? {},
    topPeers: w.topPeers,
  };
}

/**
 * A company's decrypt failures over the `windowMs` before `now`, from the fleet's per-minute figures
 * (`SignalQueries.fleetDecryptFailures`): the same figure as `summariseSignals(...).decryptFailures`.
 */
export function decryptFailuresWithin(
  minutes: readonly { minute: number; count: number }[] | undefined,
  now: number,
  windowMs: number,
): number {
  const from = windowStart(now, windowMs);
  let total = 0;
  for (const m of minutes ?? []) if (m.minute >= from && m.minute <= now) total += m.count;
  return total;
}

/** The decrypt-storm part of the ladder's key-state evidence (`KeyStateEvidence`, invariant 13). */
export interface DecryptStorm {
  failures: number;
  byReason: Record<string, number>;
}

/**
 * Evidence for the ladder: the decrypt failures of `signals.alertAt.window` when they reach
 * `signals.alertAt.count` (the same storm that raises the alert), else null.
 */
export function decryptStormFor(
  queries: Pick<SignalQueries, "window">,
  company: string,
  now: number,
  settings: { signals: { alertAt: { count: number; window: number } } },
): DecryptStorm | null {
  const { count, window } = settings.signals.alertAt;
  // The same window as summariseSignals, without its peer ranking (one query per down company).
  const byReason = queries.window(company, windowStart(now, window), now, 0).byKind["decrypt-failure"] ?? {};
  const failures = sum(byReason);
  return failures >= count ? { failures, byReason } : null;
}

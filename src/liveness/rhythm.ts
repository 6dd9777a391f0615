/**
 * A company's usual rhythm of incoming messages, learned from its own last 14 days: for each hour,
 * the longest gap between two incoming messages that ended in it (or the silence still running at
 * its end). What is usual now is the longest such gap at the same hour of the week, give or take an
 * hour (daylight saving, a late lunch), one and two weeks back: a business closed at night or on a
 * Sunday has long gaps there, and those do not look like deafness. Pure: the store does the lookups.
 */

/** One hour in milliseconds. */
export const HOUR_MS = 3_600_000;
/** One week in milliseconds. */
export const WEEK_MS = 7 * 24 * HOUR_MS;
/** How far back the rhythm is learned. */
export const LEARN_FOR_MS = 2 * WEEK_MS;

/** The start of the hour holding `t`. */
export function hourStart(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/** The six hour starts whose learned gaps say what is usual at `now`: same hour of the week ±1 h, 1 and 2 weeks back. */
export function comparableHours(now: number): number[] {
  const hour = hourStart(now);
  const hours: number[] = [];
  for (const weeks of [1, 2])
    for (const shift of [-1, 0, 1]) hours.push(hour - weeks * WEEK_MS + shift * HOUR_MS);
  return hours;
}

/** Where the learned gaps are read from (the store's liveness queries). */
export interface GapSource {
  /** The longest gap recorded in any of these hours, or null. */
  longestGapAt(company: string, hours: readonly number[]): number | null;
  /** The longest gap recorded in the hours starting in [from, to), or null. */
  longestGapBetween(company: string, from: number, to: number): number | null;
  /** The first hour with a learned gap, or null. */
  oldestGapHour(company: string): number | null;
}

/**
 * The usual longest gap of a company at `now`: the same hour of the week one and two weeks back.
 * Until 14 days are learned, those hours say too little (the first Monday's gap began when the
 * socket first opened, not on Friday evening), so a company still learning is judged against the
 * longest gap of its history before this hour instead: lenient (a silence already running for
 * hours counts as usual), never a false alarm on its first weekend. The hour running now never
 * counts: its silence is what is being judged.
 */
export function usualGap(source: GapSource, company: string, now: number): number | null {
  const oldest = source.oldestGapHour(company);
  if (oldest === null) return null;
  const hour = hourStart(now);
  if (hour - oldest < LEARN_FOR_MS) return source.longestGapBetween(company, now - LEARN_FOR_MS, hour);
  return (
    source.longestGapAt(company, comparableHours(now)) ??
    source.longestGapBetween(company, now - LEARN_FOR_MS, hour)
  );
}

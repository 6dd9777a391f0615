/**
 * A file's idleness for the age rules counts only the time its company was connected: while a
 * company is down nothing can touch its files, so an outage must never make live sessions look
 * stale (a two-day outage would otherwise age every session by two days, and the first cleanup
 * after it would delete contacts who are about to write again). Pure: the intervals come from the
 * connection history (the transitions table), the files from the scanner or the executor.
 */
import type { CleanupFile } from "./plan-cleanup.js";

/** A time the company was not connected, [from, to). */
export interface DownInterval {
  from: number;
  to: number;
}

/** How far back the connection history is read for the age rules (the longest rule is weeks). */
export const DOWN_HISTORY_MS = 60 * 86_400_000;

/**
 * The down intervals in a company's connection history (oldest first): from each close of an open
 * connection to the next open (or `now`). Before the first recorded event the state is unknown and
 * counted as connected (the rules then behave as they always did).
 */
export function downIntervalsOf(events: readonly { to: string; at: number }[], now: number): DownInterval[] {
  const out: DownInterval[] = [];
  let downFrom: number | null = null;
  for (const e of events) {
    if (e.to === "open") {
      if (downFrom !== null && e.at > downFrom) out.push({ from: downFrom, to: e.at });
      downFrom = null;
    } else downFrom ??= e.at;
  }
  if (downFrom !== null && now > downFrom) out.push({ from: downFrom, to: now });
  return out;
}

/** Down time between `since` and `now`. */
export function downTimeSince(intervals: readonly DownInterval[], since: number, now: number): number {
  let total = 0;
  for (const i of intervals) {
    const from = Math.max(i.from, since);
    const to = Math.min(i.to, now);
    if (to > from) total += to - from;
  }
  return total;
}

/**
 * The files with their mtime moved forward by the down time since it, so that `now - mtime` is the
 * time the file sat idle while its company was connected. NaN mtimes stay NaN (never deleted).
 */
export function withoutDownTime(
  files: readonly CleanupFile[],
  intervals: readonly DownInterval[],
  now: number,
): CleanupFile[] {
  if (intervals.length === 0) return [...files];
  return files.map((f) =>
    Number.isNaN(f.mtimeMs) ? f : { ...f, mtimeMs: f.mtimeMs + downTimeSince(intervals, f.mtimeMs, now) },
  );
}

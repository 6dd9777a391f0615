/**
 * The maintenance window ("HH:MM-HH:MM" local time in an IANA zone) in which a connected company at
 * the warning level gets its scheduled smart cleanup. Pure: a function of (now, window, zone).
 * - start inclusive, end exclusive; "22:30-01:00" crosses midnight; "03:00-03:00" is empty;
 * - local time comes from Intl, so DST shifts and half-hour zones (+05:30) need no arithmetic here.
 */
import { localClock } from "../alerts/silence-window.js";
import { ErrorCodes, WardenError } from "../errors.js";

const WINDOW_RE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** Local calendar date and minute of the day of `now` in `timeZone` (the cached formatter of localClock). */
function localTime(
  now: number,
  timeZone: string,
): { year: number; month: number; day: number; minute: number } {
  const { year, month, day, hour, minute } = localClock(now, timeZone);
  return { year, month, day, minute: hour * 60 + minute };
}

/** Start and end of a window in minutes of the day; the config schema already rejected bad text. */
function parseWindow(window: string): { start: number; end: number } {
  const match = WINDOW_RE.exec(window);
  if (!match)
    throw new WardenError(
      ErrorCodes.CONFIG_INVALID,
      `Expected \`maintenance.window\` to look like "03:00-05:00", got ${JSON.stringify(window)}`,
      { window },
    );
  const [h1, m1, h2, m2] = match.slice(1).map(Number) as [number, number, number, number];
  return { start: h1 * 60 + m1, end: h2 * 60 + m2 };
}

/**
 * Where `now` falls relative to the window: null outside, otherwise how many local days ago the
 * occurrence started (1 in the after-midnight part of a window that crosses midnight).
 */
function occurrence(now: number, window: string | null, timeZone: string) {
  if (window === null) return null;
  const { start, end } = parseWindow(window);
  if (start === end) return null;
  const local = localTime(now, timeZone);
  if (start < end) return local.minute >= start && local.minute < end ? { local, daysAgo: 0 } : null;
  if (local.minute >= start) return { local, daysAgo: 0 };
  if (local.minute < end) return { local, daysAgo: 1 };
  return null;
}

/** Whether `now` is inside the local-time window "HH:MM-HH:MM" of `timeZone` (null: never). */
export function inMaintenanceWindow(now: number, window: string | null, timeZone: string): boolean {
  return occurrence(now, window, timeZone) !== null;
}

/**
 * The local date ("2026-11-23") on which the window occurrence containing `now` started, or null
 * outside the window: the scheduled cleanup runs once per key, not once per tick.
 */
export function maintenanceWindowKey(now: number, window: string | null, timeZone: string): string | null {
  const found = occurrence(now, window, timeZone);
  if (found === null) return null;
  const { year, month, day } = found.local;
  // Calendar arithmetic on a UTC date: "the day before" is a date, not 24 hours (DST days are 23/25 h).
  const start = new Date(Date.UTC(year, month - 1, day - found.daysAgo));
  return start.toISOString().slice(0, 10);
}

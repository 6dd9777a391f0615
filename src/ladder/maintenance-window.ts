/**
 * The maintenance window ("HH:MM-HH:MM" local time in an IANA zone) in which a connected company at
 * the warning level gets its scheduled smart cleanup. Pure: a function of (now, window, zone).
 * - start inclusive, end exclusive; "22:30-01:00" crosses midnight; "03:00-03:00" is empty;
 * - local time comes from Intl, so DST shifts and half-hour zones (+05:30) need no arithmetic here.
 */
import { ErrorCodes, WardenError } from "../errors.js";

const WINDOW_RE = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/**
 * One formatter per zone: building an Intl.DateTimeFormat costs far more than formatting with it,
 * and the ladder asks for every company on every tick. The cache only grows with distinct zones.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // h23, not hour12: false: the latter prints midnight as "24" in some ICU versions.
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local calendar date and minute of the day of `now` in `timeZone`. */
function localTime(
  now: number,
  timeZone: string,
): { year: number; month: number; day: number; minute: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(now)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    minute: (parts.hour ?? 0) * 60 + (parts.minute ?? 0),
  };
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

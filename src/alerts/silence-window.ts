/**
 * When a silence ends, from what an operator typed (pure): `--for 2h` (a duration) or `--until`
 * either an ISO date-time or a wall-clock "HH:MM" (the next such time in the given zone).
 */
import { parseDuration } from "../config/duration.js";
import { ErrorCodes, WardenError } from "../errors.js";

/** Longest silence accepted (a forgotten one must not hold alerts for ever). */
export const MAX_SILENCE_MS = 30 * 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local calendar date and wall-clock time of `now` in `timeZone` (one cached formatter per zone). */
export function localClock(
  now: number,
  timeZone: string,
): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
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
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  const parts = formatter.formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second"),
  };
}

function zoneOffsetMs(at: number, timeZone: string): number {
  const t = localClock(at, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The next instant at or after `now` whose wall clock in `timeZone` reads hh:mm (DST: nearest valid). */
export function nextWallClock(now: number, hhmm: string, timeZone: string): number {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!match) throw new Error(`not a time of day: ${hhmm}`);
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  const offset = zoneOffsetMs(now, timeZone);
  const local = new Date(now + offset);
  const midnightLocal = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  for (let day = 0; day <= 2; day++) {
    const wanted = midnightLocal + day * 86_400_000 + minutes * 60_000;
    const at = wanted - zoneOffsetMs(wanted - offset, timeZone);
    if (at >= now) return at;
  }
  return now + 86_400_000;
}

/**
 * A usage error about one of the two options: the message names the flag (`--for ...`), the
 * context's `bare` says the same without it (the bot, where there are no flags, answers with that).
 */
function optionError(option: "for" | "until" | null, bare: string): WardenError {
  const flag = option === null ? "" : `--${option} `;
  return new WardenError(ErrorCodes.USAGE, `${flag}${bare}`, option === null ? { bare } : { option, bare });
}

/** The end of a silence starting `now`; throws a coded usage error naming the option. */
export function silenceEndsAt(
  input: { for?: string; until?: string },
  now: number,
  timeZone: string,
): number {
  if ((input.for === undefined) === (input.until === undefined))
    throw new WardenError(ErrorCodes.USAGE, "Give exactly one of --for <duration> or --until <time>", {
      bare: "Give exactly one of <duration> or <time>",
    });
  let end: number;
  if (input.for !== undefined) {
    const ms = parseDuration(input.for);
    if (ms === undefined || ms <= 0)
      throw optionError("for", `takes a duration like "30m", "2h" or "1d", got ${JSON.stringify(input.for)}`);
    end = now + ms;
  } else {
    const text = input.until as string;
    if (/^\d{1,2}:\d{2}$/.test(text)) end = nextWallClock(now, text, timeZone);
    else {
      end = Date.parse(text);
      if (!Number.isFinite(end) || !/^\d{4}-\d{2}-\d{2}T/.test(text))
        throw optionError(
          "until",
          `takes "HH:MM" or an ISO date-time such as 2026-12-03T09:00:00Z, got ${JSON.stringify(text)}`,
        );
      if (end <= now) throw optionError("until", `${text} is in the past`);
    }
  }
  if (end - now > MAX_SILENCE_MS)
    throw new WardenError(ErrorCodes.USAGE, "A silence lasts at most 30 days", {
      option: "for",
      bare: "A silence lasts at most 30 days",
    });
  return end;
}

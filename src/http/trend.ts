/**
 * Projection of the next level from the recent count trend (pure). A forecast must not state more
 * than the history knows, so:
 * - the trend starts `settle` after the last break (the folder's first appearance, a cleanup, a
 *   restore): the jump of a half-written folder or of a restore is not growth;
 * - the history is a step function (a point is stored only when counts change), so it is sampled
 *   evenly over the span and a least-squares line is fitted to the samples: a count that never
 *   changes has slope 0, whatever its first point was;
 * - it needs `minSpan` of history and `minChanges` count changes after the break, or it says so;
 * - it projects only levels above the one the company is already at (alert level included);
 * - it answers a range (the fitted rate with its uncertainty, at least x0.5..x1.5), never a second.
 * The company page, the health recommendations and the digest read the same projection.
 */
import { LEVELS, type Level, levelFor } from "../alerts/evaluate-thresholds.js";

/** A count history point. */
export interface CountPoint {
  at: number;
  value: number;
}

/** Why there is no projection (stable names for callers that word it themselves). */
export type NoProjectionReason =
  | "highest-level"
  | "too-short-span"
  | "too-few-changes"
  | "not-rising"
  | "beyond-horizon";

/** When the next level is expected (a range of instants), or why there is no date. */
export type Projection =
  | {
      kind: "range";
      level: Level;
      threshold: number;
      /** The soonest plausible instant (fast end of the rate range). */
      earliest: number;
      /** The latest plausible instant (slow end of the rate range). */
      latest: number;
      /** The fitted rate, files per day. */
      perDay: number;
    }
  | { kind: "none"; reason: NoProjectionReason; why: string };

/** What the projection reads. */
export interface TrendInput {
  /** Count history points (any order, any age; only the window after the last break is used). */
  points: readonly CountPoint[];
  /** The count now. */
  current: number;
  /** The level the company is at now (the alert level, with its hysteresis), if known. */
  level?: Level;
  thresholds: { monitor: number; warning: number; critical: number; fatal: number };
  now: number;
  /** Instants where the count jumped for a known reason: cleanup, reset, restore, new pairing. */
  breaks?: readonly number[];
}

/** Tunables (defaults suit file counts that grow over days). */
export interface TrendOptions {
  /** Only history this recent is used. */
  window: number;
  /** Minimum time span of usable history. */
  minSpan: number;
  /** Minimum count changes within the usable history. */
  minChanges: number;
  /** Time after a break (first appearance, cleanup, restore) that is not used. */
  settle: number;
  /** A projection further away than this is not given. */
  horizon: number;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The defaults of TrendOptions. */
export const TREND_DEFAULTS: TrendOptions = {
  window: 7 * DAY,
  minSpan: DAY,
  minChanges: 3,
  settle: 10 * MINUTE,
  horizon: 90 * DAY,
};

const SAMPLES = 64;

function valueAt(sorted: readonly CountPoint[], at: number, fallback: number): number {
  let value = fallback;
  for (const p of sorted) {
    if (p.at > at) break;
    value = p.value;
  }
  return value;
}

/** Least squares over evenly spaced samples of the step function; slope per ms and its error. */
function fitLine(sorted: readonly CountPoint[], from: number, now: number, current: number) {
  const first = sorted[0]?.value ?? current;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const at = from + ((now - from) * i) / (SAMPLES - 1);
    xs.push(at - from);
    ys.push(i === SAMPLES - 1 ? current : valueAt(sorted, at, first));
  }
  const meanX = xs.reduce((s, x) => s + x, 0) / SAMPLES;
  const meanY = ys.reduce((s, y) => s + y, 0) / SAMPLES;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < SAMPLES; i++) {
    sxy += ((xs[i] as number) - meanX) * ((ys[i] as number) - meanY);
    sxx += ((xs[i] as number) - meanX) ** 2;
  }
  const slope = sxy / sxx;
  let residuals = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const predicted = meanY + slope * ((xs[i] as number) - meanX);
    residuals += ((ys[i] as number) - predicted) ** 2;
  }
  const error = Math.sqrt(residuals / (SAMPLES - 2) / sxx);
  return { slope, error };
}

/** Audit actions that change a folder's count at once (not growth). */
const BREAKING_ACTIONS = new Set([
  "cleanup",
  "reset",
  "restore",
  "restore-creds",
  "new-pairing",
  "repair-sessions",
]);

/** The instants of a company's audit rows that made its count jump (successful folder changes). */
export function countBreaks(audit: readonly { at: number; action: string; ok: boolean }[]): number[] {
  return audit.filter((a) => a.ok && BREAKING_ACTIONS.has(a.action)).map((a) => a.at);
}

const none = (reason: NoProjectionReason, why: string): Projection => ({ kind: "none", reason, why });

/** Projects when the company reaches the next level above the one it is at, as a range. */
export function projectNextLevel(input: TrendInput, options: Partial<TrendOptions> = {}): Projection {
  const o = { ...TREND_DEFAULTS, ...options };
  const { thresholds, now, current } = input;
  const at = Math.max(LEVELS.indexOf(levelFor(current, thresholds)), LEVELS.indexOf(input.level ?? "ok"));
  const next = LEVELS[at + 1] as Exclude<Level, "ok"> | undefined;
  if (next === undefined) return none("highest-level", "already at the highest level");
  const threshold = thresholds[next];

  const sorted = [...input.points].filter((p) => p.at <= now).sort((a, b) => a.at - b.at);
  const appeared = sorted[0]?.at ?? now;
  const lastBreak = Math.max(appeared, ...(input.breaks ?? []).filter((b) => b <= now));
  const from = Math.max(now - o.window, lastBreak + o.settle);
  const span = now - from;
  if (span < o.minSpan) {
    return none(
      "too-short-span",
      `a trend needs ${formatSpan(o.minSpan)} of steady history, there is ${span > 0 ? formatSpan(span) : "none"} yet`,
    );
  }
  const usable = sorted.filter((p) => p.at > from);
  const start = valueAt(sorted, from, sorted[0]?.value ?? current);
  const changes = usable.length + (current !== (usable.at(-1)?.value ?? start) ? 1 : 0);
  const series = [{ at: from, value: start }, ...usable];
  if (changes < o.minChanges) {
    return none(
      "too-few-changes",
      changes === 0
        ? "the count has not changed lately"
        : "the count has changed too few times to tell a trend",
    );
  }
  const { slope, error } = fitLine(series, from, now, current);
  if (!(slope > 0)) return none("not-rising", "the count is not rising");
  const fast = Math.max(slope * 1.5, slope + 2 * error);
  const slow = Math.max(slope / 4, Math.min(slope / 2, slope - 2 * error));
  const gap = threshold - current;
  const earliest = Math.round(now + gap / fast);
  if (earliest - now > o.horizon) {
    return none("beyond-horizon", `at this rate not within ${formatSpan(o.horizon)}`);
  }
  return {
    kind: "range",
    level: next,
    threshold,
    earliest,
    latest: Math.round(now + gap / slow),
    perDay: slope * DAY,
  };
}

function formatSpan(ms: number): string {
  if (ms >= 2 * DAY) return `${Math.round(ms / DAY)} days`;
  if (ms >= DAY) return "1 day";
  if (ms >= 2 * HOUR) return `${Math.round(ms / HOUR)} hours`;
  if (ms >= HOUR) return "1 hour";
  return `${Math.max(1, Math.round(ms / MINUTE))} min`;
}

/** "in 2–4 days", "in 5–9 hours", "within 1 hour": whole units, the unit chosen by the far end. */
export function formatRange(earliestIn: number, latestIn: number): string {
  const [unit, name] =
    latestIn >= 2 * DAY ? [DAY, "days"] : latestIn >= 2 * HOUR ? [HOUR, "hours"] : [MINUTE, "min"];
  const low = Math.floor(Math.max(0, earliestIn) / unit);
  const high = Math.max(low + 1, Math.ceil(latestIn / unit));
  if (low === 0) return `within ${high} ${high === 1 ? name.replace(/s$/, "") : name}`;
  return `in ${low}–${high} ${name}`;
}

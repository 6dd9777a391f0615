/**
 * Projection of the next level from the recent count trend (pure): a least-squares line through
 * the history points of the last `window`, extended to the next threshold. A flat or falling
 * trend projects nothing: the page says so rather than inventing a date.
 */
import { LEVELS, type Level } from "../alerts/evaluate-thresholds.js";

/** A count history point. */
export interface CountPoint {
  at: number;
  value: number;
}

/** When the next level is expected, or why there is no date. */
export type Projection =
  | { kind: "date"; level: Level; threshold: number; at: number; perDay: number }
  | { kind: "none"; why: string };

/**
 * Projects when `current` (now) reaches the next threshold above it, from the points within
 * `window` before `now` (history is stored only when counts change, so the current value at
 * `now` is added as the last point).
 */
export function projectNextLevel(
  points: readonly CountPoint[],
  current: number,
  thresholds: { monitor: number; warning: number; critical: number; fatal: number },
  now: number,
  window = 7 * 86_400_000,
): Projection {
  const next = LEVELS.slice(1).find((l) => thresholds[l as keyof typeof thresholds] > current);
  if (next === undefined) return { kind: "none", why: "already at the highest level" };
  const threshold = thresholds[next as keyof typeof thresholds];
  const recent = points.filter((p) => p.at >= now - window && p.at <= now);
  const series = [...recent, { at: now, value: current }];
  if (series.length < 3) return { kind: "none", why: "not enough history yet" };
  const n = series.length;
  const meanT = series.reduce((s, p) => s + p.at, 0) / n;
  const meanV = series.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of series) {
    num += (p.at - meanT) * (p.value - meanV);
    den += (p.at - meanT) ** 2;
  }
  if (den === 0) return { kind: "none", why: "not enough history yet" };
  const slope = num / den; // files per ms
  if (slope <= 0) return { kind: "none", why: "the count is not rising" };
  return {
    kind: "date",
    level: next,
    threshold,
    at: Math.round(now + (threshold - current) / slope),
    perDay: slope * 86_400_000,
  };
}

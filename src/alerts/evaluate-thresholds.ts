/**
 * Pure alert rules: which level a company is at and which messages that change calls for.
 * - a level fires once when crossed upwards (a jump over several levels sends the highest one);
 * - a level is left only `hysteresis` files below its threshold, so a count hovering at 150 does
 *   not flap; leaving monitor (below monitor - hysteresis) sends one resolved message;
 * - critical and fatal repeat every `remindEvery`;
 * - a muted company's state still moves, but nothing is sent until `mutedUntil`.
 */
import { type AlertState, LEVELS, type Level } from "../store/alert-state.js";

export { type AlertState, LEVELS, type Level } from "../store/alert-state.js";

/** A message the change calls for. */
export interface AlertDecision {
  kind: "level" | "reminder" | "resolved";
  level: Level;
  /** Level before the change. */
  from: Level;
}

/** The thresholds and alert settings the rules need. */
export interface ThresholdSettings {
  thresholds: { monitor: number; warning: number; critical: number; fatal: number };
  alerts: { remindEvery: number; hysteresis: number };
  mutedUntil: number | null;
}

const rank = (level: Level) => LEVELS.indexOf(level);

/** The level a counted number of files is at, without hysteresis. */
export function levelFor(counted: number, thresholds: ThresholdSettings["thresholds"]): Level {
  if (counted >= thresholds.fatal) return "fatal";
  if (counted >= thresholds.critical) return "critical";
  if (counted >= thresholds.warning) return "warning";
  if (counted >= thresholds.monitor) return "monitor";
  return "ok";
}

/** Applies the rules to a new count; returns the next state and the messages to queue. */
export function evaluateThresholds(
  previous: AlertState | undefined,
  counted: number,
  settings: ThresholdSettings,
  now: number,
): { state: AlertState; alerts: AlertDecision[] } {
  const prev: AlertState = previous ?? { level: "ok", levelSince: now, lastAlertAt: null };
  const raw = levelFor(counted, settings.thresholds);
  let level = prev.level;
  if (rank(raw) > rank(prev.level)) level = raw;
  else if (rank(raw) < rank(prev.level)) {
    const withMargin = levelFor(counted + settings.alerts.hysteresis, settings.thresholds);
    level =
      rank(withMargin) < rank(prev.level)
        ? (LEVELS[Math.max(rank(raw), rank(withMargin))] as Level)
        : prev.level;
  }

  let decision: AlertDecision | undefined;
  if (rank(level) > rank(prev.level)) decision = { kind: "level", level, from: prev.level };
  else if (level === "ok" && prev.level !== "ok") decision = { kind: "resolved", level, from: prev.level };
  else if (
    level === prev.level &&
    (level === "critical" || level === "fatal") &&
    (prev.lastAlertAt === null || now - prev.lastAlertAt >= settings.alerts.remindEvery)
  ) {
    decision = { kind: "reminder", level, from: prev.level };
  }

  const muted = settings.mutedUntil !== null && now < settings.mutedUntil;
  const state: AlertState = {
    level,
    levelSince: level === prev.level && previous ? prev.levelSince : now,
    lastAlertAt: decision && !muted ? now : prev.lastAlertAt,
  };
  return { state, alerts: decision && !muted ? [decision] : [] };
}

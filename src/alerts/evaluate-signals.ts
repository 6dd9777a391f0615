/**
 * Pure rule of the decrypt-failure alert: `signals.alertAt.count` failures within
 * `signals.alertAt.window` raise ONE alert; it is resolved (one message) once the window holds
 * fewer than half that many, so a rate hovering at the threshold does not flap. A muted company's
 * state still moves, but nothing is sent.
 */
import type { SignalAlertState } from "../store/signals.js";

/** A message the rule calls for. */
export type SignalAlertDecision = "raised" | "resolved";

/** The settings the rule needs. */
export interface SignalAlertSettings {
  signals: { alertAt: { count: number; window: number } };
  mutedUntil: number | null;
}

/** Applies the rule to the failures counted over the window; returns the next state and the message. */
export function evaluateSignals(
  previous: SignalAlertState | undefined,
  failures: number,
  settings: SignalAlertSettings,
  now: number,
): { state: SignalAlertState; decision: SignalAlertDecision | null } {
  const prev = previous ?? { active: false, since: now, lastAlertAt: null };
  const { count } = settings.signals.alertAt;
  let decision: SignalAlertDecision | null = null;
  let active = prev.active;
  if (!prev.active && failures >= count) {
    active = true;
    decision = "raised";
  } else if (prev.active && failures < count / 2) {
    active = false;
    decision = "resolved";
  }
  const muted = settings.mutedUntil !== null && now < settings.mutedUntil;
  const send = decision !== null && !muted;
  return {
    state: {
      active,
      since: active === prev.active && previous ? prev.since : now,
      lastAlertAt: send ? now : prev.lastAlertAt,
    },
    decision: send ? decision : null,
  };
}

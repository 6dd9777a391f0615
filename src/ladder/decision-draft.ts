/**
 * The decision being built, and the gates every step of the pure ladder goes through: the budget
 * (past budget.max automatic actions in budget.window, one "human needed" alert, then nothing until
 * the company recovers, so a ladder that cannot help does not loop), the outage hold (one note per
 * outage; cleaning a fleet that merely lost its network destroys healthy sessions), alerts (never
 * counted against the budget), and the memory of a new episode.
 */

import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import {
  type AlertTopic,
  EMPTY_MEMORY,
  type LadderAction,
  type LadderInput,
  type LadderMemory,
  type LadderStep,
  type PlannedAction,
} from "./ladder-types.js";

/** The decision being built; `mem` is a private copy, so the input is never mutated. */
export interface Draft {
  input: LadderInput;
  now: number;
  mem: LadderMemory;
  actions: PlannedAction[];
  notes: LadderStep[];
}

/** Memory for a new episode: per-episode fields cleared, budget and connected-side memory kept. */
export function freshMemory(mem: LadderMemory, episode: number | null, actions: number[]): LadderMemory {
  return {
    ...EMPTY_MEMORY,
    episode,
    actions,
    lastEmergencyAt: mem.lastEmergencyAt,
    lastMaintenanceKey: mem.lastMaintenanceKey,
    cannotHelpAt: mem.cannotHelpAt ?? null,
    cannotHelpLevel: mem.cannotHelpLevel ?? null,
    flappingAt: mem.flappingAt ?? null,
  };
}

/** What the last scan says a smart cleanup would do (every counted file stale when not told). */
export function filesOf(input: LadderInput): NonNullable<LadderInput["files"]> {
  const counted = input.counted ?? 0;
  return input.files ?? { total: counted, stale: counted, heldByMinAge: 0, heldUntil: null };
}

/**
 * Emits an automatic action if the budget allows it; past the budget, the one "human needed" alert
 * instead, and the ladder stays silent until the company recovers.
 */
export function act(draft: Draft, action: LadderAction, step: string, reason: string): boolean {
  const { mem, now, input } = draft;
  const { max, window } = input.settings.ladder.budget;
  if (mem.actions.length >= max) {
    if (mem.humanNeededAt !== null) return false;
    mem.humanNeededAt = now;
    const text = `${input.company}: ${mem.actions.length} automatic actions in ${formatDuration(window)} without recovery (ladder.budget ${max}); not done: ${reason}. Next: wa-warden only keeps requesting reconnects until it recovers, at most ${formatDuration(input.settings.ladder.maxBackoff)} apart, and deletes nothing; by hand: \`${wardenCommand(`status ${input.company}`)}\`, \`${wardenCommand(`reconnect ${input.company}`)}\`.`;
    draft.actions.push({
      action: { kind: "alert", topic: "human_needed", level: "critical", text },
      step: { step: "alert:human_needed", reason: text },
    });
    draft.notes.push({
      step: "budget_exhausted",
      reason: `${mem.actions.length} automatic actions in ${formatDuration(window)} (budget ${max}); not done: ${reason}`,
    });
    return false;
  }
  mem.actions.push(now);
  draft.actions.push({ action, step: { step, reason } });
  return true;
}

/** Queues an alert (alerts do not count against the budget) and its step. */
export function alert(
  draft: Draft,
  topic: AlertTopic,
  level: "ok" | "warning" | "critical" | "fatal",
  text: string,
): void {
  draft.actions.push({
    action: { kind: "alert", topic, level, text },
    step: { step: `alert:${topic}`, reason: text },
  });
}

/** Records once per outage that a due destructive step waits for the network to come back. */
export function hold(draft: Draft, what: string): void {
  if (draft.mem.heldAt !== null && draft.mem.heldAt !== undefined) return;
  draft.mem.heldAt = draft.now;
  draft.notes.push({ step: "hold_outage", reason: `${what} held: the fleet is offline (network outage)` });
}

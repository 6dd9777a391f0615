/**
 * The pure ladder for a connected company: the "recovered" step that closes a down episode, then
 * the cleanups of a full folder: emergency cleanup at critical (at most once per
 * ladder.emergencyCooldown), scheduled cleanup in the maintenance window at warning (once per
 * window), each only when the plan deletes at least ladder.minCleanupFiles (with count.basis
 * "stale" that takes the company below any level); otherwise one "cleanup cannot help now" alert
 * per alerts.remindEvery instead of a stop that deletes (almost) nothing (issue 8).
 */

import { levelFor } from "../alerts/evaluate-thresholds.js";
import { cannotHelpText, cleanupHelps } from "../alerts/format-alert.js";
import { formatDuration } from "../config/duration.js";
import { act, alert, type Draft, filesOf, freshMemory, hold } from "./decision-draft.js";
import type { LadderMemory } from "./ladder-types.js";
import { maintenanceWindowKey } from "./maintenance-window.js";

/** Decides for a company whose state is "open": recovery step, emergency or maintenance cleanup. */
export function decideConnected(draft: Draft): void {
  const { input, now } = draft;
  const { thresholds, ladder, maintenance } = input.settings;
  if (draft.mem.episode !== null) {
    draft.notes.push({ step: "recovered", reason: `connected again after ${recap(draft.mem, now)}` });
    // "Counters reset when the company recovers": the budget too, so a later episode starts fresh.
    draft.mem = freshMemory(draft.mem, null, []);
  }
  // A budget exhausted while connected has no recovery to wait for: act again once the window has room.
  if (draft.mem.humanNeededAt !== null) {
    if (draft.mem.actions.length >= ladder.budget.max) return;
    draft.mem.humanNeededAt = null;
  }
  const counted = input.counted;
  if (counted === null) return;
  if (counted >= thresholds.critical) {
    const last = draft.mem.lastEmergencyAt;
    if (last !== null && now - last < ladder.emergencyCooldown) return;
    if (!worthCleaning(draft, counted, "emergency")) return;
    if (input.fleetOffline) {
      hold(draft, "emergency cleanup");
      return;
    }
    const reason = `connected, ${counted} counted files >= critical ${thresholds.critical}: emergency cleanup of ${filesOf(input).stale} stale files`;
    if (
      act(draft, { kind: "cleanup", mode: "smart", why: "emergency", force: false }, "cleanup:smart", reason)
    )
      draft.mem.lastEmergencyAt = now;
    return;
  }
  if (counted < thresholds.warning) return;
  const key = maintenanceWindowKey(now, maintenance.window, maintenance.timezone);
  if (key === null || key === draft.mem.lastMaintenanceKey) return;
  if (!worthCleaning(draft, counted, "maintenance")) {
    draft.mem.lastMaintenanceKey = key; // once per window
    return;
  }
  if (input.fleetOffline) {
    hold(draft, "maintenance cleanup");
    return;
  }
  const reason = `connected, ${counted} counted files >= warning ${thresholds.warning}, maintenance window ${maintenance.window} ${maintenance.timezone}`;
  if (
    act(draft, { kind: "cleanup", mode: "smart", why: "maintenance", force: false }, "cleanup:smart", reason)
  )
    draft.mem.lastMaintenanceKey = key;
}

/**
 * True when a smart cleanup is worth a stop at this count; otherwise one rate-limited
 * "cleanup cannot help now" alert (issue 8: the demo stopped sockets every hour to delete nothing).
 */
function worthCleaning(draft: Draft, counted: number, why: string): boolean {
  const { input, now } = draft;
  const files = filesOf(input);
  const level = levelFor(counted, input.settings.thresholds);
  if (cleanupHelps(level, { counted, stale: files.stale }, input.settings)) return true;
  const last = draft.mem.cannotHelpAt ?? null;
  if (last !== null && now - last < input.settings.alerts.remindEvery) return false;
  draft.mem.cannotHelpAt = now;
  const { company } = input;
  const text = `${company}: ${counted} counted files (${level}), but ${cannotHelpText(files)}; a cleanup would delete fewer than ladder.minCleanupFiles (${input.settings.ladder.minCleanupFiles}) files. Next: wa-warden does not stop ${company} for a ${why} cleanup and repeats this at most every ${formatDuration(input.settings.alerts.remindEvery)}. By hand: \`warden cleanup ${company} --dry-run\`.`;
  alert(draft, "cannot_help", "warning", text);
  return false;
}

/** "31m down; 3 reconnects, smart cleanup" for the recovered step. */
function recap(mem: LadderMemory, now: number): string {
  const done = [
    mem.reconnects > 0 ? `${mem.reconnects} reconnect${mem.reconnects === 1 ? "" : "s"}` : "",
    mem.cleanupAt !== null ? "smart cleanup" : "",
    mem.resetAt !== null ? "reset" : "",
  ].filter(Boolean);
  const down = `${formatDuration(now - (mem.episode ?? now))} down`;
  return done.length === 0 ? down : `${down}; the ladder had requested: ${done.join(", ")}`;
}

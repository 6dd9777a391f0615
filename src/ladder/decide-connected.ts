/**
 * The pure ladder for a connected company: the "recovered" step that closes a down episode (only
 * once the connection lasted ladder.stableAfter: a shorter one is a flap), then the cleanups of a
 * full folder, each only when the plan deletes at least ladder.minCleanupFiles:
 * - warning and critical: a scheduled cleanup in the maintenance window, once per window;
 * - fatal: an emergency cleanup at once, at most once per ladder.emergencyCooldown (the only case
 *   that stops a socket outside the window);
 * otherwise one "cleanup cannot help now" alert per level episode instead of a stop that deletes
 * (almost) nothing (invariant 13).
 */

import { levelFor } from "../alerts/evaluate-thresholds.js";
import { cannotHelpText, cleanupHelps } from "../alerts/format-alert.js";
import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import { act, alert, type Draft, filesOf, freshMemory, hold } from "./decision-draft.js";
import type { LadderMemory } from "./ladder-types.js";
import { maintenanceWindowKey } from "./maintenance-window.js";

/** Decides for a company whose state is "open": recovery step, emergency or maintenance cleanup. */
export function decideConnected(draft: Draft): void {
  const { input, now } = draft;
  const { thresholds, ladder, maintenance } = input.settings;
  // A connection younger than stableAfter may be a flap: no recovery yet, and no stop for a cleanup.
  if (input.openSince !== null && input.openSince !== undefined && now - input.openSince < ladder.stableAfter)
    return;
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
  const level = levelFor(counted, thresholds);
  if (level === "ok" || level === "monitor") {
    draft.mem.cannotHelpLevel = null; // the level episode is over
    return;
  }
  if (level === "fatal") {
    const last = draft.mem.lastEmergencyAt;
    if (last !== null && now - last < ladder.emergencyCooldown) return;
    if (!worthCleaning(draft, counted, "an emergency")) return;
    if (input.fleetOffline) {
      hold(draft, "emergency cleanup");
      return;
    }
    const reason = `connected, ${counted} counted files >= fatal ${thresholds.fatal}: emergency cleanup of ${filesOf(input).stale} stale files`;
    if (
      act(draft, { kind: "cleanup", mode: "smart", why: "emergency", force: false }, "cleanup:smart", reason)
    )
      draft.mem.lastEmergencyAt = now;
    return;
  }
  const key = maintenanceWindowKey(now, maintenance.window, maintenance.timezone);
  if (key === null || key === draft.mem.lastMaintenanceKey) return;
  if (!worthCleaning(draft, counted, "a maintenance")) {
    draft.mem.lastMaintenanceKey = key; // once per window
    return;
  }
  if (input.fleetOffline) {
    hold(draft, "maintenance cleanup");
    return;
  }
  const reason = `connected, ${counted} counted files (${level}, >= warning ${thresholds.warning}), maintenance window ${maintenance.window} ${maintenance.timezone}`;
  if (
    act(draft, { kind: "cleanup", mode: "smart", why: "maintenance", force: false }, "cleanup:smart", reason)
  )
    draft.mem.lastMaintenanceKey = key;
}

/**
 * True when a smart cleanup is worth a stop at this count; otherwise one "cleanup cannot help now"
 * alert per level episode (the demo once stopped sockets every hour to delete nothing).
 */
function worthCleaning(draft: Draft, counted: number, what: string): boolean {
  const { input, now } = draft;
  const files = filesOf(input);
  const level = levelFor(counted, input.settings.thresholds);
  if (cleanupHelps(level, { counted, stale: files.stale }, input.settings)) return true;
  if ((draft.mem.cannotHelpLevel ?? null) === level) return false;
  draft.mem.cannotHelpLevel = level;
  draft.mem.cannotHelpAt = now;
  const { company } = input;
  const text = `${company}: ${counted} counted files (${level}), but ${cannotHelpText(files)}; a cleanup would delete fewer than ladder.minCleanupFiles (${input.settings.ladder.minCleanupFiles}) files. Next: wa-warden does not stop ${company} for ${what} cleanup and says this once while the count stays ${level}. By hand: \`${wardenCommand(`status ${company}`)}\` shows the live files; the count falls as their sessions age past cleanup.sessionMaxAge.`;
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

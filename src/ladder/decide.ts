/**
 * The recovery ladder, pure: what to do for one company, as a function of its state, its settings,
 * the ladder's memory of this down episode, and now. The runner carries the actions out.
 *
 * Down company: wait (warnAfter) → warning → reconnect requests with doubling backoff → once the
 * last one was given its time: with key-state evidence (500 badSession closes, a decrypt-failure
 * storm) a smart cleanup, then the last-resort reset, then QR required; without it, a smart
 * cleanup only when its plan would help, then one "human needed" alert naming the close codes seen
 * (408 / 428 / 503 are the network or WhatsApp, not the keys). A file count alone never resets
 * (issue 8). 401/403 need a QR at once (reconnecting cannot help, Baileys' DisconnectReason).
 * Connected company: emergency cleanup at critical, scheduled cleanup in the maintenance window at
 * warning, each only when the plan deletes at least ladder.minCleanupFiles (with count.basis
 * "stale" that takes the company below any level); otherwise one "cleanup cannot help now" alert
 * per alerts.remindEvery instead of a stop that deletes (almost) nothing.
 * A network outage holds every destructive step: cleaning a fleet that merely lost its network
 * destroys healthy sessions. Past budget.max automatic actions in budget.window: one alert, then
 * nothing until the company recovers, so a ladder that cannot help does not loop.
 */

import { levelFor } from "../alerts/evaluate-thresholds.js";
import { cannotHelpText, cleanupHelps } from "../alerts/format-alert.js";
import { formatDuration } from "../config/duration.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";
import { describeCodes } from "./close-codes.js";
import { DEFAULT_EVIDENCE_SETTINGS, describeEvidence, hasKeyStateEvidence } from "./key-state-evidence.js";
import {
  type AlertTopic,
  type Decision,
  EMPTY_MEMORY,
  type LadderAction,
  type LadderInput,
  type LadderMemory,
  type LadderStep,
  type PlannedAction,
} from "./ladder-types.js";

export {
  type AlertTopic,
  type Decision,
  EMPTY_MEMORY,
  type LadderAction,
  type LadderInput,
  type LadderMemory,
  type LadderStep,
  type PlannedAction,
} from "./ladder-types.js";

import { maintenanceWindowKey } from "./maintenance-window.js";

/** The decision being built; `mem` is a private copy, so the input is never mutated. */
interface Draft {
  input: LadderInput;
  now: number;
  mem: LadderMemory;
  actions: PlannedAction[];
  notes: LadderStep[];
}

const QR_STATES: ReadonlySet<string> = new Set(["qr_required", "forbidden"]);
const QR_CODES: ReadonlySet<number> = new Set([401, 403]);

/** Decides what the ladder does for one company now; feed the returned memory back next time. */
export function decide(input: LadderInput, now: number): Decision {
  if (!input.settings.ladder.enabled || input.desired === "stop")
    return { actions: [], notes: [], memory: input.memory };
  const { window } = input.settings.ladder.budget;
  const mem: LadderMemory = {
    ...input.memory,
    actions: input.memory.actions.filter((t) => now - t < window),
  };
  if (!input.fleetOffline) mem.heldAt = null;
  const draft: Draft = { input, now, mem, actions: [], notes: [] };
  if (input.state === "open") decideConnected(draft);
  else decideDown(draft);
  return { actions: draft.actions, notes: draft.notes, memory: draft.mem };
}

/** Memory for a new episode: per-episode fields cleared, budget and connected-side memory kept. */
function freshMemory(mem: LadderMemory, episode: number | null, actions: number[]): LadderMemory {
  return {
    ...EMPTY_MEMORY,
    episode,
    actions,
    lastEmergencyAt: mem.lastEmergencyAt,
    lastMaintenanceKey: mem.lastMaintenanceKey,
    cannotHelpAt: mem.cannotHelpAt ?? null,
  };
}

/** What the last scan says a smart cleanup would do (every counted file stale when not told). */
function filesOf(input: LadderInput): NonNullable<LadderInput["files"]> {
  const counted = input.counted ?? 0;
  return input.files ?? { total: counted, stale: counted, heldByMinAge: 0, heldUntil: null };
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

function decideConnected(draft: Draft): void {
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

function decideDown(draft: Draft): void {
  const { input, now } = draft;
  const { company, state, code } = input;
  if (state === null && input.downSince === null) return; // never reported: nothing is known yet
  // The store always sets downSince for a non-open state; without it, count from the first sighting.
  const since = input.downSince ?? draft.mem.episode ?? now;
  if (draft.mem.episode !== since) draft.mem = freshMemory(draft.mem, since, draft.mem.actions);
  const mem = draft.mem;
  if (mem.qrRequiredAt !== null || mem.humanNeededAt !== null) return;
  const down = now - since;

  if (QR_STATES.has(state ?? "") || (state !== "pairing" && code !== null && QR_CODES.has(code))) {
    const forbidden = state === "forbidden" || code === 403;
    const reason = forbidden ? "WhatsApp refused the number (403 forbidden)" : loggedOut(code);
    if (!act(draft, { kind: "qr_required", reason }, "qr_required", `${reason}; reconnecting cannot help`))
      return;
    mem.qrRequiredAt = now;
    alert(draft, "qr_required", "fatal", `${company}: ${reason}. ${qrNext(company)}`);
    return;
  }
  if (state !== null && TERMINAL_STATES.has(state as ConnectionStateName)) {
    mem.humanNeededAt = now;
    const text =
      state === "replaced"
        ? `${company}: another client took over the WhatsApp session (440 connection replaced) ${formatDuration(down)} ago. The warden does not fight it: close the other client (often a second process on the same creds), then \`warden start ${company}\`.`
        : `${company}: WhatsApp rejects the client version Baileys speaks (${state}, 405); no reconnect can help. Upgrade Baileys, then restart the workers.`;
    alert(draft, "human_needed", "critical", text);
    return;
  }
  if (state === "pairing") return; // waiting for a human to scan or type the code

  const { ladder } = input.settings;
  if (down < ladder.warnAfter) return;
  // During an outage the runner sends one grouped alert; warnedAt stays null so this company is
  // still warned about if the outage ends and it did not come back.
  if (mem.warnedAt === null && !input.fleetOffline) {
    mem.warnedAt = now;
    const detail = `state ${state ?? "unknown"}${code === null ? "" : `, close code ${code}`}`;
    const next =
      mem.reconnects > 0
        ? `${mem.reconnects} of ${ladder.reconnectAttempts} reconnects already requested; the ladder goes on.`
        : down < ladder.reconnectAfter
          ? `A reconnect will be requested at ${formatDuration(ladder.reconnectAfter)} down.`
          : "Requesting a reconnect now.";
    alert(
      draft,
      "down",
      "warning",
      `${company} disconnected for ${formatDuration(down)} (${detail}). ${next}`,
    );
  }
  if (down < ladder.reconnectAfter) return;
  if (mem.reconnects < ladder.reconnectAttempts) {
    const k = mem.reconnects + 1;
    const due = k === 1 || now >= (mem.lastReconnectAt ?? since) + ladder.reconnectBackoff * 2 ** (k - 2);
    const reason = `down ${formatDuration(down)}, ${ordinal(k)} reconnect of ${ladder.reconnectAttempts}`;
    if (due && act(draft, { kind: "reconnect", attempt: k }, "reconnect", reason)) {
      mem.reconnects = k;
      mem.lastReconnectAt = now;
    }
    return; // reconnects are allowed during an outage: the ladder holds at wait/reconnect
  }
  const lastGivenTime = ladder.reconnectBackoff * 2 ** (ladder.reconnectAttempts - 1);
  if (now < (mem.lastReconnectAt ?? since) + lastGivenTime) return;
  climbPastReconnects(draft, down);
}

/**
 * Reconnects failed. With key-state evidence: smart cleanup, then reset, then QR required. Without:
 * a smart cleanup only when it would help, then one "human needed" alert; never a reset.
 */
function climbPastReconnects(draft: Draft, down: number): void {
  const { input, now, mem } = draft;
  const { company, counted, fleetOffline } = input;
  const { thresholds, ladder } = input.settings;
  const ago = (t: number) => formatDuration(now - t);
  const head = `down ${formatDuration(down)}`;
  const evidence = hasKeyStateEvidence(input.evidence, DEFAULT_EVIDENCE_SETTINGS);

  if (mem.resetAt !== null) {
    if (now < mem.resetAt + ladder.settleFor) return;
    if (fleetOffline) {
      hold(draft, "QR required after the reset");
      return;
    }
    const reason = "reset did not bring it back";
    const stepReason = `${head}, still down ${ago(mem.resetAt)} after the last-resort reset`;
    if (!act(draft, { kind: "qr_required", reason }, "qr_required", stepReason)) return;
    mem.qrRequiredAt = now;
    const text = `${company} is still down ${ago(mem.resetAt)} after the last-resort reset (down ${formatDuration(down)}). ${qrNext(company)}`;
    alert(draft, "reset_failed", "fatal", text);
    return;
  }
  const files = filesOf(input);
  if (mem.cleanupAt !== null) {
    if (now < mem.cleanupAt + ladder.settleFor) return; // the cleanup is given settleFor to work
    if (evidence) {
      reset(
        draft,
        `${head}, still down ${ago(mem.cleanupAt)} after the smart cleanup; ${describeEvidence(input.evidence)}`,
      );
      return;
    }
    humanNeeded(draft, down, `the smart cleanup ${ago(mem.cleanupAt)} ago did not bring it back`);
    return;
  }
  if (evidence) {
    // "A smart cleanup tried first": when its plan holds too little to matter, it counts as tried.
    if (files.stale < Math.max(1, ladder.minCleanupFiles)) {
      if (fleetOffline) {
        hold(draft, "last-resort reset");
        return;
      }
      draft.notes.push({
        step: "cleanup_skipped",
        reason: `${head}, ${describeEvidence(input.evidence)}; the smart cleanup would delete ${files.stale} files (< ladder.minCleanupFiles ${ladder.minCleanupFiles}): straight to the reset`,
      });
      reset(draft, `${head}, ${describeEvidence(input.evidence)}, smart cleanup has nothing to delete`);
      return;
    }
    smartWhileDown(
      draft,
      `${head}, ${describeEvidence(input.evidence)}: smart cleanup of ${files.stale} stale files before any reset`,
    );
    return;
  }
  if (counted !== null && counted >= thresholds.warning) {
    const level = levelFor(counted, thresholds);
    if (cleanupHelps(level, { counted, stale: files.stale }, input.settings)) {
      smartWhileDown(
        draft,
        `${head}, ${counted} counted files >= warning ${thresholds.warning}, reconnects failed: smart cleanup of ${files.stale} stale files`,
      );
      return;
    }
  }
  // During an outage the network is the likely cause: no "look at the logs" yet.
  if (fleetOffline) return;
  const why =
    counted === null
      ? "its folder was never counted"
      : counted >= thresholds.warning
        ? `${counted} counted files, but ${cannotHelpText(files)}`
        : `files are not the cause (${counted} counted < warning ${thresholds.warning})`;
  humanNeeded(draft, down, why);
}

function smartWhileDown(draft: Draft, reason: string): void {
  if (draft.input.fleetOffline) {
    hold(draft, "smart cleanup");
    return;
  }
  const smart = { kind: "cleanup", mode: "smart", why: "down", force: false } as const;
  if (act(draft, smart, "cleanup:smart", reason)) draft.mem.cleanupAt = draft.now;
}

function reset(draft: Draft, reason: string): void {
  if (draft.input.fleetOffline) {
    hold(draft, "last-resort reset");
    return;
  }
  // force: no minAge; the reset plan (src/actions/plan-reset.ts) keeps what Baileys needs.
  const action = { kind: "cleanup", mode: "reset", why: "down", force: true } as const;
  if (act(draft, action, "cleanup:reset", reason)) draft.mem.resetAt = draft.now;
}

/** One "human needed" alert naming the close codes seen; the ladder then waits for a recovery. */
function humanNeeded(draft: Draft, down: number, why: string): void {
  const { input, mem, now } = draft;
  const { company } = input;
  mem.humanNeededAt = now;
  const codes = describeCodes(input.codesSeen ?? []);
  const text = `${company} is still down after ${formatDuration(down)}: ${input.settings.ladder.reconnectAttempts} reconnects failed (${codes}); ${why}. No key-state evidence (no 500 badSession closes, no decrypt-failure storm), so nothing is deleted. Next: wa-warden keeps the worker reconnecting and does nothing more until it recovers; look at the worker logs and the network, then \`warden reconnect ${company}\`.`;
  alert(draft, "human_needed", "critical", text);
}

/** What an operator does after QR required, with the company's own commands. */
function qrNext(company: string): string {
  return `A backup is taken and nothing is deleted; the company stays stopped until it is paired again: \`warden pair ${company} --new\`, then scan the QR shown by \`warden status ${company}\`.`;
}

function loggedOut(code: number | null): string {
  return `WhatsApp logged the device out${code === null ? "" : ` (${code})`}`;
}

/**
 * Emits an automatic action if the budget allows it; past the budget, the one "human needed" alert
 * instead, and the ladder stays silent until the company recovers.
 */
function act(draft: Draft, action: LadderAction, step: string, reason: string): boolean {
  const { mem, now, input } = draft;
  const { max, window } = input.settings.ladder.budget;
  if (mem.actions.length >= max) {
    if (mem.humanNeededAt !== null) return false;
    mem.humanNeededAt = now;
    const text = `${input.company}: ${mem.actions.length} automatic actions in ${formatDuration(window)} without recovery; the ladder stops acting until it recovers. Look at it by hand. Next: wa-warden does nothing more for ${input.company} until it recovers (ladder.budget); by hand: \`warden status ${input.company}\`, \`warden reconnect ${input.company}\`.`;
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
function alert(draft: Draft, topic: AlertTopic, level: "warning" | "critical" | "fatal", text: string): void {
  draft.actions.push({
    action: { kind: "alert", topic, level, text },
    step: { step: `alert:${topic}`, reason: text },
  });
}

/** Records once per outage that a due destructive step waits for the network to come back. */
function hold(draft: Draft, what: string): void {
  if (draft.mem.heldAt !== null && draft.mem.heldAt !== undefined) return;
  draft.mem.heldAt = draft.now;
  draft.notes.push({ step: "hold_outage", reason: `${what} held: the fleet is offline (network outage)` });
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

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}

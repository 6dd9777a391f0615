/**
 * The pure ladder for a company that is down: wait (warnAfter) → warning → reconnect requests with
 * doubling backoff → once the last one was given its time, ONE "human needed" alert stating the
 * evidence as it is (close codes with counts, the last error text, the connectivity probe, what
 * was done), then reconnect requests go on, at most ladder.maxBackoff apart. Nothing is deleted
 * on a close code: no key file can keep a socket from connecting (key-state-evidence.ts). Only
 * with key-state evidence (a decrypt-failure storm) a smart cleanup of stale files is tried, and
 * only with ladder.autoReset a reset after it. Only 401 leads to QR required; 403, 411, 440 and 405
 * get one "human needed" alert with their own truthful text (close-codes.ts). During an outage
 * reconnects go on and every destructive step is held.
 */

import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";
import { CLOSE_CODE_MEANINGS, meaningOf, STATE_CODES } from "./close-codes.js";
import { act, alert, type Draft, filesOf, freshMemory, hold } from "./decision-draft.js";
import { describeEvidence, hasKeyStateEvidence } from "./key-state-evidence.js";
import { byHand, evidenceLines } from "./ladder-texts.js";

/** Decides for a company whose state is not "open": QR (401 only), terminal alert, or the climb. */
export function decideDown(draft: Draft): void {
  const { input, now } = draft;
  const { company, state, code } = input;
  if (state === null && input.downSince === null) return; // never reported: nothing is known yet
  // The store always sets downSince for a non-open state; without it, count from the first sighting.
  const since = input.downSince ?? draft.mem.episode ?? now;
  if (draft.mem.episode !== since) draft.mem = freshMemory(draft.mem, since, draft.mem.actions);
  const mem = draft.mem;
  if (mem.qrRequiredAt !== null) return;

  if (loggedOut(state, code)) {
    const meaning = CLOSE_CODE_MEANINGS[401] as (typeof CLOSE_CODE_MEANINGS)[number];
    const reason = meaning.what;
    if (!act(draft, { kind: "qr_required", reason }, "qr_required", `${reason}; reconnecting cannot help`))
      return;
    mem.qrRequiredAt = now;
    alert(draft, "qr_required", "fatal", `${company}: ${reason}. Next: ${meaning.next(company)}`);
    return;
  }
  const terminal = terminalCode(state, code);
  if (terminal !== null || state === "auth_store_failed") {
    if (mem.humanNeededAt !== null) return;
    mem.humanNeededAt = now;
    const meaning = meaningOf(terminal);
    const text =
      state === "auth_store_failed"
        ? `${company}: its auth database failed; the worker stopped it rather than start a new identity. Fix the cause named in \`${wardenCommand(`status ${company}`)}\`, then \`${wardenCommand(`start ${company}`)}\`.`
        : `${company}: ${meaning.what} (${formatDuration(now - since)} ago). Next: ${meaning.next(company)}`;
    alert(draft, "human_needed", "critical", text);
    return;
  }
  if (state === "pairing") return; // waiting for a human to scan or type the code
  if (mem.humanNeededAt !== null) {
    reconnectOnward(draft, since);
    return;
  }

  const { ladder } = input.settings;
  const down = now - since;
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
      `${company} disconnected for ${formatDuration(down)} (${detail}). ${next} Nothing is deleted for a close code.`,
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

/** 401 (device_removed included) is the only close that means the device is gone. */
function loggedOut(state: string | null, code: number | null): boolean {
  if (state === "pairing") return false;
  if (code === 401) return true;
  // A qr_required row written without a code (or by an older worker for 411) says what it says.
  return state === "qr_required" && (code === null || CLOSE_CODE_MEANINGS[code]?.state === "qr_required");
}

/** The close code of a state that waits for a human (403, 405, 411, 440), or null. */
function terminalCode(state: string | null, code: number | null): number | null {
  const own = code === null ? undefined : CLOSE_CODE_MEANINGS[code];
  if (state !== null && TERMINAL_STATES.has(state as ConnectionStateName))
    return own?.state === state ? code : (STATE_CODES[state] ?? null);
  if (state === "open" || state === "pairing" || own === undefined || own.state === "reconnecting")
    return null;
  return code;
}

/**
 * Reconnects failed. Without key-state evidence (the usual case: close codes are never evidence)
 * one "human needed" alert. With it: a smart cleanup when its plan deletes enough, then a reset
 * only with ladder.autoReset; anything still down after that is a human's.
 */
function climbPastReconnects(draft: Draft, down: number): void {
  const { input, now, mem } = draft;
  const { ladder } = input.settings;
  const ago = (t: number) => formatDuration(now - t);
  const head = `down ${formatDuration(down)}`;
  const evidence = hasKeyStateEvidence(input.evidence);
  const failed = `${mem.reconnects} reconnect request${mem.reconnects === 1 ? "" : "s"} did not bring it back`;

  if (mem.resetAt !== null) {
    if (now < mem.resetAt + ladder.settleFor) return;
    humanNeeded(draft, down, `the reset ${ago(mem.resetAt)} ago did not bring it back either`);
    return;
  }
  const files = filesOf(input);
  if (mem.cleanupAt !== null) {
    if (now < mem.cleanupAt + ladder.settleFor) return; // the cleanup is given settleFor to work
    if (evidence && ladder.autoReset) {
      reset(
        draft,
        `${head}, still down ${ago(mem.cleanupAt)} after the smart cleanup; ${describeEvidence(input.evidence)}; ladder.autoReset is on`,
      );
      return;
    }
    humanNeeded(draft, down, `the smart cleanup ${ago(mem.cleanupAt)} ago did not bring it back`);
    return;
  }
  if (evidence) {
    if (files.stale >= Math.max(1, ladder.minCleanupFiles)) {
      smartWhileDown(
        draft,
        `${head}, ${describeEvidence(input.evidence)}: smart cleanup of ${files.stale} stale files`,
      );
      return;
    }
    if (ladder.autoReset) {
      if (input.fleetOffline) {
        hold(draft, "reset");
        return;
      }
      draft.notes.push({
        step: "cleanup_skipped",
        reason: `${head}, ${describeEvidence(input.evidence)}; the smart cleanup would delete ${files.stale} files (< ladder.minCleanupFiles ${ladder.minCleanupFiles}): straight to the reset (ladder.autoReset)`,
      });
      reset(draft, `${head}, ${describeEvidence(input.evidence)}, smart cleanup has nothing to delete`);
      return;
    }
  }
  // During an outage the network is the likely cause: no "human needed" yet.
  if (input.fleetOffline) return;
  humanNeeded(draft, down, failed);
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
    hold(draft, "reset");
    return;
  }
  // force: no minAge; the reset plan (src/actions/cleanup/plan-reset.ts) keeps what Baileys needs.
  const action = { kind: "cleanup", mode: "reset", why: "down", force: true } as const;
  if (act(draft, action, "cleanup:reset", reason)) draft.mem.resetAt = draft.now;
}

/** One "human needed" alert with the evidence as it is; reconnects go on, nothing is deleted. */
function humanNeeded(draft: Draft, down: number, why: string): void {
  const { input, mem, now } = draft;
  const { company } = input;
  const { ladder } = input.settings;
  mem.humanNeededAt = now;
  const policy = ladder.autoReset
    ? "ladder.autoReset is on, but it resets only on key-state evidence"
    : "ladder.autoReset is off";
  const text = [
    `${company} is still down after ${formatDuration(down)}: ${why}.`,
    ...evidenceLines(draft),
    `Next: wa-warden keeps requesting reconnects, at most ${formatDuration(ladder.maxBackoff)} apart, and deletes nothing more (${policy}).`,
    byHand(company),
  ].join("\n");
  alert(draft, "human_needed", "critical", text);
}

/** After the "human needed" alert: reconnect requests with doubling backoff capped at ladder.maxBackoff. */
function reconnectOnward(draft: Draft, since: number): void {
  const { input, now, mem } = draft;
  const { ladder } = input.settings;
  const wait = Math.min(ladder.maxBackoff, ladder.reconnectBackoff * 2 ** Math.max(0, mem.reconnects - 1));
  if (now < (mem.lastReconnectAt ?? since) + wait) return;
  const k = mem.reconnects + 1;
  // Not counted against the budget: a reconnect deletes nothing, and the human was already told.
  draft.actions.push({
    action: { kind: "reconnect", attempt: k },
    step: {
      step: "reconnect",
      reason: `down ${formatDuration(now - since)}, human needed; reconnect ${k} (at most ${formatDuration(ladder.maxBackoff)} apart)`,
    },
  });
  mem.reconnects = k;
  mem.lastReconnectAt = now;
}

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}

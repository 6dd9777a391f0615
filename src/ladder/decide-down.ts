/**
 * The pure ladder for a company that is down: wait (warnAfter) → warning → reconnect requests with
 * doubling backoff → once the last one was given its time: with key-state evidence (500 badSession
 * closes, a decrypt-failure storm) a smart cleanup, then the last-resort reset, then QR required;
 * without it, a smart cleanup only when its plan would help, then one "human needed" alert naming
 * the close codes seen (408 / 428 / 503 are the network or WhatsApp, not the keys). A file count
 * alone never resets (issue 8). 401/403 need a QR at once (reconnecting cannot help, Baileys'
 * DisconnectReason); terminal states (440 replaced, 405) get one "human needed" alert. During an
 * outage reconnects go on and every destructive step is held.
 */

import { levelFor } from "../alerts/evaluate-thresholds.js";
import { cannotHelpText, cleanupHelps } from "../alerts/format-alert.js";
import { formatDuration } from "../config/duration.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";
import { describeCodes } from "./close-codes.js";
import { act, alert, type Draft, filesOf, freshMemory, hold } from "./decision-draft.js";
import { DEFAULT_EVIDENCE_SETTINGS, describeEvidence, hasKeyStateEvidence } from "./key-state-evidence.js";

const QR_STATES: ReadonlySet<string> = new Set(["qr_required", "forbidden"]);
const QR_CODES: ReadonlySet<number> = new Set([401, 403]);

/** Decides for a company whose state is not "open": QR at once, terminal alert, or the climb. */
export function decideDown(draft: Draft): void {
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
        : state === "auth_store_failed"
          ? `${company}: its auth database failed; the worker stopped it rather than start a new identity. Fix the cause named in \`warden status ${company}\`, then \`warden start ${company}\`.`
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

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}

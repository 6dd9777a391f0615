/**
 * The recovery ladder, pure: what to do for one company, as a function of its state, its settings,
 * the ladder's memory of this down episode, and now. The runner carries the actions out.
 *
 * Down company: wait (warnAfter) → warning → reconnect requests with doubling backoff → once the
 * last one was given its time: smart cleanup if the files justify it → last-resort reset → QR
 * required. A low count means files are not the problem: the ladder asks a human instead of
 * deleting anything. 401/403 need a QR at once (reconnecting cannot help, Baileys' DisconnectReason).
 * Connected company: emergency cleanup at critical, scheduled cleanup in the maintenance window at
 * warning; a count alone never resets a connected session (that is how numbers get lost).
 * A network outage holds every destructive step: cleaning a fleet that merely lost its network
 * destroys healthy sessions. Past budget.max automatic actions in budget.window: one alert, then
 * nothing until the company recovers, so a ladder that cannot help does not loop.
 */
import { formatDuration } from "../config/duration.js";
import type { CompanySettings } from "../config/schema.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";
import { maintenanceWindowKey } from "./maintenance-window.js";

/** What the ladder remembers about a company between two checks (stored as JSON by the runner). */
export interface LadderMemory {
  /** downSince of the down episode this memory belongs to (null while connected) */
  episode: number | null;
  warnedAt: number | null;
  /** ladder reconnect requests in this episode */
  reconnects: number;
  lastReconnectAt: number | null;
  /** smart cleanup done while down, this episode */
  cleanupAt: number | null;
  /** last-resort reset done, this episode */
  resetAt: number | null;
  /** qr_required declared (this episode) */
  qrRequiredAt: number | null;
  /** budget exhausted / nothing left to try: the ladder stopped acting */
  humanNeededAt: number | null;
  /** times of automatic actions, for the budget (pruned to budget.window) */
  actions: number[];
  lastEmergencyAt: number | null;
  /** maintenanceWindowKey of the last scheduled cleanup */
  lastMaintenanceKey: string | null;
  /** when a due destructive step was first held for a fleet outage (one hold_outage step per outage); absent = null */
  heldAt?: number | null;
}

/** The memory of a company the ladder never acted on. */
export const EMPTY_MEMORY: Readonly<LadderMemory> = Object.freeze({
  episode: null,
  warnedAt: null,
  reconnects: 0,
  lastReconnectAt: null,
  cleanupAt: null,
  resetAt: null,
  qrRequiredAt: null,
  humanNeededAt: null,
  // Frozen so that a caller pushing into the shared empty list fails loudly instead of leaking.
  actions: Object.freeze([]) as unknown as number[],
  lastEmergencyAt: null,
  lastMaintenanceKey: null,
  heldAt: null,
});

/** Everything the ladder needs to know about one company at one check. */
export interface LadderInput {
  company: string;
  /** connection_state.state as workers report it (ConnectionStateName) or null if never reported */
  state: string | null;
  /** last close code reported (e.g. 401, 403, 428) or null */
  code: number | null;
  downSince: number | null;
  /** the operator's wish: "stop" means an operator stopped it: the ladder does nothing (no alerts either) */
  desired: "run" | "stop";
  /** counted files (thresholds apply to it); null when the folder was never scanned */
  counted: number | null;
  settings: Pick<CompanySettings, "thresholds" | "ladder" | "maintenance">;
  /** the whole fleet is considered offline (network outage) */
  fleetOffline: boolean;
  memory: LadderMemory;
}

/** Something the runner must do: queue an alert, request a reconnect, clean, or declare QR required. */
export type LadderAction =
  | {
      kind: "alert";
      topic: "down" | "human_needed" | "qr_required" | "reset_failed";
      level: "warning" | "critical" | "fatal";
      text: string;
    }
  | { kind: "reconnect"; attempt: number }
  | { kind: "cleanup"; mode: "smart" | "reset"; why: "down" | "emergency" | "maintenance"; force: boolean }
  /** executor: backup first, nothing deleted, mark qr_required, stop */
  | { kind: "qr_required"; reason: string };

/** A line for the ladder's history: one per action, plus recoveries, outage holds and budget stops. */
export interface LadderStep {
  step: string;
  reason: string;
}

/** The ladder's answer: actions in order, the memory to store, the steps to record. */
export interface Decision {
  actions: LadderAction[];
  memory: LadderMemory;
  steps: LadderStep[];
}

/** The decision being built; `mem` is a private copy, so the input is never mutated. */
interface Draft {
  input: LadderInput;
  now: number;
  mem: LadderMemory;
  actions: LadderAction[];
  steps: LadderStep[];
}

const QR_STATES: ReadonlySet<string> = new Set(["qr_required", "forbidden"]);
const QR_CODES: ReadonlySet<number> = new Set([401, 403]);

/** Decides what the ladder does for one company now; feed the returned memory back next time. */
export function decide(input: LadderInput, now: number): Decision {
  if (!input.settings.ladder.enabled || input.desired === "stop")
    return { actions: [], memory: input.memory, steps: [] };
  const { window } = input.settings.ladder.budget;
  const mem: LadderMemory = {
    ...input.memory,
    actions: input.memory.actions.filter((t) => now - t < window),
  };
  if (!input.fleetOffline) mem.heldAt = null;
  const draft: Draft = { input, now, mem, actions: [], steps: [] };
  if (input.state === "open") decideConnected(draft);
  else decideDown(draft);
  return { actions: draft.actions, memory: draft.mem, steps: draft.steps };
}

/** Memory for a new episode: per-episode fields cleared, budget and connected-side memory kept. */
function freshMemory(mem: LadderMemory, episode: number | null, actions: number[]): LadderMemory {
  return {
    ...EMPTY_MEMORY,
    episode,
    actions,
    lastEmergencyAt: mem.lastEmergencyAt,
    lastMaintenanceKey: mem.lastMaintenanceKey,
  };
}

function decideConnected(draft: Draft): void {
  const { input, now } = draft;
  const { thresholds, ladder, maintenance } = input.settings;
  if (draft.mem.episode !== null) {
    draft.steps.push({ step: "recovered", reason: `connected again after ${recap(draft.mem, now)}` });
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
    if (input.fleetOffline) {
      hold(draft, "emergency cleanup");
      return;
    }
    const reason = `connected, ${counted} counted files >= critical ${thresholds.critical}: emergency cleanup`;
    if (
      act(draft, { kind: "cleanup", mode: "smart", why: "emergency", force: false }, "cleanup:smart", reason)
    )
      draft.mem.lastEmergencyAt = now;
    return;
  }
  if (counted < thresholds.warning) return;
  const key = maintenanceWindowKey(now, maintenance.window, maintenance.timezone);
  if (key === null || key === draft.mem.lastMaintenanceKey) return;
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

/** Reconnects failed: cleanup, reset, QR required, or a human when files are not the cause. */
function climbPastReconnects(draft: Draft, down: number): void {
  const { input, now, mem } = draft;
  const { company, counted, fleetOffline } = input;
  const { thresholds, ladder } = input.settings;
  const ago = (t: number) => formatDuration(now - t);
  const head = `down ${formatDuration(down)}`;

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
  const fatal = counted !== null && counted >= thresholds.fatal;
  if (fatal || (mem.cleanupAt !== null && now >= mem.cleanupAt + ladder.settleFor)) {
    if (fleetOffline) {
      hold(draft, "last-resort reset");
      return;
    }
    const why = fatal
      ? `${counted} counted files >= fatal ${thresholds.fatal}, reconnects failed`
      : `still down ${ago(mem.cleanupAt ?? now)} after the smart cleanup`;
    // force: the executor keeps creds.json and app-state, deletes the rest, reconnects once.
    const reset = { kind: "cleanup", mode: "reset", why: "down", force: true } as const;
    if (act(draft, reset, "cleanup:reset", `${head}, ${why}`)) mem.resetAt = now;
    return;
  }
  if (mem.cleanupAt !== null) return; // the cleanup is given settleFor to work
  if (counted !== null && counted >= thresholds.warning) {
    if (fleetOffline) {
      hold(draft, "smart cleanup");
      return;
    }
    const reason = `${head}, ${counted} counted files >= warning ${thresholds.warning}, reconnects failed`;
    const smart = { kind: "cleanup", mode: "smart", why: "down", force: false } as const;
    if (act(draft, smart, "cleanup:smart", reason)) mem.cleanupAt = now;
    return;
  }
  // During an outage the network is the likely cause: no "look at the logs" yet.
  if (fleetOffline) return;
  mem.humanNeededAt = now;
  const files =
    counted === null
      ? "its folder was never counted, so no cleanup is justified"
      : `files are not the cause (${counted} counted < warning ${thresholds.warning})`;
  const text = `${company} is still down after ${formatDuration(down)}: ${ladder.reconnectAttempts} reconnects failed and ${files}. The ladder stops acting until it recovers; look at the worker logs.`;
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
    const text = `${input.company}: ${mem.actions.length} automatic actions in ${formatDuration(window)} without recovery; the ladder stops acting until it recovers. Look at it by hand.`;
    draft.actions.push({ kind: "alert", topic: "human_needed", level: "critical", text });
    draft.steps.push({
      step: "budget_exhausted",
      reason: `${mem.actions.length} automatic actions in ${formatDuration(window)} (budget ${max}); not done: ${reason}`,
    });
    return false;
  }
  mem.actions.push(now);
  draft.actions.push(action);
  draft.steps.push({ step, reason });
  return true;
}

/** Queues an alert (alerts do not count against the budget) and its step. */
function alert(
  draft: Draft,
  topic: "down" | "human_needed" | "qr_required" | "reset_failed",
  level: "warning" | "critical" | "fatal",
  text: string,
): void {
  draft.actions.push({ kind: "alert", topic, level, text });
  draft.steps.push({ step: `alert:${topic}`, reason: text });
}

/** Records once per outage that a due destructive step waits for the network to come back. */
function hold(draft: Draft, what: string): void {
  if (draft.mem.heldAt !== null && draft.mem.heldAt !== undefined) return;
  draft.mem.heldAt = draft.now;
  draft.steps.push({ step: "hold_outage", reason: `${what} held: the fleet is offline (network outage)` });
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

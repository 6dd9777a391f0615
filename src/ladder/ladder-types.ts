/**
 * The ladder's vocabulary: its input, its memory between checks (and how a stored one is read back),
 * its actions, its answer, and how it notifies operators (src/ladder/decide.ts decides;
 * src/ladder/ladder-runner.ts carries out).
 */
import type { CompanySettings } from "../config/schema.js";
import type { Flap } from "./flapping.js";
import type { KeyStateEvidence } from "./key-state-evidence.js";

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
  /** last "cleanup cannot help now" alert; absent = null */
  cannotHelpAt?: number | null;
  /** the count level the last "cleanup cannot help now" alert was about (one per level episode); absent = null */
  cannotHelpLevel?: string | null;
  /** what the ladder's last cleanup of this episode did (written by the runner once it ran); absent = null */
  lastCleanup?: LadderCleanupRecord | null;
  /** the "flapping" alert went out (cleared with one "stable again" alert); absent = null */
  flappingAt?: number | null;
}

/** What a cleanup the ladder ran did, for the texts of later alerts. */
export interface LadderCleanupRecord {
  at: number;
  mode: "smart" | "reset";
  deleted: number;
  backup: string | null;
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
  cannotHelpAt: null,
  cannotHelpLevel: null,
  lastCleanup: null,
  flappingAt: null,
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
  /** counted files (thresholds apply to it, per count.basis); null when the folder was never scanned */
  counted: number | null;
  /**
   * What a smart cleanup would do now (from the last scan): files it deletes, the folder's total,
   * files minAge keeps and until when. Absent: every counted file is stale (basis "stale").
   */
  files?: { total: number; stale: number; heldByMinAge: number; heldUntil: number | null };
  /** Why the key state may be broken; the only road to a reset. */
  evidence: KeyStateEvidence;
  /** Close codes seen in this down episode, with counts (for the "human needed" alert). */
  codesSeen?: readonly { code: number; n: number }[];
  /** The last close of this episode as the worker recorded it: its code and error text. */
  lastClose?: { code: number | null; message: string | null; at: number } | null;
  /** The last connectivity probe (ok null: none ran); detail names the target and the error. */
  probe?: { ok: boolean | null; detail: string | null };
  /** When the current connection opened (state "open"): shorter than ladder.stableAfter is a flap. */
  openSince?: number | null;
  /** Connections of the last hour that closed before ladder.stableAfter (flapping.ts). */
  flaps?: readonly Flap[];
  settings: Pick<CompanySettings, "thresholds" | "ladder" | "maintenance" | "alerts">;
  /** the whole fleet is considered offline (network outage) */
  fleetOffline: boolean;
  memory: LadderMemory;
}

/** What a ladder alert is about. */
export type AlertTopic = "down" | "human_needed" | "qr_required" | "cannot_help" | "flapping" | "stable";

/** Something the runner must do: queue an alert, request a reconnect, clean, or declare QR required. */

export type LadderAction =
  | {
      kind: "alert";
      topic: AlertTopic;
      level: "ok" | "warning" | "critical" | "fatal";
      text: string;
    }
  | { kind: "reconnect"; attempt: number }
  | { kind: "cleanup"; mode: "smart" | "reset"; why: "down" | "emergency" | "maintenance"; force: boolean }
  /** executor: backup first, nothing deleted, mark qr_required, stop */
  | { kind: "qr_required"; reason: string };

/** A line for the ladder's history. */
export interface LadderStep {
  step: string;
  reason: string;
}

/** An action with the history line it is recorded under. */
export interface PlannedAction {
  action: LadderAction;
  step: LadderStep;
}

/**
 * The ladder's answer: actions in order (each with its step), the steps that carry no action
 * (recoveries, outage holds, budget stops, skipped cleanups), and the memory to store.
 */
export interface Decision {
  actions: PlannedAction[];
  notes: LadderStep[];
  memory: LadderMemory;
}

/** The stored memory, completed with defaults (older rows, hand edits); a fresh one when unusable. */
export function toMemory(raw: unknown): LadderMemory {
  if (!raw || typeof raw !== "object") return { ...EMPTY_MEMORY, actions: [] };
  const merged = { ...EMPTY_MEMORY, ...(raw as Partial<LadderMemory>) };
  return {
    ...merged,
    actions: Array.isArray(merged.actions) ? merged.actions.filter((t) => typeof t === "number") : [],
  };
}

/** How the runner tells operators something (the supervisor queues it in the outbox). */
export type LadderNotify = (
  company: string | null,
  title: string,
  detail: string,
  payload: Record<string, unknown>,
) => void;

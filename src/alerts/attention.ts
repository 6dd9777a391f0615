/**
 * What needs attention now, per company, across every source that can need it (files, connection,
 * signals; liveness adds itself as one more Problem). A logged-out or replaced company with few
 * files is not "ok": the dashboard's and `warden status`' first column is the worst problem of
 * all sources, and the fleet is sorted by it, worst first. Pure.
 */
import { TERMINAL_STATES } from "../fleet/connection-states.js";
import type { Level } from "../store/alert-state.js";

/** How urgent a problem is, lowest first: `human` means nothing automatic will fix it. */
export const SEVERITIES = ["ok", "notice", "warning", "critical", "human"] as const;

/** One of SEVERITIES. */
export type Severity = (typeof SEVERITIES)[number];

/** One thing that is wrong with a company, as an operator reads it. */
export interface Problem {
  /** Where it comes from: "files", "connection", "signals", "creds" (and "liveness"...). */
  source: string;
  severity: Severity;
  /** Short text for a table cell: "QR required since 12m", "files critical (186)". */
  text: string;
}

/** The attention a company needs: its worst severity and every problem, worst first. */
export interface Attention {
  severity: Severity;
  problems: Problem[];
  /** The worst problem's text, or "ok". */
  summary: string;
}

/** Rank of a severity (0 ok .. 4 human). */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Joins the problems of every source (null entries are sources with nothing to say). */
export function attentionOf(problems: readonly (Problem | null | undefined)[]): Attention {
  const list = problems
    .filter((p): p is Problem => p !== null && p !== undefined && p.severity !== "ok")
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const worst = list[0];
  return { severity: worst?.severity ?? "ok", problems: list, summary: worst?.text ?? "ok" };
}

/** Worst first: by severity, then by number of problems. */
export function compareAttention(a: Attention, b: Attention): number {
  return severityRank(b.severity) - severityRank(a.severity) || b.problems.length - a.problems.length;
}

const FILE_SEVERITY: Record<Level, Severity> = {
  ok: "ok",
  monitor: "notice",
  warning: "warning",
  critical: "critical",
  fatal: "critical",
};

/** The file-count level as a problem. */
export function filesProblem(level: Level, counted: number | undefined): Problem | null {
  if (level === "ok") return null;
  return {
    source: "files",
    severity: FILE_SEVERITY[level],
    text: `files ${level}${counted === undefined ? "" : ` (${counted})`}`,
  };
}

const HUMAN_TEXT: Record<string, string> = {
  qr_required: "QR required (logged out)",
  replaced: "replaced by another session",
  forbidden: "forbidden by WhatsApp",
  outdated_client: "outdated client",
  pairing: "waiting for a pairing scan",
};

/** A duration as an operator reads it in a cell: 45s, 12m, 3h, 2d. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/**
 * The connection as a problem. A state that only a person can end (QR required, replaced,
 * forbidden, outdated client, pairing) needs a human at once; any other down state is a problem
 * only after `warnAfter` (the ladder's own scale: a reconnect or our own short hold is not one).
 */
export function connectionProblem(
  connection: { state: string; since: number | null; downSince: number | null },
  now: number,
  warnAfter: number,
): Problem | null {
  const { state } = connection;
  const since = connection.downSince ?? connection.since;
  const age = since === null ? "" : ` for ${shortDuration(now - since)}`;
  if (TERMINAL_STATES.has(state as never) || state === "pairing")
    return { source: "connection", severity: "human", text: `${HUMAN_TEXT[state] ?? state}${age}` };
  if (state === "open" || state === "unknown" || since === null || now - since < warnAfter) return null;
  return {
    source: "connection",
    severity: state === "stopped" ? "notice" : "warning",
    text: `${state === "stopped" ? "stopped" : `disconnected (${state})`}${age}`,
  };
}

/** creds.json as a problem: corrupt needs a human; missing means not paired yet. */
export function credsProblem(creds: string): Problem | null {
  if (creds === "corrupt") return { source: "creds", severity: "human", text: "creds.json corrupt" };
  if (creds === "missing") return { source: "creds", severity: "notice", text: "not paired (no creds.json)" };
  return null;
}

/** Decrypt failures as a problem: a storm (the alert's own threshold) is critical. */
export function signalsProblem(
  decryptFailures: number,
  alertAt: { count: number; window: number },
): Problem | null {
  if (decryptFailures === 0) return null;
  const text = `${decryptFailures} decrypt failures in ${shortDuration(alertAt.window)}`;
  return {
    source: "signals",
    severity: decryptFailures >= alertAt.count ? "critical" : "notice",
    text: decryptFailures >= alertAt.count ? `decrypt-failure storm: ${text}` : text,
  };
}

/** What `companyAttention` reads of one company. */
export interface CompanyFacts {
  connection: { state: string; since: number | null; downSince: number | null };
  creds: string;
  level: Level;
  counted: number | undefined;
  /** Decrypt failures within `settings.signals.alertAt.window`. */
  decryptFailures: number;
  settings: { ladder: { warnAfter: number }; signals: { alertAt: { count: number; window: number } } };
  /** Problems of sources this file does not know (liveness...). */
  more?: readonly (Problem | null)[];
}

/** The attention of one company from the facts every view has (dashboard, status, bot). */
export function companyAttention(f: CompanyFacts, now: number): Attention {
  return attentionOf([
    connectionProblem(f.connection, now, f.settings.ladder.warnAfter),
    credsProblem(f.creds),
    filesProblem(f.level, f.counted),
    signalsProblem(f.decryptFailures, f.settings.signals.alertAt),
    ...(f.more ?? []),
  ]);
}

/**
 * What "an incident" is (the unit an operator acks, the escalation follows and the digest lists),
 * from the alerts the code already sends, pure. A company has at most one open incident per family:
 * - "files": the count's alert level (alert_state): opened by a level alert, joined by its
 *   reminders and the ladder's "cleanup cannot help", closed by the resolved message; a higher
 *   level closes it and opens a new one (unacked again);
 * - "down": one down episode of the connection (connection_state.downSince, the incident gate's
 *   episode): opened by the first notice of the episode (a logout, a replaced session, the ladder's
 *   "down" or "human needed"), joined by the notices that follow in the same episode, closed when
 *   the company is connected again; a new episode opens a new one;
 * - "signals": a decrypt-failure alert, from raised to resolved.
 * Everything else (worker dead, outage, disk, database, config, removed folder) is the fleet's own
 * notice: no incident, no Ack, never silenced.
 */
import type { IncidentFamily } from "../store/incidents.js";
import { LEVELS, type Level } from "./evaluate-thresholds.js";

/** What an alert does to its family's incident. */
export type IncidentRole = "open" | "join" | "reminder" | "resolve";

/** The family and role of an alert kind, or null when it is no incident's. */
export function incidentRole(kind: string): { family: IncidentFamily; role: IncidentRole } | null {
  switch (kind) {
    case "level":
      return { family: "files", role: "open" };
    case "reminder":
      return { family: "files", role: "reminder" };
    case "resolved":
      return { family: "files", role: "resolve" };
    case "ladder-cannot_help":
      return { family: "files", role: "join" };
    case "signals-raised":
      return { family: "signals", role: "open" };
    case "signals-resolved":
      return { family: "signals", role: "resolve" };
    default:
      if (/^connection-|^ladder-(down|human_needed|qr_required|failed)$/.test(kind))
        return { family: "down", role: "open" };
      return null;
  }
}

/** An open incident as far as the decision needs it. */
export interface OpenIncident {
  id: number;
  severity: string | null;
  episode: number | null;
  ackedAt: number | null;
}

/** What to do with the incident store for one alert. */
export type IncidentStep =
  | { kind: "none" }
  /** Link the alert to this incident (and keep it open). */
  | { kind: "join"; id: number }
  /** The incident is acked: the reminder is not sent. */
  | { kind: "drop"; id: number }
  /** Close `close` (if any) and open a new incident. */
  | { kind: "open"; close: number | null }
  /** Link the alert to the incident, then close it. */
  | { kind: "resolve"; id: number };

const rank = (level: string | null) => (level === null ? -1 : LEVELS.indexOf(level as Level));

/**
 * Decides the incident step of an alert (pure): `open` is the family's open incident, `level` the
 * alert's level, `episode` the company's current down episode (for "down").
 */
export function incidentStep(
  role: IncidentRole,
  family: IncidentFamily,
  open: OpenIncident | undefined,
  level: string | null,
  episode: number | null,
): IncidentStep {
  switch (role) {
    case "resolve":
      return open ? { kind: "resolve", id: open.id } : { kind: "none" };
    case "join":
      return open ? { kind: "join", id: open.id } : { kind: "none" };
    case "reminder":
      if (!open) return { kind: "open", close: null };
      return open.ackedAt !== null ? { kind: "drop", id: open.id } : { kind: "join", id: open.id };
    case "open": {
      if (!open) return { kind: "open", close: null };
      if (family === "down")
        return open.episode === episode ? { kind: "join", id: open.id } : { kind: "open", close: open.id };
      return rank(level) > rank(open.severity)
        ? { kind: "open", close: open.id }
        : { kind: "join", id: open.id };
    }
  }
}

/**
 * The fleet's own failures, never held by a silence even when they name a company: file watching
 * or a scan failing, a dead worker, the bot's poller, an outage, the disk.
 */
const FLEET_KINDS = new Set([
  "watcher-fallback",
  "scan-failed",
  "worker-dead",
  "bot-conflict",
  "outage",
  "outage-resolved",
  "disk-ok",
]);

/** True for a notice about the fleet itself (never silenced). */
export function isFleetNotice(kind: string): boolean {
  return FLEET_KINDS.has(kind);
}

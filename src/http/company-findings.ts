/**
 * What needs a person, per company, each with the command that helps: a QR to scan, a connection
 * down, a socket open but deaf, restricted by WhatsApp or flapping (`companyLiveness`), files at a level (with the projected time to the next one), backups missing or too old, and
 * open incidents with their owners. One source for `warden health`'s recommendations, the bot's
 * /health and /digest, the daily digest and the dashboard, read from the store and the backups folder.
 */
import { listBackups } from "../actions/backup/backup.js";
import type { Level } from "../alerts/evaluate-thresholds.js";
import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeLiveness } from "../liveness/liveness-view.js";
import type { Incident } from "../store/incidents.js";
import type { Store } from "../store/store.js";
import type { CompanyView } from "./fleet-view.js";
import { countBreaks, formatRange, projectNextLevel } from "./trend.js";

/** A company's backups as the health check shows them. */
export interface BackupSummary {
  count: number;
  /** The newest backup's time (ms), null without one. */
  newestAt: number | null;
  /** Whether the newest backup passed a recorded verification (null: never verified). */
  newestVerified: boolean | null;
  /** The newest backup that passed verification (ms), null without one. */
  newestVerifiedAt: number | null;
}

/** One recommendation: what is wrong, how bad, and the command that helps. */
export interface Finding {
  company: string;
  /** What it is about: the health check leaves incidents to the digest. */
  about: "connection" | "liveness" | "files" | "backups" | "incident";
  severity: "critical" | "warning" | "info";
  text: string;
  command: string | null;
}

const QR_STATES = new Set(["qr_required", "forbidden", "pairing"]);
const UP_STATES = new Set(["open", "unknown"]);

/** The backups of every company given (one readdir each); empty without WARDEN_HOME. */
export async function backupSummaries(
  store: Store,
  backupsRoot: string | undefined,
  companies: readonly string[],
): Promise<Map<string, BackupSummary>> {
  const out = new Map<string, BackupSummary>();
  for (const company of companies) {
    const files = backupsRoot ? await listBackups(backupsRoot, company).catch(() => []) : [];
    const checks = store.backupVerifications.of(company);
    const newest = files[0];
    const verified = files.find((f) => checks.get(f.name)?.ok === true);
    out.set(company, {
      count: files.length,
      newestAt: newest ? Date.parse(newest.createdAt) : null,
      newestVerified: newest ? (checks.get(newest.name)?.ok ?? null) : null,
      newestVerifiedAt: verified ? Date.parse(verified.createdAt) : null,
    });
  }
  return out;
}

const ago = (now: number, at: number) => formatDuration(Math.max(0, now - at));

/** The findings of one company (pure but for the count history read for the projection). */
export function companyFindings(
  store: Store,
  config: WardenConfig,
  view: CompanyView,
  backups: BackupSummary | undefined,
  now: number,
): Finding[] {
  const id = view.id;
  const settings = companySettings(config, id);
  const out: Finding[] = [];
  const state = view.connection.state;
  const since = view.connection.downSince ?? view.connection.since;
  if (QR_STATES.has(state)) {
    out.push({
      company: id,
      about: "connection",
      severity: "critical",
      text: `${id}: waiting for a QR${since !== null ? ` for ${ago(now, since)}` : ""}`,
      command: `/qr ${id} in a private chat (or ${wardenCommand(`pair ${id}${state === "pairing" ? "" : " --new"}`)})`,
    });
  } else if (state === "stopped") {
    out.push({
      company: id,
      about: "connection",
      severity: "info",
      text: `${id}: stopped by an operator`,
      command: wardenCommand(`start ${id}`),
    });
  } else if (!UP_STATES.has(state)) {
    out.push({
      company: id,
      about: "connection",
      severity: "critical",
      text: `${id}: ${state}${since !== null ? ` for ${ago(now, since)}` : ""}${view.connection.reason ? ` (${view.connection.reason})` : ""}`,
      command: wardenCommand(`reconnect ${id}`),
    });
  }
  const liveness = livenessFinding(view);
  if (liveness) out.push(liveness);
  const level: Level = view.level;
  if (level !== "ok") {
    const counted = view.files.counted ?? 0;
    const history = store.companies.history(id, now - 7 * 86_400_000);
    const projection = projectNextLevel({
      points: history.map((p) => ({ at: p.at, value: p.counted })),
      current: counted,
      level,
      thresholds: settings.thresholds,
      now,
      breaks: countBreaks(store.audit.list(id)),
    });
    const next =
      projection.kind === "range"
        ? `, ${projection.level} ${formatRange(projection.earliest - now, projection.latest - now)}`
        : "";
    const basis = settings.count.basis === "total" ? "files" : `${settings.count.basis} files`;
    const cleanup =
      level === "monitor"
        ? ""
        : `: cleanup runs in the maintenance window ${settings.maintenance.window} (or ${wardenCommand(`cleanup ${id}`)})`;
    out.push({
      company: id,
      about: "files",
      severity: level === "monitor" ? "info" : level === "warning" ? "warning" : "critical",
      text: `${id}: ${counted} ${basis} (${level})${next}${cleanup}`,
      command: level === "monitor" ? null : wardenCommand(`cleanup ${id}`),
    });
  }
  if (backups) {
    const maxAge = settings.backups.maxAge;
    if (backups.newestVerifiedAt === null)
      out.push({
        company: id,
        about: "backups",
        severity: "warning",
        text:
          backups.count === 0
            ? `${id}: no backup`
            : `${id}: no verified backup (${backups.count} unverified)`,
        command: wardenCommand(`backup ${id}`),
      });
    else if (now - backups.newestVerifiedAt > maxAge)
      out.push({
        company: id,
        about: "backups",
        severity: "warning",
        text: `${id}: no verified backup for ${ago(now, backups.newestVerifiedAt)}`,
        command: wardenCommand(`backup ${id}`),
      });
  }
  for (const incident of store.incidents.openOf(id)) out.push(incidentFinding(incident, now));
  return out;
}

/**
 * Deaf, restricted or flapping (the view's `liveness`, from `companyLiveness`), with what a person
 * can run: deaf asks for a reconnect (the ladder's own steps are in the alerts), restricted only
 * waits for WhatsApp (never reconnected or cleaned for it: status shows when it ends), flapping
 * shows its connection history.
 */
function livenessFinding(view: CompanyView): Finding | null {
  const { id, liveness } = view;
  const why = liveness.reason ? `: ${liveness.reason}` : "";
  switch (liveness.state) {
    case "deaf":
      return {
        company: id,
        about: "liveness",
        severity: "critical",
        text: `${id}: open but deaf${why}`,
        command: wardenCommand(`reconnect ${id}`),
      };
    case "restricted":
      return {
        company: id,
        about: "liveness",
        severity: "warning",
        text: `${id}: ${describeLiveness(liveness).replace("restricted", "restricted by WhatsApp")}${why}; wa-warden does not reconnect or clean for it`,
        command: wardenCommand(`status ${id}`),
      };
    case "flapping":
      return {
        company: id,
        about: "liveness",
        severity: "warning",
        text: `${id}: the connection does not hold${why ? ` (${liveness.reason})` : ""}`,
        command: wardenCommand(`history ${id}`),
      };
    default:
      return null;
  }
}

/** An open incident as a finding: its owner, or that nobody acked it. */
function incidentFinding(incident: Incident, now: number): Finding {
  const what = `incident #${incident.id} (${incident.title}) open for ${ago(now, incident.openedAt)}`;
  return incident.ackedAt !== null
    ? {
        company: incident.company,
        about: "incident",
        severity: "info",
        text: `${incident.company}: ${what}, acked by ${incident.ackedName ?? incident.ackedBy ?? "?"}`,
        command: null,
      }
    : {
        company: incident.company,
        about: "incident",
        severity: "warning",
        text: `${incident.company}: ${what}, nobody acked it`,
        command: `/ack ${incident.company}`,
      };
}

/** Severity order for sorting: critical first. */
export function severityRank(f: Finding): number {
  return f.severity === "critical" ? 0 : f.severity === "warning" ? 1 : 2;
}

/** The command to show after a finding's text: null when there is none or the text already names it. */
export function extraCommand(f: { text: string; command: string | null }): string | null {
  return f.command !== null && !f.text.includes(f.command) ? f.command : null;
}

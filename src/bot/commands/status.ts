/** /status, /health and /audit: what an operator looks at first. Read-only. */
import { LEVELS, type Level, levelFor } from "../../alerts/evaluate-thresholds.js";
import { escapeHtml } from "../../alerts/format-alert.js";
import { wardenCommand } from "../../cli-invocation.js";
import { formatDuration } from "../../config/duration.js";
import { companySettings } from "../../config/load.js";
import { CATEGORIES } from "../../fleet/classify-file.js";
import { workerCounts } from "../../http/fleet-view.js";
import { companyLiveness } from "../../ladder/company-liveness.js";
import { describeLiveness } from "../../liveness/liveness-view.js";
import { knownVisible } from "../authorize.js";
import { type BotCommand, type BotDeps, type CommandOutcome, type Requester, text } from "../bot-context.js";
import { recommendationLines } from "./on-call.js";

const ICON: Record<Level, string> = { ok: "✅", monitor: "👀", warning: "⚠️", critical: "🔴", fatal: "💀" };
const UP_STATES = new Set(["open", "unknown"]);
/** Past this many companies, /status lists only those not ok or not connected. */
const FULL_LIST_MAX = 50;

interface Line {
  company: string;
  level: Level;
  counted: number;
  state: string;
  downSince: number | null;
  /** "deaf 2 h 10 min", "restricted", "flapping" (null: ok, quiet or not judged) */
  liveness: string | null;
}

function lineOf(deps: BotDeps, company: string): Line {
  const row = deps.store.companies.get(company);
  const settings = companySettings(deps.config(), company);
  const counted = row?.counted ?? 0;
  const connection = deps.store.connections.get(company);
  return {
    company,
    level: levelFor(counted, settings.thresholds),
    counted,
    state: connection?.state ?? "unknown",
    downSince: connection?.downSince ?? null,
    liveness: livenessNote(deps, company),
  };
}

/** The liveness worth a look (deaf, restricted, flapping), or null. */
function livenessNote(deps: BotDeps, company: string): string | null {
  const view = companyLiveness(deps.store, company, deps.clock.now());
  return view.state === null || view.state === "ok" || view.state === "quiet" || view.state === "not_open"
    ? null
    : describeLiveness(view);
}

/** Severity for sorting: level first, then "down" before "up". */
function severity(line: Line): number {
  return LEVELS.indexOf(line.level) * 2 + (UP_STATES.has(line.state) && line.liveness === null ? 0 : 1);
}

function fleetStatus(deps: BotDeps, req: Requester): CommandOutcome {
  const now = deps.clock.now();
  const lines = knownVisible(deps, req).map((c) => lineOf(deps, c));
  if (lines.length === 0) return text("No companies to show.", "fleet status: no companies");
  lines.sort((a, b) => severity(b) - severity(a) || (a.company < b.company ? -1 : 1));
  const byLevel = LEVELS.filter((l) => l !== "ok")
    .map((l) => [l, lines.filter((x) => x.level === l).length] as const)
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${n} ${l}`);
  const down = lines.filter((l) => !UP_STATES.has(l.state)).length;
  const outage = deps.store.ladder.currentOutage();
  const head = [
    // The outage explains the "down" companies below and why cleanups wait: it comes first.
    ...(outage
      ? [
          `🌐 <b>Network outage</b> since ${formatDuration(now - outage.startedAt)} (${escapeHtml(outage.reason)}): ${outage.down} companies down, cleanups wait`,
        ]
      : []),
    `<b>Fleet: ${lines.length} companies</b> (${[...byLevel, `${down} down`].join(", ")})`,
  ].join("\n");
  // A large fleet lists what needs a look; the healthy rest is a count (a few messages, not dozens).
  const shown = lines.length > FULL_LIST_MAX ? lines.filter((l) => severity(l) > 0) : lines;
  const rest = lines.length - shown.length;
  const body = shown.map((l) => {
    const since =
      l.downSince !== null && !UP_STATES.has(l.state) ? ` for ${formatDuration(now - l.downSince)}` : "";
    const live = l.liveness ? ` · ${escapeHtml(l.liveness)}` : "";
    return `${ICON[l.level]} <code>${escapeHtml(l.company)}</code> ${l.level} · ${l.counted} counted · ${escapeHtml(l.state)}${since}${live}`;
  });
  if (rest > 0) body.push(`✅ ${rest} more: ok and connected`);
  return text([head, ...body].join("\n"), `fleet status: ${lines.length} companies`);
}

function companyStatus(deps: BotDeps, company: string): CommandOutcome {
  const now = deps.clock.now();
  const row = deps.store.companies.get(company);
  const line = lineOf(deps, company);
  const connection = deps.store.connections.get(company);
  const step = deps.store.ladder.steps(company).at(-1);
  const desired = deps.store.control.desired(company).desired;
  const out = [`${ICON[line.level]} <b>${escapeHtml(company)}</b>: ${line.level}`];
  if (row) {
    out.push(`Files: total ${row.total}, counted ${row.counted}`);
    const cats = CATEGORIES.filter((c) => (row.byCategory[c] ?? 0) > 0).map(
      (c) => `${c} ${row.byCategory[c]}`,
    );
    out.push(`By category: ${escapeHtml(cats.join(", ") || "none")}`);
  } else out.push("Files: not scanned yet");
  if (connection) {
    out.push(
      `Connection: ${escapeHtml(connection.state)} for ${formatDuration(now - connection.since)}${connection.reason ? ` (${escapeHtml(connection.reason)})` : ""}`,
    );
    if (connection.downSince !== null)
      out.push(`Down since: ${new Date(connection.downSince).toISOString()}`);
  } else out.push("Connection: unknown (no worker has reported)");
  const live = companyLiveness(deps.store, company, now);
  if (live.state !== null)
    out.push(
      `Liveness: ${escapeHtml(describeLiveness(live))}${live.reason ? ` (${escapeHtml(live.reason)})` : ""}${live.lastInboundAt !== null ? `; last incoming message ${formatDuration(now - live.lastInboundAt)} ago` : ""}`,
    );
  if (desired === "stop") out.push("Stopped by an operator (/start to connect it)");
  if (step)
    out.push(
      `Ladder: ${escapeHtml(step.step)} ${formatDuration(now - step.at)} ago: ${escapeHtml(step.result || step.reason)}`,
    );
  return text(out.join("\n"), `status of ${company}`);
}

/** /status [company]. */
export const statusCommand: BotCommand = {
  name: "status",
  usage: "[company]",
  description: "fleet summary by severity, or one company",
  company: "optional",
  maxArgs: 1,
  run: async (deps, req, company) => (company ? companyStatus(deps, company) : fleetStatus(deps, req)),
};

/** /health. */
export const healthCommand: BotCommand = {
  name: "health",
  usage: "",
  description: "workers, outbox backlog, outage state",
  company: "none",
  maxArgs: 0,
  run: async (deps, req) => {
    const now = deps.clock.now();
    // The same counts as `warden health`: stopped workers of earlier starts are not "of" anything.
    const workers = workerCounts({ store: deps.store, config: deps.config, now: () => now });
    const outage = deps.store.ladder.currentOutage();
    const lines = [
      "<b>wa-warden health</b>",
      `Workers: ${workers.alive} alive (heartbeating) of ${workers.running} running${workers.lastHeartbeatAt !== null ? ` (last heartbeat ${formatDuration(now - workers.lastHeartbeatAt)} ago)` : ""}`,
      `Outbox: ${deps.store.outbox.pendingCount()} alert(s) waiting`,
      outage
        ? `Network: OFFLINE since ${formatDuration(now - outage.startedAt)} (${escapeHtml(outage.reason)}); cleanups wait`
        : "Network: ok",
      `Bot: ${escapeHtml(deps.pollerState())}`,
      ...(await recommendationLines(deps, req)),
    ];
    return text(lines.join("\n"), "health");
  },
};

/** Rows one /audit answer shows. */
const AUDIT_ROWS = 15;

/** /audit [company] [before-id]: a page of the rows the requester may see, newest last. */
export const auditCommand: BotCommand = {
  name: "audit",
  usage: "[company] [before-id]",
  description: "the last audited actions (a row id: the page before it)",
  company: "optional",
  maxArgs: 2,
  run: async (deps, req, company, args) => {
    const before = args[0] === undefined ? undefined : Number(args[0]);
    if (before !== undefined && (!Number.isInteger(before) || before < 1))
      return text("Usage: /audit [company] [before-id], the id of an audit row.", "bad page", false);
    const page = { limit: AUDIT_ROWS, ...(before !== undefined ? { before } : {}) };
    const rows = company
      ? deps.store.audit.list(company, page)
      : req.scope.fleet && deps.config().telegram.admins.includes(req.user)
        ? deps.store.audit.list(undefined, page)
        : deps.store.audit.listIn(knownVisible(deps, req), page);
    if (rows.length === 0) return text("No audited actions.", "audit: none");
    const lines = rows.map(
      (r) =>
        `#${r.id} ${new Date(r.at).toISOString().slice(0, 19).replace("T", " ")} ${r.ok ? "✅" : "❌"} <code>${escapeHtml(r.company)}</code> ${escapeHtml(r.action)} by ${escapeHtml(r.actor)}: ${escapeHtml(r.result)}`,
    );
    if (rows.length === AUDIT_ROWS)
      lines.push(
        company
          ? `Older: /audit ${escapeHtml(company)} ${rows[0]?.id}`
          : `Older: ${wardenCommand(`audit --before ${rows[0]?.id}`)}`,
      );
    return text(lines.join("\n"), `audit: ${rows.length} rows`);
  },
};

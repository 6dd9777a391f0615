/**
 * `/companies/:id`: counts by category, the count history chart, the projected next level, and
 * the company's transitions, ladder steps and audit rows (newest first, the last 50 of each).
 */

import { formatSpan } from "../../liveness/format-span.js";
import { describeSignals, type SignalStatus } from "../../signals/signal-status.js";
import type { AuditRow } from "../../store/audit.js";
import type { TransitionRow } from "../../store/connections.js";
import type { LadderStepRow } from "../../store/ladder.js";
import { type CompanyView, FILE_KINDS } from "../fleet-view.js";
import { formatRange, type Projection } from "../trend.js";
import { type ChartSeries, renderChart } from "./chart.js";
import { ago, escapeHtml, formatTime, page } from "./html.js";

/** Everything the company page shows. */
export interface CompanyPageData {
  company: CompanyView;
  history: ChartSeries[];
  historyFrom: number;
  thresholds: { monitor: number; warning: number; critical: number; fatal: number };
  projection: Projection;
  /** Signal health of the last 10 minutes. */
  signals: SignalStatus;
  transitions: TransitionRow[];
  steps: LadderStepRow[];
  audit: AuditRow[];
  now: number;
}

const LIMIT = 50;

function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${empty}</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const formatRate = (perDay: number) => (perDay >= 10 ? String(Math.round(perDay)) : perDay.toPrecision(2));

function describeProjection(p: Projection, now: number): string {
  if (p.kind === "none") return `<span id="projection">No projection: ${escapeHtml(p.why)}.</span>`;
  return `<span id="projection">At the recent trend (about ${formatRate(p.perDay)} files/day) the company reaches <b>${p.level}</b> (${p.threshold}) <b>${formatRange(p.earliest - now, p.latest - now)}</b> (between ${formatTime(p.earliest)} and ${formatTime(p.latest)}).</span>`;
}

/** Renders the company page. */
export function renderCompanyPage(d: CompanyPageData): string {
  const c = d.company;
  const id = escapeHtml(c.id);
  const counts = FILE_KINDS.filter((k) => c.files[k] !== undefined).map((k) => [k, String(c.files[k])]);
  const categories = Object.entries(c.files.byCategory)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => [escapeHtml(k), String(n)]);
  const thresholds = Object.entries(d.thresholds).map(([name, value]) => ({ name, value }));
  const conn = c.connection;
  const body = `<p><a href="/">&larr; fleet</a></p>
<h1>${id} <span class="level-${c.level}">${c.level}</span></h1>
<p>Connection: <b>${escapeHtml(conn.state)}</b> since ${ago(conn.since, d.now)}${conn.reason ? ` (${escapeHtml(conn.reason)})` : ""}${conn.downSince !== null ? `, down since ${formatTime(conn.downSince)}` : ""}. Creds: ${escapeHtml(c.creds)}. <a href="/companies/${encodeURIComponent(c.id)}/qr">QR / pairing page</a></p>
<h2>Needs attention</h2>
${c.attention.problems.length === 0 ? '<p id="attention" class="attention-ok">Nothing: files, connection, creds and signals are fine.</p>' : `<ul id="attention">${c.attention.problems.map((p) => `<li class="attention-${p.severity}">${p.severity}: ${escapeHtml(p.text)} <span class="muted">(${escapeHtml(p.source)})</span></li>`).join("")}</ul>`}
<h2>Signals (last 10 min)</h2>
<p id="signals">${escapeHtml(describeSignals(d.signals) || "No decrypt failures, session closes or retry receipts.")}</p>
<p>Liveness: <b>${escapeHtml(c.liveness.state === "not_open" ? "not open" : (c.liveness.state ?? "not judged yet"))}</b>${c.liveness.reason ? ` (${escapeHtml(c.liveness.reason)})` : ""}${c.liveness.lastInboundAt !== null ? `; last incoming message ${ago(c.liveness.lastInboundAt, d.now)}` : "; no incoming message recorded"}${c.liveness.usualGapMs !== null ? `; usual gap at this hour ${escapeHtml(formatSpan(c.liveness.usualGapMs))}` : ""}${c.liveness.restrictedUntil !== null ? `; restricted until ${formatTime(c.liveness.restrictedUntil)}` : ""}.</p>
<h2>Files</h2>
${table(["kind", "files"], counts, "")}
${table(["category", "files"], categories, "No files.")}
<h2>History</h2>
${renderChart(d.history, thresholds, d.historyFrom, d.now)}
<p>${describeProjection(d.projection, d.now)}</p>
<h2>Transitions</h2>
${table(
  ["at", "from", "to", "code", "message"],
  d.transitions
    .slice(-LIMIT)
    .reverse()
    .map((t) => [
      formatTime(t.at),
      escapeHtml(t.from ?? "-"),
      escapeHtml(t.to),
      t.code === null ? "-" : String(t.code),
      escapeHtml(t.message ?? ""),
    ]),
  "No transitions recorded.",
)}
<h2>Ladder steps</h2>
${table(
  ["at", "step", "reason", "result"],
  d.steps
    .slice(-LIMIT)
    .reverse()
    .map((s) => [formatTime(s.at), escapeHtml(s.step), escapeHtml(s.reason), escapeHtml(s.result)]),
  "The ladder has not acted.",
)}
<h2>Audit</h2>
${table(
  ["at", "actor", "action", "ok", "result"],
  d.audit
    .slice(-LIMIT)
    .reverse()
    .map((a) => [
      formatTime(a.at),
      escapeHtml(a.actor),
      escapeHtml(a.action),
      a.ok ? "yes" : "<b>no</b>",
      escapeHtml(a.result),
    ]),
  "No audit rows.",
)}`;
  return page(`${c.id} - wa-warden`, body);
}

/**
 * The dashboard (`/`): every company worst first (what needs attention now, across files,
 * connection, creds and signals, is the first column), with a filter box. The page refreshes its own
 * table every 10 s by fetching itself and swapping the rows, so the filter text survives.
 */

import { wardenCommand } from "../../cli-invocation.js";
import { describeLiveness } from "../../liveness/liveness-view.js";
import { extraCommand } from "../company-findings.js";
import type { CompanyView, FILE_KINDS } from "../fleet-view.js";
import type { HealthReport } from "../health-report.js";
import { ago, escapeHtml, formatTime, page } from "./html.js";

const count = (c: CompanyView, kind: (typeof FILE_KINDS)[number]) => {
  const v = c.files[kind];
  return v === undefined ? "-" : String(v);
};

function row(c: CompanyView, now: number): string {
  const conn = c.connection;
  const step = c.ladder ? `${c.ladder.step} (${c.ladder.result}, ${ago(c.ladder.at, now)})` : "-";
  const a = c.attention;
  const more = a.problems.length > 1 ? ` <span class="muted">+${a.problems.length - 1}</span>` : "";
  return `<tr data-company="${escapeHtml(c.id)}" data-level="${c.level}" data-attention="${a.severity}">
<td class="attention-${a.severity}" title="${escapeHtml(a.problems.map((p) => p.text).join("; "))}">${escapeHtml(a.summary)}${more}</td>
<td><a href="/companies/${encodeURIComponent(c.id)}">${escapeHtml(c.id)}</a></td>
<td class="level-${c.level}">${c.level}</td>
${["counted", "stale", "live"].map((k) => `<td class="num">${count(c, k as (typeof FILE_KINDS)[number])}</td>`).join("")}
<td>${escapeHtml(conn.state)}</td><td>${conn.since === null ? "-" : ago(conn.since, now)}</td>
<td class="liveness-${c.liveness.state ?? "none"}" title="${escapeHtml(c.liveness.reason ?? "")}">${escapeHtml(describeLiveness(c.liveness))}</td>
<td>${escapeHtml(step)}</td></tr>`;
}

const SCRIPT = `
const box=document.getElementById('filter');
function apply(){const q=box.value.trim().toLowerCase();let shown=0;
for(const tr of document.querySelectorAll('#fleet tbody tr')){const hit=!q||tr.textContent.toLowerCase().includes(q);tr.hidden=!hit;if(hit)shown++;}
document.getElementById('shown').textContent=String(shown);}
box.addEventListener('input',apply);
async function refresh(){try{const r=await fetch(location.pathname,{credentials:'same-origin'});if(!r.ok)return;
const doc=new DOMParser().parseFromString(await r.text(),'text/html');
document.querySelector('#fleet tbody').replaceWith(doc.querySelector('#fleet tbody'));
document.getElementById('updated').textContent=doc.getElementById('updated').textContent;apply();}catch(e){}}
setInterval(refresh,10000);apply();`;

/** Most recommendations the dashboard lists (`warden health --json` has them all). */
const RECOMMENDATIONS_SHOWN = 20;

/** The health check's recommendations, each with the command to run. */
function recommendationList(recommendations: readonly HealthReport["recommendations"][number][]): string {
  if (recommendations.length === 0) return "";
  const items = recommendations
    .slice(0, RECOMMENDATIONS_SHOWN)
    .map(
      (r) =>
        `<li class="severity-${r.severity}">${escapeHtml(r.text)}${extraCommand(r) ? `: <code>${escapeHtml(r.command)}</code>` : ""}</li>`,
    )
    .join("");
  const more =
    recommendations.length > RECOMMENDATIONS_SHOWN
      ? `<p class="muted">${recommendations.length - RECOMMENDATIONS_SHOWN} more: <code>${escapeHtml(wardenCommand("health"))}</code></p>`
      : "";
  return `<section id="recommendations"><h2>Recommendations (${recommendations.length})</h2><ul>${items}</ul>${more}</section>`;
}

/** Renders the dashboard for `companies` (already worst first), with the health check's recommendations. */
export function renderFleetPage(
  companies: readonly CompanyView[],
  now: number,
  recommendations: readonly HealthReport["recommendations"][number][] = [],
): string {
  const body = `<h1>wa-warden fleet</h1>
${recommendationList(recommendations)}
<p><input id="filter" type="search" placeholder="filter: company, level, state..." autofocus>
<span class="muted"><span id="shown">${companies.length}</span> of ${companies.length} shown, updated <span id="updated">${formatTime(now)}</span></span></p>
<table id="fleet"><thead><tr><th>needs attention</th><th>company</th><th>level</th><th>counted</th><th>stale</th><th>live</th><th>connection</th><th>since</th><th>liveness</th><th>ladder step</th></tr></thead>
<tbody>${companies.map((c) => row(c, now)).join("")}</tbody></table>
<p class="muted"><a href="/metrics">/metrics</a> · <a href="/api/companies">/api/companies</a></p>
<script>${SCRIPT}</script>`;
  return page("wa-warden fleet", body);
}

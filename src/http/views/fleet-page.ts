/**
 * The dashboard (`/`): every company worst first, with a filter box. The page refreshes its own
 * table every 10 s by fetching itself and swapping the rows, so the filter text survives.
 */

import { describeLiveness } from "../../liveness/liveness-view.js";
import type { CompanyView, FILE_KINDS } from "../fleet-view.js";
import { ago, escapeHtml, formatTime, page } from "./html.js";

const count = (c: CompanyView, kind: (typeof FILE_KINDS)[number]) => {
  const v = c.files[kind];
  return v === undefined ? "-" : String(v);
};

function row(c: CompanyView, now: number): string {
  const conn = c.connection;
  const step = c.ladder ? `${c.ladder.step} (${c.ladder.result}, ${ago(c.ladder.at, now)})` : "-";
  return `<tr data-company="${escapeHtml(c.id)}" data-level="${c.level}">
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

/** Renders the dashboard for `companies` (already worst first). */
export function renderFleetPage(companies: readonly CompanyView[], now: number): string {
  const body = `<h1>wa-warden fleet</h1>
<p><input id="filter" type="search" placeholder="filter: company, level, state..." autofocus>
<span class="muted"><span id="shown">${companies.length}</span> of ${companies.length} shown, updated <span id="updated">${formatTime(now)}</span></span></p>
<table id="fleet"><thead><tr><th>company</th><th>level</th><th>counted</th><th>stale</th><th>live</th><th>connection</th><th>since</th><th>liveness</th><th>ladder step</th></tr></thead>
<tbody>${companies.map((c) => row(c, now)).join("")}</tbody></table>
<p class="muted"><a href="/metrics">/metrics</a> · <a href="/api/companies">/api/companies</a></p>
<script>${SCRIPT}</script>`;
  return page("wa-warden fleet", body);
}

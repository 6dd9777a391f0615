/**
 * The count history chart as inline SVG (pure string building, no script): one step line per
 * series, since a history point is stored only when a count changes, so a value holds until the
 * next point. Dashed lines mark the thresholds that fall inside the plotted range.
 */
import { escapeHtml } from "./html.js";

/** One line of the chart. */
export interface ChartSeries {
  name: string;
  color: string;
  points: { at: number; value: number }[];
}

const WIDTH = 760;
const HEIGHT = 260;
const PAD = { left: 48, right: 90, top: 12, bottom: 28 };

/** Renders the chart from `from` to `to`; an empty history gives a chart with a note. */
export function renderChart(
  series: readonly ChartSeries[],
  thresholds: { name: string; value: number }[],
  from: number,
  to: number,
): string {
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  const maxValue = Math.max(
    1,
    ...values,
    ...thresholds.map((t) => t.value).filter((v) => v <= Math.max(1, ...values) * 1.5),
  );
  const top = Math.ceil((maxValue * 1.1) / 10) * 10;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const span = Math.max(1, to - from);
  const x = (at: number) => PAD.left + ((Math.min(Math.max(at, from), to) - from) / span) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const parts: string[] = [
    `<svg id="history-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="file count history">`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const tick of [0, top / 2, top]) {
    parts.push(
      `<text x="${PAD.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end">${Math.round(tick)}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left}" y="${HEIGHT - 8}" font-size="11">${escapeHtml(new Date(from).toISOString().slice(0, 16).replace("T", " "))}</text>`,
    `<text x="${PAD.left + plotW}" y="${HEIGHT - 8}" font-size="11" text-anchor="end">${escapeHtml(new Date(to).toISOString().slice(0, 16).replace("T", " "))}</text>`,
  );
  for (const t of thresholds) {
    if (t.value > top) continue;
    parts.push(
      `<line class="threshold" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(t.value)}" y2="${y(t.value)}" stroke="#d88" stroke-dasharray="4 4"/>`,
      `<text x="${PAD.left + plotW + 4}" y="${y(t.value) + 4}" font-size="11" fill="#b44">${escapeHtml(t.name)} ${t.value}</text>`,
    );
  }
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.at <= to);
    if (pts.length === 0) return;
    const coords: string[] = [];
    let last: number | undefined;
    for (const p of pts) {
      if (last !== undefined) coords.push(`${x(p.at).toFixed(1)},${y(last).toFixed(1)}`);
      coords.push(`${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`);
      last = p.value;
    }
    if (last !== undefined) coords.push(`${x(to).toFixed(1)},${y(last).toFixed(1)}`);
    parts.push(
      `<polyline class="series" data-series="${escapeHtml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${coords.join(" ")}"/>`,
      `<text x="${PAD.left + 8 + i * 70}" y="${PAD.top + 16}" font-size="12" fill="${s.color}">&#9644; ${escapeHtml(s.name)}</text>`,
    );
  });
  if (values.length === 0)
    parts.push(
      `<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH / 2}" font-size="13" text-anchor="middle">no history yet</text>`,
    );
  parts.push("</svg>");
  return parts.join("");
}

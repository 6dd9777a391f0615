/** HTML helpers of the server-rendered pages: escaping, the page frame, times. */
import { formatDuration } from "../../config/duration.js";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** "2026-11-30 19:47 UTC". */
export function formatTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "5m ago", or "-" without a time. */
export function ago(at: number | null, now: number): string {
  return at === null ? "-" : `${formatDuration(Math.max(0, now - at))} ago`;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left;font-size:14px}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.level-ok{color:#2a7} .level-monitor{color:#a80} .level-warning{color:#c60}
.level-critical{color:#c22;font-weight:bold} .level-fatal{color:#fff;background:#a00;font-weight:bold}
.attention-ok{color:#2a7} .attention-notice{color:#a80} .attention-warning{color:#c60}
.attention-critical{color:#c22;font-weight:bold} .attention-human{color:#fff;background:#63c;font-weight:bold}
.muted{color:#777} a{color:#245}
#filter{padding:.3rem;width:20rem}
`;

/** A whole page: title, style, body. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

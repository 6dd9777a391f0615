/**
 * Storm grouping, pure. When more than `alerts.groupAbove` alerts for one chat are
 * waiting, created within `alerts.groupWait` of the oldest, they go out as grouped messages (counts
 * by level, the companies listed) instead of one message each: a 1,000-company storm becomes a few
 * messages, within Telegram's per-chat limits. Each alert stays its own outbox row and is marked
 * sent with the grouped message that carried it, so nothing is lost and a failed part is retried
 * with exactly its rows.
 */
import type { OutboxRow } from "../store/outbox.js";
import { escapeHtml } from "./format-alert.js";

/** Grouping settings (alerts.groupAbove, alerts.groupWait in ms). */
export interface GroupSettings {
  above: number;
  waitMs: number;
}

/** One grouped message and the rows it carries. */
export interface AlertGroup {
  rows: OutboxRow[];
  html: string;
  text: string;
  silent: boolean;
}

const ORDER = ["fatal", "critical", "warning", "monitor", "ok"] as const;
const ICON: Record<string, string> = { fatal: "💀", critical: "🔴", warning: "⚠️", monitor: "👀", ok: "✅" };
/** Room for the company names of one part (Telegram's limit is 4096; headers and tags need the rest). */
const PART_BUDGET = 3_400;

/** The waiting rows that form a storm (oldest first), or [] when they do not exceed `above`. */
export function stormRows(pending: readonly OutboxRow[], settings: GroupSettings, now: number): OutboxRow[] {
  const head = pending[0];
  if (!head) return [];
  const rows: OutboxRow[] = [];
  for (const row of pending) {
    // A row waiting for its retry holds back the ones behind it (delivery stays in order).
    if (row.nextAttemptAt > now || row.createdAt > head.createdAt + settings.waitMs) break;
    // An edit of a sent message (an ack shown on the alert) is never folded into a new message.
    if (row.payload.editMessageId !== undefined) break;
    rows.push(row);
  }
  return rows.length > settings.above ? rows : [];
}

const levelOf = (row: OutboxRow): string | null =>
  row.level ?? (typeof row.payload.level === "string" ? row.payload.level : null);

/** What a row says in a list: the company for a count alert, the alert's title otherwise. */
function entryOf(row: OutboxRow): string {
  const title = row.text.split(" | ")[0] ?? row.text;
  if (row.kind === "level" || row.kind === "reminder" || row.kind === "resolved")
    return row.kind === "resolved" ? `${row.company ?? ""} (resolved)` : (row.company ?? title);
  return title.length > 120 ? `${title.slice(0, 119)}…` : title;
}

/** Splits a storm into grouped messages, each below Telegram's 4096 characters. */
export function groupStorm(rows: readonly OutboxRow[]): AlertGroup[] {
  const parts: OutboxRow[][] = [];
  let current: OutboxRow[] = [];
  let size = 0;
  for (const row of rows) {
    const cost = escapeHtml(entryOf(row)).length + 2;
    if (current.length > 0 && size + cost > PART_BUDGET) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += cost;
  }
  if (current.length > 0) parts.push(current);
  return parts.map((part, i) => renderGroup(part, i + 1, parts.length, rows.length));
}

function renderGroup(part: OutboxRow[], index: number, parts: number, total: number): AlertGroup {
  const byLevel = new Map<string, OutboxRow[]>();
  for (const row of part) {
    const level = levelOf(row);
    const key = level && ORDER.includes(level as (typeof ORDER)[number]) ? level : "other";
    byLevel.set(key, [...(byLevel.get(key) ?? []), row]);
  }
  const keys = [...ORDER, "other"].filter((k) => byLevel.has(k));
  const counts = keys.map((k) => `${byLevel.get(k)?.length ?? 0} ${k}`).join(", ");
  const of = parts > 1 ? ` (part ${index} of ${parts}, ${total} in all)` : "";
  const head = `🚨 ${part.length} alerts${of}: ${counts}`;
  const html = [`<b>${escapeHtml(head)}</b>`];
  const text = [head];
  for (const key of keys) {
    const entries = (byLevel.get(key) ?? []).map(entryOf);
    const label = `${ICON[key] ?? "•"} ${key}`;
    html.push(`${label}: ${entries.map(escapeHtml).join(", ")}`);
    text.push(`${label}: ${entries.join(", ")}`);
  }
  html.push("<i>Grouped: each alert is recorded on its own; /status shows the fleet.</i>");
  return { rows: part, html: html.join("\n"), text: text.join(" | "), silent: part.every((r) => r.silent) };
}

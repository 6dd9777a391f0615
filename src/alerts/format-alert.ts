/** Turns an alert decision and a company's counts into the Telegram HTML and the plain log text. */
import { formatDuration } from "../config/duration.js";
import type { CompanySettings } from "../config/schema.js";
import { CATEGORIES, type CategoryCounts } from "../fleet/classify-file.js";
import type { AlertDecision, Level } from "./evaluate-thresholds.js";

/** The counts an alert shows. */
export interface AlertCounts {
  total: number;
  counted: number;
  reserve: number;
  byCategory: CategoryCounts;
}

/** A rendered alert. */
export interface RenderedAlert {
  html: string;
  text: string;
  /** Sent without a notification sound (monitor level, resolved). */
  silent: boolean;
  payload: Record<string, unknown>;
}

const ICON: Record<Level, string> = { ok: "✅", monitor: "👀", warning: "⚠️", critical: "🔴", fatal: "💀" };

/** Escapes text for Telegram's HTML parse mode. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** What wa-warden does next at a level (kept honest with what this version automates). */
export function nextStep(level: Level, settings: CompanySettings, company = "<company>"): string {
  const t = settings.thresholds;
  const remind = formatDuration(settings.alerts.remindEvery);
  switch (level) {
    case "ok":
      return `Nothing to do. Monitoring resumes alerts at ${t.monitor} counted files.`;
    case "monitor":
      return `No action yet; watching. Warning at ${t.warning} counted files.`;
    case "warning":
      return `Plan a cleanup in the company's maintenance window. Critical at ${t.critical}.`;
    case "critical":
      return `Clean up now (stop, backup, clean, start). Automatic cleanup is not enabled in this version; reminder every ${remind}.`;
    case "fatal":
      return `Past the fatal count: WhatsApp may drop this device (QR rescan). Back up and clean up now: \`warden cleanup ${company} --dry-run\`, then \`warden cleanup ${company} --stop\`; reminder every ${remind}.`;
  }
}

/** Escapes text for HTML and renders `command` spans as <code> (no literal backticks in Telegram). */
export function toHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** Renders one alert for one company; `down` says the company is also disconnected. */
export function renderAlert(
  company: string,
  decision: AlertDecision,
  counts: AlertCounts,
  settings: CompanySettings,
  down?: { state: string; downFor: number },
): RenderedAlert {
  const level = decision.level;
  const title =
    decision.kind === "resolved"
      ? `${ICON.ok} RESOLVED ${company}: back below ${settings.thresholds.monitor - settings.alerts.hysteresis} counted files`
      : `${ICON[level]} ${level.toUpperCase()}${decision.kind === "reminder" ? " (reminder)" : ""} ${company}: ${counts.counted} counted files`;
  const breakdown = CATEGORIES.filter((c) => counts.byCategory[c] > 0).map(
    (c) => `${c} ${counts.byCategory[c]}`,
  );
  const countsLine = `total ${counts.total}, counted ${counts.counted} (newest ${Math.min(counts.reserve, counts.byCategory["pre-key"])} pre-keys not counted)`;
  const next = nextStep(level, settings, company);
  const html = [
    `<b>${escapeHtml(title)}</b>`,
    `Company: <code>${escapeHtml(company)}</code>`,
    `Level: <b>${level}</b>${decision.from !== level ? ` (was ${decision.from})` : ""}`,
    `Files: ${escapeHtml(countsLine)}`,
    `By category: ${escapeHtml(breakdown.join(", ") || "none")}`,
    `Next: ${toHtml(next)}`,
  ];
  const downLine = down
    ? `Also disconnected: ${down.state} for ${formatDuration(down.downFor)} (the ladder handles the connection)`
    : undefined;
  if (downLine) html.splice(2, 0, `<b>${escapeHtml(downLine)}</b>`);
  const text = `${title} | ${downLine ? `${downLine} | ` : ""}${countsLine} | ${breakdown.join(", ") || "no files"} | next: ${next}`;
  return {
    html: html.join("\n"),
    text,
    silent: level === "monitor" || decision.kind === "resolved",
    payload: {
      company,
      kind: decision.kind,
      level,
      from: decision.from,
      total: counts.total,
      counted: counts.counted,
      byCategory: counts.byCategory,
      next,
      ...(down ? { down } : {}),
    },
  };
}

/**
 * Renders a notice (connection, ladder, watcher fallback, config problems, a vanished folder).
 * `payload.level` gives it the count alerts' severity icon; `command` spans become <code>.
 */
export function renderNotice(title: string, detail: string, payload: Record<string, unknown>): RenderedAlert {
  const level = payload.level as Level | undefined;
  const icon = level && level in ICON ? `${ICON[level]} ` : "";
  return {
    html: `<b>${escapeHtml(`${icon}${title}`)}</b>\n${toHtml(detail)}`,
    text: `${icon}${title} | ${detail}`,
    silent: level === "ok" || level === "monitor",
    payload,
  };
}

/** Turns an alert decision and a company's counts into the Telegram HTML and the plain log text. */

import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import type { CompanySettings } from "../config/schema.js";
import { CATEGORIES, type CategoryCounts } from "../fleet/classify-file.js";
import type { AlertDecision, Level } from "./evaluate-thresholds.js";

/** The counts an alert shows (src/actions/cleanup/count-stale.ts FileCounts plus the breakdown). */
export interface AlertCounts {
  total: number;
  /** The number the thresholds apply to. */
  counted: number;
  /** What `counted` counts; absent = "counted" (older callers). */
  basis?: "stale" | "counted" | "total";
  stale?: number;
  live?: number;
  reserve: number;
  heldByMinAge?: number;
  heldUntil?: number | null;
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

/**
 * Whether a smart cleanup is worth stopping a connected company for (invariant 13): its plan deletes at
 * least ladder.minCleanupFiles files. With count.basis "stale" that also takes the company below
 * any level (every counted file goes); with "counted" / "total" the live files may keep it at its
 * level, but the stale ones are still cleared so they cannot pile up.
 */
export function cleanupHelps(
  level: Level,
  counts: Pick<AlertCounts, "counted" | "stale">,
  settings: Pick<CompanySettings, "thresholds" | "ladder">,
): boolean {
  if (level === "ok") return false;
  return (counts.stale ?? 0) >= Math.max(1, settings.ladder.minCleanupFiles);
}

/** "cleanup cannot help now: 320 live files, 3 stale files kept by minAge until 2026-12-03 10:00 UTC". */
export function cannotHelpText(
  counts: Pick<AlertCounts, "total" | "stale" | "heldByMinAge" | "heldUntil">,
): string {
  const stale = counts.stale ?? 0;
  const held = counts.heldByMinAge ?? 0;
  const until =
    held > 0 && counts.heldUntil !== null && counts.heldUntil !== undefined
      ? ` until ${new Date(counts.heldUntil).toISOString().slice(0, 16).replace("T", " ")} UTC`
      : "";
  return `cleanup cannot help now: ${counts.total - stale} live files, ${stale} stale, ${held} more kept by minAge${until}`;
}

/**
 * What wa-warden will actually do at a level for this company (ladder on or off, maintenance window,
 * whether a cleanup would help), plus the exact command for a human.
 */
export function nextStep(
  level: Level,
  settings: CompanySettings,
  counts: Pick<AlertCounts, "total" | "counted" | "stale" | "heldByMinAge" | "heldUntil">,
  company: string,
): string {
  const t = settings.thresholds;
  const remind = formatDuration(settings.alerts.remindEvery);
  const dryRun = `\`${wardenCommand(`cleanup ${company} --dry-run`)}\``;
  const byHand = `By hand: ${dryRun}, then \`${wardenCommand(`cleanup ${company} --stop`)}\`.`;
  switch (level) {
    case "ok":
      return `Nothing to do. Alerts resume at ${t.monitor} counted files.`;
    case "monitor":
      return `Nothing automatic; watching. Warning at ${t.warning}. To see what a cleanup would delete: ${dryRun}.`;
    default:
      break;
  }
  const stale = counts.stale ?? 0;
  const reminder = level === "warning" ? "" : ` Reminder every ${remind}.`;
  const noReset = level === "fatal" ? " A file count alone never resets the session." : "";
  const w = settings.maintenance.window;
  const inWindow =
    w === null
      ? "No maintenance window (maintenance.window null): no scheduled cleanup."
      : `A smart cleanup runs in the next maintenance window ${w} ${settings.maintenance.timezone} (stop, backup, delete ~${stale} stale files, start).`;
  let plan: string;
  let hand = byHand;
  if (!settings.ladder.enabled) {
    plan = "The ladder is off for this company (ladder.enabled false): wa-warden does nothing automatic.";
  } else if (!cleanupHelps(level, counts, settings)) {
    plan = `${cap(cannotHelpText(counts))}; wa-warden will not stop the company for it.`;
    // A cleanup would delete (almost) nothing: do not send a human to run it.
    hand = `By hand: \`${wardenCommand(`status ${company}`)}\` shows the live files; they turn stale as their sessions age past cleanup.sessionMaxAge.`;
  } else if (level === "fatal") {
    plan = `Emergency smart cleanup now (stop, backup, delete ~${stale} stale files, start), at most once per ${formatDuration(settings.ladder.emergencyCooldown)}.`;
  } else {
    // Warning and critical wait for the maintenance window: only fatal stops a socket outside it.
    plan =
      level === "critical" && w !== null ? `${inWindow} Only fatal cleans outside the window.` : inWindow;
  }
  return `${plan}${noReset}${reminder} ${hand}`;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
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
  const countsLine = describeCounts(counts);
  const next = nextStep(level, settings, counts, company);
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
      basis: counts.basis ?? "counted",
      stale: counts.stale ?? null,
      live: counts.live ?? null,
      reserve: counts.reserve,
      byCategory: counts.byCategory,
      next,
      ...(down ? { down } : {}),
    },
  };
}

/** "counted 160 (basis stale) | total 1,140: live 980 (812 pre-keys in reserve), stale 160". */
export function describeCounts(counts: AlertCounts): string {
  const reserve = Math.min(counts.reserve, counts.byCategory["pre-key"]);
  const basis = counts.basis ?? "counted";
  if (counts.stale === undefined)
    return `total ${counts.total}, counted ${counts.counted} (newest ${reserve} pre-keys not counted)`;
  const live = counts.live ?? counts.total - counts.stale;
  return `counted ${counts.counted} (basis ${basis}); total ${counts.total}: live ${live} (${reserve} pre-keys in reserve), stale ${counts.stale}`;
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

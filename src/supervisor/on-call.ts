/**
 * The on-call loop the supervisor runs after each worker watch: down incidents of companies that
 * connected again are closed; an incident still unacked after `alerts.escalateAfter` is sent once to
 * `telegram.escalateTo` with who was paged and when; a silence that ended gets one summary of the
 * alerts it held; at `alerts.digestAt` (in the defaults' maintenance.timezone) each chat gets its
 * digest once a day. Rows other processes queued (`warden ack` edits) go out on the kick after it.
 */

import { clockTime } from "../alerts/ack.js";
import { withAlertButtons } from "../alerts/alert-buttons.js";
import { alertChats, chatScope, chatSees } from "../alerts/chat-routing.js";
import { escapeHtml, renderNotice } from "../alerts/format-alert.js";
import { localClock } from "../alerts/silence-window.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { backupsRoot } from "../home-layout.js";
import { buildDigest, renderDigestHtml } from "../http/digest.js";
import type { Logger } from "../logger.js";
import type { Incident } from "../store/incidents.js";
import type { NewOutboxMessage } from "../store/outbox.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";

/** What the loop needs. */
export interface OnCallOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
  alerts: AlertQueue;
  /** WARDEN_HOME (the digest's backup ages); undefined: backups are not looked at. */
  home: string | undefined;
  /** Whether Telegram is configured (escalations and digests go only there). */
  telegram: boolean;
}

/** Cursor holding the local date (YYYYMMDD) of the last daily digest. */
const DIGEST_CURSOR = "digest-sent";
/** Held alerts listed per company in a silence's summary. */
const SUMMARY_LINES = 10;

/** The on-call loop. */
export interface OnCall {
  /** One pass; resolves to outbox rows added. */
  check(): Promise<number>;
}

/** Creates the loop. */
export function createOnCall(options: OnCallOptions): OnCall {
  const { store, clock, logger: log, alerts } = options;
  return {
    async check() {
      const now = clock.now();
      let queued = store.transaction(
        () => resolveReconnected(store, now) + escalate(options, now) + summariseSilences(store, alerts, now),
      );
      if (options.telegram) queued += await dailyDigest(options, now);
      if (queued > 0) log.info({ queued }, "On-call pass queued messages");
      return queued;
    },
  };
}

/** Closes the down incidents of companies connected again (or in another episode); adds no rows. */
function resolveReconnected(store: Store, now: number): number {
  for (const incident of store.incidents.openOf().filter((i) => i.family === "down")) {
    const conn = store.connections.get(incident.company);
    if (!conn || conn.state === "open" || conn.downSince !== incident.episode)
      store.incidents.resolve(incident.id, now);
  }
  return 0;
}

/** Sends each overdue unacked incident once to the escalation chats; returns rows added. */
function escalate(options: OnCallOptions, now: number): number {
  const { store, config } = options;
  const cfg = config();
  if (!options.telegram || cfg.telegram.escalateTo.length === 0) return 0;
  const migrations = store.outbox.chatMigrations();
  const targets = [...new Set(cfg.telegram.escalateTo.map((id) => migrations.get(String(id)) ?? String(id)))];
  let added = 0;
  for (const incident of store.incidents.openOf()) {
    if (incident.ackedAt !== null || incident.escalatedAt !== null) continue;
    const settings = companySettings(cfg, incident.company);
    const after = settings.alerts.escalateAfter;
    if (after === null || now - incident.openedAt < after) continue;
    if (store.silences.holding(incident.company, now)) continue;
    if (!store.incidents.markEscalated(incident.id, now)) continue;
    const html = escalationHtml(store, incident, settings.maintenance.timezone, now);
    const messages: NewOutboxMessage[] = targets.map((target) =>
      withAlertButtons(
        store.bot,
        {
          company: incident.company,
          kind: "escalation",
          level: incident.severity,
          channel: "telegram",
          target,
          silent: false,
          html,
          text: html.replace(/<[^>]+>/g, ""),
          payload: { kind: "escalation", incident: incident.id },
          incidentId: incident.id,
        },
        now,
      ),
    );
    store.outbox.add(messages, now);
    store.audit.add({
      at: now,
      actor: "warden",
      company: incident.company,
      action: "escalate",
      ok: true,
      result: `incident #${incident.id} unacked for ${formatDuration(now - incident.openedAt)}: sent to ${targets.join(", ")}`,
      detail: { incident: incident.id, targets },
    });
    added += messages.length;
  }
  return added;
}

/** The escalation message: the incident, how long it is unacked, who was paged and when. */
function escalationHtml(store: Store, incident: Incident, zone: string, now: number): string {
  const paged = store.incidents.pagedTargets(incident.id);
  const who =
    paged.length > 0
      ? paged.map((p) => `chat ${escapeHtml(p.target)} at ${clockTime(p.at, zone)}`).join(", ")
      : "nobody yet (the alert is still waiting in the outbox)";
  return [
    `<b>⏫ Escalated: ${escapeHtml(incident.title)}</b>`,
    `Incident #${incident.id} of <code>${escapeHtml(incident.company)}</code> is unacked after ${formatDuration(now - incident.openedAt)} (opened ${clockTime(incident.openedAt, zone)} ${escapeHtml(zone)}).`,
    `Paged: ${who}.`,
    `Ack it here or with <code>/ack ${escapeHtml(incident.company)}</code>.`,
  ].join("\n");
}

/** One summary per company of what an ended silence held; returns rows added. */
function summariseSilences(store: Store, alerts: AlertQueue, now: number): number {
  let added = 0;
  for (const silence of store.silences.toSummarise(now)) {
    const byCompany = new Map<string, ReturnType<typeof store.silences.held>>();
    for (const h of store.silences.held(silence.id)) {
      const list = byCompany.get(h.company) ?? [];
      list.push(h);
      byCompany.set(h.company, list);
    }
    for (const [company, held] of byCompany) {
      const lines = held
        .slice(-SUMMARY_LINES)
        .map((h) => `${new Date(h.at).toISOString().slice(11, 16)} ${h.text}`);
      if (held.length > SUMMARY_LINES) lines.unshift(`… ${held.length - SUMMARY_LINES} earlier`);
      added += alerts.queue(
        company,
        "silence-summary",
        null,
        renderNotice(
          `${company}: ${held.length} alert(s) held during silence #${silence.id}`,
          `${silence.reason ? `Silence: ${silence.reason}. ` : ""}Held:\n${lines.join("\n")}`,
          { kind: "silence-summary", company, silence: silence.id },
        ),
        { unsilenced: true },
      );
    }
    store.silences.summarised(silence.id, now);
  }
  return added;
}

/** "YYYYMMDD" and "HH:MM" of `now` in a time zone. */
function localDay(now: number, timeZone: string): { day: number; time: string } {
  const t = localClock(now, timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return { day: t.year * 10_000 + t.month * 100 + t.day, time: `${two(t.hour)}:${two(t.minute)}` };
}

/** Every chat that receives some company's alerts. */
function everyChat(config: WardenConfig, migrations: ReadonlyMap<string, string>): string[] {
  const chats = new Set(alertChats(config, null, migrations));
  for (const company of config.companies.keys())
    for (const c of alertChats(config, company, migrations)) chats.add(c);
  return [...chats];
}

/** At alerts.digestAt, once per local day: each chat's digest of the companies it sees. */
async function dailyDigest(options: OnCallOptions, now: number): Promise<number> {
  const { store } = options;
  const config = options.config();
  const at = config.alerts.digestAt;
  if (at === null) return 0;
  const { day, time } = localDay(now, config.defaults.maintenance.timezone);
  if (time < at || store.cursors.get(DIGEST_CURSOR) >= day) return 0;
  store.cursors.set(DIGEST_CURSOR, day);
  const migrations = store.outbox.chatMigrations();
  const present = store.companies.listPresent().map((r) => r.id);
  const root = options.home === undefined ? undefined : backupsRoot(options.home);
  const messages: NewOutboxMessage[] = [];
  for (const chat of everyChat(config, migrations)) {
    const scope = chatScope(config, chat, migrations);
    const digest = await buildDigest(
      store,
      config,
      root,
      present.filter((c) => chatSees(scope, c)),
      now,
    );
    const html = renderDigestHtml(digest);
    messages.push({
      company: null,
      kind: "digest",
      level: null,
      channel: "telegram",
      target: chat,
      silent: true,
      html,
      text: html.replace(/<[^>]+>/g, ""),
      payload: { kind: "digest" },
    });
  }
  store.outbox.add(messages, now);
  return messages.length;
}

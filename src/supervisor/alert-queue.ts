/**
 * Queues the supervisor's alerts and notices as outbox rows: one row per Telegram chat that sees
 * the company (with the alert's buttons), or one log row without a token. Notices about a company
 * pass the incident gate first (one incident, one alert). Callers queue inside their transaction
 * and kick the dispatcher after it.
 */
import { withAlertButtons } from "../alerts/alert-buttons.js";
import { alertChats } from "../alerts/chat-routing.js";
import { type RenderedAlert, renderNotice } from "../alerts/format-alert.js";
import { createIncidentGate, incidentFamily } from "../alerts/incident-gate.js";
import { incidentRole, incidentStep, isFleetNotice } from "../alerts/incidents.js";
import type { Notifier } from "../alerts/notifiers/notifier.js";
import type { Clock } from "../clock.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { Logger } from "../logger.js";
import type { NewOutboxMessage } from "../store/outbox.js";
import type { Store } from "../store/store.js";

/** What the queue needs. */
export interface AlertQueueOptions {
  store: Store;
  notifiers: ReadonlyMap<string, Notifier>;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
}

/** Turns alerts and notices into outbox rows. */
export interface AlertQueue {
  /**
   * Adds one outbox row per chat (or one log row without a token), linked to the company's incident;
   * a reminder of an acked incident is dropped and a silenced company's alert is held (unless
   * `unsilenced`: a silence's own summary). Returns rows added.
   */
  queue(
    company: string | null,
    kind: string,
    level: string | null,
    rendered: RenderedAlert,
    options?: { unsilenced?: boolean },
  ): number;
  /** Renders and queues a notice; a company's notice is dropped when its incident was already told. */
  notice(title: string, detail: string, payload: Record<string, unknown>, company?: string): void;
}

/** Creates the queue, with its incident gate (memory of this process). */
export function createAlertQueue(options: AlertQueueOptions): AlertQueue {
  const { store, notifiers, clock, logger: log, config } = options;
  /** One incident, one alert: notices already told per company and down episode. */
  const incidents = createIncidentGate();

  const queue: AlertQueue["queue"] = (company, kind, level, rendered, options = {}) => {
    const now = clock.now();
    let incidentId: number | null = null;
    if (company !== null) {
      const tracked = trackIncident(store, company, kind, level ?? levelOf(rendered), rendered, now);
      if (tracked === "drop") {
        log.info({ company, kind }, `${company}: ${kind} not sent: its incident is acked`);
        return 0;
      }
      incidentId = tracked;
      // A silence holds a company's alerts (the fleet's own notices have no company: never held).
      const silence =
        options.unsilenced || isFleetNotice(kind) ? undefined : store.silences.holding(company, now);
      if (silence) {
        store.silences.hold({
          silenceId: silence.id,
          company,
          kind,
          level: level ?? levelOf(rendered),
          text: titleOf(rendered),
          at: now,
        });
        log.info(
          { company, kind, silence: silence.id },
          `${company}: ${kind} held by silence #${silence.id}`,
        );
        return 0;
      }
    }
    const messages: NewOutboxMessage[] = [];
    const base = { company, kind, level, ...rendered, incidentId };
    const targets = alertChats(config(), company, store.outbox.chatMigrations());
    if (notifiers.has("telegram") && targets.length > 0) {
      for (const target of targets)
        messages.push(withAlertButtons(store.bot, { ...base, channel: "telegram", target }, now));
    } else {
      messages.push({ ...base, channel: "log", target: "log" });
    }
    store.outbox.add(messages, now);
    return messages.length;
  };

  /**
   * The ladder's "cleanup cannot help now" repeats what the company's level alert said in its
   * "Next:" line (the same rule decides both); within alerts.remindEvery of that alert it is the
   * same message twice, 15 s apart at start.
   */
  const saidByLevelAlert = (company: string, kind: string): boolean => {
    if (kind !== "ladder-cannot_help") return false;
    const last = store.alertState.get(company)?.lastAlertAt ?? null;
    return last !== null && clock.now() - last < companySettings(config(), company).alerts.remindEvery;
  };

  return {
    queue,
    notice(title, detail, payload, company) {
      if (company && saidByLevelAlert(company, String(payload.kind))) {
        log.info({ company, kind: payload.kind }, `${title}: the level alert just said so, not sent again`);
        return;
      }
      if (company) {
        const conn = store.connections.get(company);
        const family = incidentFamily(String(payload.kind), conn?.state ?? null);
        if (!incidents.admit(company, family, conn?.downSince ?? null)) {
          log.info(
            { company, kind: payload.kind },
            `${title}: same incident already reported, not sent again`,
          );
          return;
        }
      }
      queue(company ?? null, String(payload.kind), null, renderNotice(title, detail, payload));
    },
  };
}

/** An alert's level: the rule's, or a notice's payload.level. */
function levelOf(rendered: RenderedAlert): string | null {
  return typeof rendered.payload.level === "string" ? rendered.payload.level : null;
}

/** The first line of an alert, plain text (an incident's title, a held alert's line). */
export function titleOf(rendered: RenderedAlert): string {
  return (rendered.text.split("\n")[0] ?? "").split(" | ")[0]?.slice(0, 200) ?? "";
}

/**
 * Opens, joins or closes the company's incident for one alert (src/alerts/incidents.ts); returns the
 * incident the alert belongs to (null: none, or its resolved message), or "drop" for a reminder
 * of an acked incident.
 */
function trackIncident(
  store: Store,
  company: string,
  kind: string,
  level: string | null,
  rendered: RenderedAlert,
  now: number,
): number | null | "drop" {
  const role = incidentRole(kind);
  if (!role) return null;
  const open = store.incidents.open(company, role.family);
  const episode = role.family === "down" ? (store.connections.get(company)?.downSince ?? null) : null;
  const step = incidentStep(role.role, role.family, open, level, episode);
  switch (step.kind) {
    case "none":
      return null;
    case "join":
      return step.id;
    case "drop":
      return "drop";
    case "resolve":
      store.incidents.resolve(step.id, now);
      return null;
    case "open":
      if (step.close !== null) store.incidents.resolve(step.close, now);
      return store.incidents.add(company, role.family, level, episode, titleOf(rendered), now);
  }
}

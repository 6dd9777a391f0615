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
  /** Adds one outbox row per chat (or one log row without a token). Returns rows added. */
  queue(company: string | null, kind: string, level: string | null, rendered: RenderedAlert): number;
  /** Renders and queues a notice; a company's notice is dropped when its incident was already told. */
  notice(title: string, detail: string, payload: Record<string, unknown>, company?: string): void;
}

/** Creates the queue, with its incident gate (memory of this process). */
export function createAlertQueue(options: AlertQueueOptions): AlertQueue {
  const { store, notifiers, clock, logger: log, config } = options;
  /** One incident, one alert: notices already told per company and down episode. */
  const incidents = createIncidentGate();

  const queue: AlertQueue["queue"] = (company, kind, level, rendered) => {
    const messages: NewOutboxMessage[] = [];
    const base = { company, kind, level, ...rendered };
    const targets = alertChats(config(), company, store.outbox.chatMigrations());
    if (notifiers.has("telegram") && targets.length > 0) {
      for (const target of targets)
        messages.push(withAlertButtons(store.bot, { ...base, channel: "telegram", target }, clock.now()));
    } else {
      messages.push({ ...base, channel: "log", target: "log" });
    }
    store.outbox.add(messages, clock.now());
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

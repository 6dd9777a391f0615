/**
 * Acknowledging incidents (the Ack button, /ack, `warden ack`): the incident records who and when,
 * its reminders and its escalation stop, an audit row is written, and every Telegram message that
 * paged people for it is edited (through the outbox, so the CLI's ack reaches Telegram too) to say
 * "acked by @name at 14:02" without the Ack button. The resolved message still goes out.
 */
import type { WardenConfig } from "../config/load.js";
import { companySettings } from "../config/load.js";
import { ErrorCodes, WardenError } from "../errors.js";
import type { Incident } from "../store/incidents.js";
import type { NewOutboxMessage } from "../store/outbox.js";
import type { Store } from "../store/store.js";
import type { InlineKeyboard } from "./alert-buttons.js";
import { escapeHtml } from "./format-alert.js";
import { localClock } from "./silence-window.js";

/** Who acks. */
export interface Acker {
  /** "telegram:<id>" or "cli:<user>" (the audit actor). */
  actor: string;
  /** How the ack is shown: "@name" (Telegram) or the actor. */
  name: string;
}

/** "14:02" in a time zone (the company's maintenance.timezone). */
export function clockTime(at: number, timeZone: string): string {
  const t = localClock(at, timeZone);
  return `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}`;
}

/** The line an acked alert gets. */
export function ackLine(incident: Pick<Incident, "ackedName" | "ackedAt">, timeZone: string): string {
  return `✅ acked by ${incident.ackedName ?? "?"} at ${clockTime(incident.ackedAt ?? 0, timeZone)}`;
}

/**
 * Acks the open incidents of `company` (or only `incidentId`), in one transaction with its audit
 * row and the edits of the paged messages. Returns the incidents acked now (empty: nothing open,
 * or acked already). An unknown incident id, or one of another company, is a coded error.
 */
export function ackIncidents(
  store: Store,
  config: WardenConfig,
  company: string,
  who: Acker,
  now: number,
  incidentId?: number,
): Incident[] {
  return store.transaction(() => {
    let targets: Incident[];
    if (incidentId !== undefined) {
      const incident = store.incidents.get(incidentId);
      if (!incident || incident.company !== company)
        throw new WardenError(ErrorCodes.USAGE, `No incident #${incidentId} of ${company}`, {
          company,
          incident: incidentId,
        });
      targets = incident.resolvedAt === null ? [incident] : [];
    } else targets = store.incidents.openOf(company);
    const acked: Incident[] = [];
    for (const incident of targets) {
      if (!store.incidents.ack(incident.id, who.actor, who.name, now)) continue;
      const done = store.incidents.get(incident.id) as Incident;
      acked.push(done);
      store.outbox.add(ackEdits(store, config, done), now);
      rewriteUndelivered(store, config, done);
    }
    store.audit.add({
      at: now,
      actor: who.actor,
      company,
      action: "ack",
      ok: true,
      result:
        acked.length > 0
          ? `acked ${acked.map((i) => `#${i.id} ${i.title}`).join("; ")}`
          : "nothing to ack (no open unacked incident)",
      detail: { incidents: acked.map((i) => i.id) },
    });
    return acked;
  });
}

/** The buttons of a message without its Ack button. */
function withoutAck(payload: Record<string, unknown>): InlineKeyboard {
  return Array.isArray(payload.buttons)
    ? (payload.buttons as InlineKeyboard)
        .map((row) => row.filter((b) => b.text !== "Ack"))
        .filter((row) => row.length > 0)
    : [];
}

/** Alerts of the incident still in the outbox go out already showing the ack. */
function rewriteUndelivered(store: Store, config: WardenConfig, incident: Incident): void {
  const zone = companySettings(config, incident.company).maintenance.timezone;
  const line = escapeHtml(ackLine(incident, zone));
  for (const m of store.incidents.pendingMessages(incident.id))
    store.incidents.rewritePending(m.outboxId, `${m.html}\n\n${line}`, {
      ...m.payload,
      buttons: withoutAck(m.payload),
    });
}

/** The outbox rows that edit an acked incident's paged messages (Ack button removed, line added). */
function ackEdits(store: Store, config: WardenConfig, incident: Incident): NewOutboxMessage[] {
  const zone = companySettings(config, incident.company).maintenance.timezone;
  const line = escapeHtml(ackLine(incident, zone));
  return store.incidents.pagedMessages(incident.id).map((m) => {
    const buttons = withoutAck(m.payload);
    return {
      company: incident.company,
      kind: "ack-edit",
      level: null,
      channel: "telegram",
      target: m.target,
      silent: true,
      html: `${m.html}\n\n${line}`,
      text: line,
      payload: { kind: "ack-edit", editMessageId: m.messageId, buttons, incident: incident.id },
    };
  });
}

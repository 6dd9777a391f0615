/**
 * Incidents: what an operator acknowledges. One open row per company and family ("files": the
 * count's alert level, "down": one down episode of the connection, "signals": a decrypt-failure
 * alert), opened by the first alert of the family, joined by the alerts that follow (reminders,
 * the ladder's notices of the same episode), closed by its resolved message (or, for "down", by the
 * company connecting again). A higher level or a new down episode closes the old row and opens a new
 * one: it starts unacked. Each sent outbox row remembers its incident and Telegram message id, so an
 * ack can edit the messages that paged people.
 */
import type { Db } from "./db.js";

/** The families an incident belongs to. */
export type IncidentFamily = "files" | "down" | "signals";

/** One incident. */
export interface Incident {
  id: number;
  company: string;
  family: IncidentFamily;
  /** Level or alert level of the first alert ("critical", "fatal"...). */
  severity: string | null;
  /** The down episode (connection downSince) for "down"; null otherwise. */
  episode: number | null;
  /** The first alert's first line, plain text. */
  title: string;
  openedAt: number;
  resolvedAt: number | null;
  ackedAt: number | null;
  /** "telegram:<id>" or "cli:<user>". */
  ackedBy: string | null;
  /** How the acker is shown: "@name", "cli:alice". */
  ackedName: string | null;
  escalatedAt: number | null;
}

/** A sent Telegram message of an incident (what an ack edits). */
export interface PagedMessage {
  outboxId: number;
  target: string;
  messageId: number;
  html: string;
  sentAt: number | null;
  /** The alert's kind ("escalation" for an escalation message). */
  kind: string;
  payload: Record<string, unknown>;
}

interface RawIncident {
  id: number;
  company: string;
  family: IncidentFamily;
  severity: string | null;
  episode: number | null;
  title: string;
  opened_at: number;
  resolved_at: number | null;
  acked_at: number | null;
  acked_by: string | null;
  acked_name: string | null;
  escalated_at: number | null;
}

const toIncident = (r: RawIncident): Incident => ({
  id: r.id,
  company: r.company,
  family: r.family,
  severity: r.severity,
  episode: r.episode,
  title: r.title,
  openedAt: r.opened_at,
  resolvedAt: r.resolved_at,
  ackedAt: r.acked_at,
  ackedBy: r.acked_by,
  ackedName: r.acked_name,
  escalatedAt: r.escalated_at,
});

/** Typed incident queries: the incidents, and the outbox messages that belong to them. */
export function createIncidentQueries(db: Db) {
  return { ...incidentRows(db), ...incidentMessages(db) };
}

/** Opening, reading, acking, escalating and resolving incidents. */
function incidentRows(db: Db) {
  const openOf = db.prepare<[string, string], RawIncident>(
    "SELECT * FROM incidents WHERE company = ? AND family = ? AND resolved_at IS NULL ORDER BY id DESC LIMIT 1",
  );
  const openOfCompany = db.prepare<[string], RawIncident>(
    "SELECT * FROM incidents WHERE company = ? AND resolved_at IS NULL ORDER BY id",
  );
  const allOpen = db.prepare<[], RawIncident>(
    "SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY id",
  );
  const byId = db.prepare<[number], RawIncident>("SELECT * FROM incidents WHERE id = ?");
  const insert = db.prepare(
    "INSERT INTO incidents (company, family, severity, episode, title, opened_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const resolve = db.prepare("UPDATE incidents SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL");
  const ack = db.prepare(
    "UPDATE incidents SET acked_at = ?, acked_by = ?, acked_name = ? WHERE id = ? AND acked_at IS NULL AND resolved_at IS NULL",
  );
  const escalated = db.prepare("UPDATE incidents SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL");
  return {
    /** The open incident of a company's family, if any. */
    open(company: string, family: IncidentFamily): Incident | undefined {
      const row = openOf.get(company, family);
      return row ? toIncident(row) : undefined;
    },
    /** Every open incident of a company (or of the fleet), oldest first. */
    openOf(company?: string): Incident[] {
      return (company === undefined ? allOpen.all() : openOfCompany.all(company)).map(toIncident);
    },
    get(id: number): Incident | undefined {
      const row = byId.get(id);
      return row ? toIncident(row) : undefined;
    },
    /** Opens an incident; returns its id. */
    add(
      company: string,
      family: IncidentFamily,
      severity: string | null,
      episode: number | null,
      title: string,
      now: number,
    ): number {
      return Number(insert.run(company, family, severity, episode, title, now).lastInsertRowid);
    },
    /** Closes an incident (idempotent). */
    resolve(id: number, now: number): void {
      resolve.run(now, id);
    },
    /** Marks an open, unacked incident acked; false when it was acked or resolved already. */
    ack(id: number, actor: string, name: string, now: number): boolean {
      return ack.run(now, actor, name, id).changes > 0;
    },
    /** Marks an incident escalated once; false when it was already. */
    markEscalated(id: number, now: number): boolean {
      return escalated.run(now, id).changes > 0;
    },
  };
}

/** An incident's outbox messages: who was paged, what is still pending, the message ids. */
function incidentMessages(db: Db) {
  const paged = db.prepare<
    [number],
    {
      id: number;
      target: string;
      message_id: number;
      html: string;
      sent_at: number | null;
      kind: string;
      payload: string;
    }
  >(
    "SELECT id, target, message_id, html, sent_at, kind, payload FROM outbox WHERE incident_id = ? AND channel = 'telegram' AND status = 'sent' AND message_id IS NOT NULL ORDER BY id",
  );
  const firstSent = db.prepare<[number], { target: string; sent_at: number }>(
    "SELECT target, MIN(sent_at) AS sent_at FROM outbox WHERE incident_id = ? AND status = 'sent' AND kind != 'escalation' GROUP BY target ORDER BY sent_at",
  );
  const setIncident = db.prepare("UPDATE outbox SET incident_id = ? WHERE id = ?");
  const pending = db.prepare<[number], { id: number; html: string; payload: string }>(
    "SELECT id, html, payload FROM outbox WHERE incident_id = ? AND status = 'pending' ORDER BY id",
  );
  const rewrite = db.prepare("UPDATE outbox SET html = ?, payload = ? WHERE id = ? AND status = 'pending'");
  const setMessageId = db.prepare("UPDATE outbox SET message_id = ? WHERE id = ?");

  return {
    /** The Telegram messages sent for an incident that carry a message id (oldest first). */
    pagedMessages(id: number): PagedMessage[] {
      return paged.all(id).map((r) => ({
        outboxId: r.id,
        target: r.target,
        messageId: r.message_id,
        html: r.html,
        sentAt: r.sent_at,
        kind: r.kind,
        payload: JSON.parse(r.payload) as Record<string, unknown>,
      }));
    },
    /** Who was paged for an incident and when (first delivery per target, escalations left out). */
    pagedTargets(id: number): { target: string; at: number }[] {
      return firstSent.all(id).map((r) => ({ target: r.target, at: r.sent_at }));
    },
    /** An incident's messages not delivered yet (an ack rewrites them before they go out). */
    pendingMessages(id: number): { outboxId: number; html: string; payload: Record<string, unknown> }[] {
      return pending.all(id).map((r) => ({
        outboxId: r.id,
        html: r.html,
        payload: JSON.parse(r.payload) as Record<string, unknown>,
      }));
    },
    /** Rewrites an undelivered message (false when it went out meanwhile). */
    rewritePending(outboxId: number, html: string, payload: Record<string, unknown>): boolean {
      return rewrite.run(html, JSON.stringify(payload), outboxId).changes > 0;
    },
    /** Links an outbox row to its incident. */
    linkOutbox(outboxId: number, incidentId: number): void {
      setIncident.run(incidentId, outboxId);
    },
    /** Records the Telegram message id a sent outbox row got. */
    setMessageId(outboxId: number, messageId: number): void {
      setMessageId.run(messageId, outboxId);
    },
  };
}

/** The incident query set. */
export type IncidentQueries = ReturnType<typeof createIncidentQueries>;

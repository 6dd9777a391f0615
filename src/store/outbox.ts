/**
 * The alert outbox: every alert is a row before anything is sent, so undelivered alerts survive a
 * restart and go out in order (per target, by id).
 */
import type { Db } from "./db.js";

/** A message waiting in (or delivered from) the outbox. */
export interface OutboxRow {
  id: number;
  createdAt: number;
  company: string | null;
  kind: string;
  level: string | null;
  channel: string;
  target: string;
  silent: boolean;
  html: string;
  text: string;
  payload: Record<string, unknown>;
  status: "pending" | "sent" | "failed";
  attempts: number;
  nextAttemptAt: number;
  sentAt: number | null;
  lastError: string | null;
}

/** What is inserted. */
export interface NewOutboxMessage {
  company: string | null;
  kind: string;
  level: string | null;
  channel: string;
  target: string;
  silent: boolean;
  html: string;
  text: string;
  payload: Record<string, unknown>;
  /** The incident the alert belongs to (src/store/incidents.ts), when it is one. */
  incidentId?: number | null;
}

interface RawOutbox {
  id: number;
  created_at: number;
  company: string | null;
  kind: string;
  level: string | null;
  channel: string;
  target: string;
  silent: number;
  html: string;
  text: string;
  payload: string;
  status: OutboxRow["status"];
  attempts: number;
  next_attempt_at: number;
  sent_at: number | null;
  last_error: string | null;
}

function toOutboxRow(raw: RawOutbox): OutboxRow {
  return {
    id: raw.id,
    createdAt: raw.created_at,
    company: raw.company,
    kind: raw.kind,
    level: raw.level,
    channel: raw.channel,
    target: raw.target,
    silent: raw.silent === 1,
    html: raw.html,
    text: raw.text,
    payload: JSON.parse(raw.payload) as Record<string, unknown>,
    status: raw.status,
    attempts: raw.attempts,
    nextAttemptAt: raw.next_attempt_at,
    sentAt: raw.sent_at,
    lastError: raw.last_error,
  };
}

/** Typed outbox queries. */
export function createOutboxQueries(db: Db) {
  const insert = db.prepare(`
    INSERT INTO outbox (created_at, company, kind, level, channel, target, silent, html, text, payload, next_attempt_at, incident_id)
    VALUES (@createdAt, @company, @kind, @level, @channel, @target, @silent, @html, @text, @payload, @createdAt, @incidentId)`);
  const oldestPending = db.prepare<[string, string], RawOutbox>(
    "SELECT * FROM outbox WHERE status = 'pending' AND channel = ? AND target = ? ORDER BY id LIMIT 1",
  );
  const pendingFor = db.prepare<[string, string, number], RawOutbox>(
    "SELECT * FROM outbox WHERE status = 'pending' AND channel = ? AND target = ? ORDER BY id LIMIT ?",
  );
  const pendingTargets = db.prepare<[], { channel: string; target: string; first_id: number }>(
    "SELECT channel, target, MIN(id) AS first_id FROM outbox WHERE status = 'pending' GROUP BY channel, target ORDER BY first_id",
  );
  const markSent = db.prepare(
    "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL, message_id = ? WHERE id = ?",
  );
  const markRetry = db.prepare(
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
  );
  const markFailed = db.prepare(
    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
  );
  const retarget = db.prepare(
    "UPDATE outbox SET target = ? WHERE status = 'pending' AND channel = 'telegram' AND target = ?",
  );
  const putMigration = db.prepare(
    "INSERT INTO chat_migrations (from_chat, to_chat, at) VALUES (?, ?, ?) ON CONFLICT (from_chat) DO UPDATE SET to_chat = excluded.to_chat, at = excluded.at",
  );
  const migrations = db.prepare<[], { from_chat: string; to_chat: string }>(
    "SELECT from_chat, to_chat FROM chat_migrations",
  );
  const list = db.prepare<[], RawOutbox>("SELECT * FROM outbox ORDER BY id");
  const countPending = db.prepare<[], { n: number }>(
    "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'",
  );
  const toldSince = db.prepare<[string, string, number], { n: number }>(
    "SELECT COUNT(*) AS n FROM outbox WHERE kind = ? AND channel = ? AND created_at >= ? AND status != 'failed'",
  );
  const ladderRows = db.prepare<[string, number, number], { status: OutboxRow["status"] }>(
    "SELECT status FROM outbox WHERE company = ? AND kind LIKE 'ladder-%' AND created_at BETWEEN ? AND ?",
  );
  const pruneSent = db.prepare("DELETE FROM outbox WHERE status != 'pending' AND created_at < ?");

  return {
    /** Inserts messages; call inside the transaction that changed the state they report. */
    add(messages: readonly NewOutboxMessage[], now: number): void {
      for (const m of messages) {
        insert.run({
          ...m,
          createdAt: now,
          silent: m.silent ? 1 : 0,
          payload: JSON.stringify(m.payload),
          incidentId: m.incidentId ?? null,
        });
      }
    },
    /** The first undelivered message for one target (delivery is strictly in id order per target). */
    oldestPending(channel: string, target: string): OutboxRow | undefined {
      const raw = oldestPending.get(channel, target);
      return raw ? toOutboxRow(raw) : undefined;
    },
    /** Targets with undelivered messages, oldest first. */
    pendingTargets(): { channel: string; target: string }[] {
      return pendingTargets.all().map(({ channel, target }) => ({ channel, target }));
    },
    /** How many messages are undelivered. */
    pendingCount(): number {
      return countPending.get()?.n ?? 0;
    },
    /** Marks a row delivered, with the message id the channel gave it (Telegram: what an ack edits). */
    markSent(id: number, at: number, messageId: number | null = null): void {
      markSent.run(at, messageId, id);
    },
    /** The first `limit` undelivered messages for one target, in id order (storm grouping). */
    pendingFor(channel: string, target: string, limit: number): OutboxRow[] {
      return pendingFor.all(channel, target, limit).map(toOutboxRow);
    },
    /** Marks messages sent together (one grouped message carried them), in one transaction. */
    markSentMany(ids: readonly number[], at: number): void {
      db.transaction(() => {
        for (const id of ids) markSent.run(at, null, id);
      })();
    },
    markRetry(id: number, nextAttemptAt: number, error: string): void {
      markRetry.run(nextAttemptAt, error, id);
    },
    markFailed(id: number, error: string): void {
      markFailed.run(error, id);
    },
    /** Records a group -> supergroup migration and moves the pending messages to the new chat. */
    migrateChat(from: string, to: string, at: number): void {
      db.transaction(() => {
        putMigration.run(from, to, at);
        retarget.run(to, from);
      })();
    },
    /** Chat id migrations seen so far (old id -> new id). */
    chatMigrations(): Map<string, string> {
      return new Map(migrations.all().map((r) => [r.from_chat, r.to_chat]));
    },
    /** Every row (tests, the CLI). */
    list(): OutboxRow[] {
      return list.all().map(toOutboxRow);
    },
    /** True when a message of `kind` for `channel` was queued since `since` and not given up on. */
    toldSince(kind: string, channel: string, since: number): boolean {
      return (toldSince.get(kind, channel, since)?.n ?? 0) > 0;
    },
    /** Delivery states of the ladder alerts a company's step queued at `at` (within `slackMs`). */
    ladderAlertStates(company: string, at: number, slackMs: number): OutboxRow["status"][] {
      return ladderRows.all(company, at, at + slackMs).map((r) => r.status);
    },
    /** Deletes delivered or failed rows created before `before`. */
    prune(before: number): number {
      return pruneSent.run(before).changes;
    },
  };
}

/** The outbox query set. */
export type OutboxQueries = ReturnType<typeof createOutboxQueries>;

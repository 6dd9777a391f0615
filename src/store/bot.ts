/**
 * The Telegram bot's memory: button callbacks (Telegram's callback_data holds at most 64 bytes, so a
 * button carries a short id and its meaning lives here), confirmations (a callback with an expiry,
 * claimed once), the one-reply-per-hour refusal throttle, and the QR photo sent to each chat.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "./db.js";

/** One button's meaning. */
export interface CallbackRow {
  id: string;
  action: string;
  company: string;
  chat: string;
  args: Record<string, unknown>;
  createdAt: number;
  expiresAt: number | null;
  usedAt: number | null;
  usedBy: string | null;
  result: string | null;
}

/** A QR photo message in a chat. */
export interface QrMessageRow {
  company: string;
  chat: string;
  messageId: number;
  qr: string;
  sentAt: number;
}

interface RawCallback {
  id: string;
  action: string;
  company: string;
  chat: string;
  args: string;
  created_at: number;
  expires_at: number | null;
  used_at: number | null;
  used_by: string | null;
  result: string | null;
}

const toCallback = (r: RawCallback): CallbackRow => ({
  id: r.id,
  action: r.action,
  company: r.company,
  chat: r.chat,
  args: JSON.parse(r.args) as Record<string, unknown>,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  usedBy: r.used_by,
  result: r.result,
});

/** Typed bot queries. */
export function createBotQueries(db: Db) {
  const insert = db.prepare(
    "INSERT INTO bot_callbacks (id, action, company, chat, args, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const get = db.prepare<[string], RawCallback>("SELECT * FROM bot_callbacks WHERE id = ?");
  const claim = db.prepare(
    "UPDATE bot_callbacks SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
  );
  const finish = db.prepare("UPDATE bot_callbacks SET result = ? WHERE id = ?");
  const prune = db.prepare("DELETE FROM bot_callbacks WHERE created_at < ?");
  const getRefusal = db.prepare<[string], { replied_at: number }>(
    "SELECT replied_at FROM bot_refusals WHERE user_id = ?",
  );
  const putRefusal = db.prepare(
    "INSERT INTO bot_refusals (user_id, replied_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET replied_at = excluded.replied_at",
  );
  const qrOf = db.prepare<
    [string],
    { company: string; chat: string; message_id: number; qr: string; sent_at: number }
  >("SELECT * FROM bot_qr_messages WHERE company = ? ORDER BY chat");
  const putQr = db.prepare(`
    INSERT INTO bot_qr_messages (company, chat, message_id, qr, sent_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company, chat) DO UPDATE SET message_id = excluded.message_id, qr = excluded.qr, sent_at = excluded.sent_at`);
  const dropQr = db.prepare("DELETE FROM bot_qr_messages WHERE company = ? AND chat = ?");
  const qrCompanies = db.prepare<[], { company: string }>("SELECT DISTINCT company FROM bot_qr_messages");

  return {
    /** Stores a button's meaning; returns its short id (12 base64url characters). */
    addCallback(
      c: {
        action: string;
        company: string;
        chat: string;
        args?: Record<string, unknown>;
        expiresAt?: number | null;
      },
      now: number,
    ): string {
      const id = randomBytes(9).toString("base64url");
      insert.run(id, c.action, c.company, c.chat, JSON.stringify(c.args ?? {}), now, c.expiresAt ?? null);
      return id;
    },
    /** A button's meaning, if known. */
    callback(id: string): CallbackRow | undefined {
      const r = get.get(id);
      return r ? toCallback(r) : undefined;
    },
    /** Marks a single-use button used; false when it was used already or has expired (acts once). */
    claim(id: string, by: string, now: number): boolean {
      return claim.run(now, by, id, now).changes === 1;
    },
    /** Records what a used button did. */
    setResult(id: string, result: string): void {
      finish.run(result, id);
    },
    /** Forgets buttons created before `before`. */
    pruneCallbacks(before: number): number {
      return prune.run(before).changes;
    },
    /** True (and recorded) when a refusal may be answered now: at most one per user per `everyMs`. */
    takeRefusalReply(userId: string, now: number, everyMs: number): boolean {
      return db.transaction(() => {
        const last = getRefusal.get(userId)?.replied_at;
        if (last !== undefined && now - last < everyMs) return false;
        putRefusal.run(userId, now);
        return true;
      })();
    },
    /** The QR photos currently shown for a company, one per chat. */
    qrMessages(company: string): QrMessageRow[] {
      return qrOf.all(company).map((r) => ({
        company: r.company,
        chat: r.chat,
        messageId: r.message_id,
        qr: r.qr,
        sentAt: r.sent_at,
      }));
    },
    /** Records the QR photo shown in a chat (and which QR it shows). */
    putQrMessage(row: QrMessageRow): void {
      putQr.run(row.company, row.chat, row.messageId, row.qr, row.sentAt);
    },
    /** Forgets a chat's QR photo (deleted). */
    dropQrMessage(company: string, chat: string): void {
      dropQr.run(company, chat);
    },
    /** Companies with a QR photo shown somewhere. */
    qrCompanies(): string[] {
      return qrCompanies.all().map((r) => r.company);
    },
  };
}

/** The bot query set. */
export type BotQueries = ReturnType<typeof createBotQueries>;

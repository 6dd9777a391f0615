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
  /** The user a confirmation belongs to (null: anyone allowed may press it). */
  user: number | null;
  /** The message the button is under, once sent (null: not recorded). */
  messageId: number | null;
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

/** A user's ask for a company's pairing QR (or code), shown in their private chat until `until`. */
export interface QrAskRow {
  company: string;
  chat: string;
  user: number;
  askedAt: number;
  until: number;
}

interface RawCallback {
  id: string;
  action: string;
  company: string;
  chat: string;
  user_id: number | null;
  message_id: number | null;
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
  user: r.user_id,
  messageId: r.message_id,
  args: JSON.parse(r.args) as Record<string, unknown>,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
  usedBy: r.used_by,
  result: r.result,
});

/** Typed bot queries: buttons, refusals, QR asks and QR messages. */
export function createBotQueries(db: Db) {
  return { ...callbackQueries(db), ...refusalQueries(db), ...qrAskQueries(db), ...qrMessageQueries(db) };
}

/** Buttons: what each means, the message it is under, used once. */
function callbackQueries(db: Db) {
  const insert = db.prepare(
    "INSERT INTO bot_callbacks (id, action, company, chat, user_id, args, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const bind = db.prepare("UPDATE bot_callbacks SET message_id = ? WHERE id = ? AND message_id IS NULL");
  const get = db.prepare<[string], RawCallback>("SELECT * FROM bot_callbacks WHERE id = ?");
  const claim = db.prepare(
    "UPDATE bot_callbacks SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
  );
  const finish = db.prepare("UPDATE bot_callbacks SET result = ? WHERE id = ?");
  const prune = db.prepare("DELETE FROM bot_callbacks WHERE created_at < ?");
  return {
    /** Stores a button's meaning; returns its short id (12 base64url characters). */
    addCallback(
      c: {
        action: string;
        company: string;
        chat: string;
        /** Binds the button to this user: nobody else may press it. */
        user?: number;
        args?: Record<string, unknown>;
        expiresAt?: number | null;
      },
      now: number,
    ): string {
      const id = randomBytes(9).toString("base64url");
      insert.run(
        id,
        c.action,
        c.company,
        c.chat,
        c.user ?? null,
        JSON.stringify(c.args ?? {}),
        now,
        c.expiresAt ?? null,
      );
      return id;
    },
    /** Records the message a button was sent under (once: a later message never rebinds it). */
    bindMessage(id: string, messageId: number): void {
      bind.run(messageId, id);
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
  };
}

/** Refused users: counted every time, answered at most once per interval. */
function refusalQueries(db: Db) {
  const putRefusal = db.prepare(
    "INSERT INTO bot_refusals (user_id, replied_at, refused) VALUES (?, ?, 0) ON CONFLICT (user_id) DO UPDATE SET replied_at = excluded.replied_at, refused = 0",
  );
  const countRefusal = db.prepare("UPDATE bot_refusals SET refused = refused + 1 WHERE user_id = ?");
  const refusedOf = db.prepare<[string], { replied_at: number; refused: number }>(
    "SELECT replied_at, refused FROM bot_refusals WHERE user_id = ?",
  );
  return {
    /**
     * Counts one refusal of `userId`. At most once per `everyMs` per user it answers `take: true`
     * (audit it and reply), with how many refusals were only counted since the last one taken.
     */
    takeRefusal(userId: string, now: number, everyMs: number): { take: boolean; since: number } {
      return db.transaction(() => {
        const last = refusedOf.get(userId);
        if (last !== undefined && now - last.replied_at < everyMs) {
          countRefusal.run(userId);
          return { take: false, since: 0 };
        }
        putRefusal.run(userId, now);
        return { take: true, since: last?.refused ?? 0 };
      })();
    },
    /** Refusals counted (not audited) since the user's last audited one. */
    refusalsCounted(userId: string): number {
      return refusedOf.get(userId)?.refused ?? 0;
    },
  };
}

/** Who asked for a company's QR, in which private chat, until when. */
function qrAskQueries(db: Db) {
  const putAsk = db.prepare(`
    INSERT INTO bot_qr_asks (company, chat, user_id, asked_at, until) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (company, chat) DO UPDATE SET user_id = excluded.user_id, asked_at = excluded.asked_at, until = excluded.until`);
  const asksOf = db.prepare<
    [string, number],
    { company: string; chat: string; user_id: number; asked_at: number; until: number }
  >("SELECT * FROM bot_qr_asks WHERE company = ? AND until > ? ORDER BY chat");
  const dropAsk = db.prepare("DELETE FROM bot_qr_asks WHERE company = ? AND chat = ?");
  const pruneAsks = db.prepare("DELETE FROM bot_qr_asks WHERE until <= ?");
  return {
    /** Records that `user` asked for `company`'s QR in (private) `chat`, until `until`. */
    askQr(ask: QrAskRow): void {
      putAsk.run(ask.company, ask.chat, ask.user, ask.askedAt, ask.until);
    },
    /** The asks for a company's QR still in force at `now`. */
    qrAsks(company: string, now: number): QrAskRow[] {
      return asksOf.all(company, now).map((r) => ({
        company: r.company,
        chat: r.chat,
        user: r.user_id,
        askedAt: r.asked_at,
        until: r.until,
      }));
    },
    /** Forgets one ask (the company paired, or the user may no longer see it). */
    dropQrAsk(company: string, chat: string): void {
      dropAsk.run(company, chat);
    },
    /** Forgets the asks that ran out; returns how many. */
    pruneQrAsks(now: number): number {
      return pruneAsks.run(now).changes;
    },
  };
}

/** The QR photos shown, one per company and chat. */
function qrMessageQueries(db: Db) {
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

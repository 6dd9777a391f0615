/**
 * Pairing QRs in Telegram. Whoever scans a company's QR takes over its WhatsApp account, so a QR
 * (or pairing code) goes only to the private chat of a user allowed for the company (an admin or
 * one of its operators) who asked for it: `/qr <company>` or `/pair` in that private chat, the
 * alert's QR button, a confirmed new pairing, or `warden pair <company> --to <user id>`. Each ask
 * lives in SQLite (bot_qr_asks) until `pairing.qrTtl` after it was made. Never a group, never a
 * channel, never a user who did not ask. While the company is pairing each asking chat gets the
 * QR as a PNG photo, replaced in place (editMessageMedia) as WhatsApp rotates it; once the company
 * pairs, the ask runs out or the user is no longer allowed, the message is deleted. With a pairing
 * phone number the code goes out as text instead. Message ids are kept in SQLite, so a restarted
 * supervisor edits or deletes what it sent before.
 */
import { type Api, InputFile } from "node-telegram-bot-api";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeTelegramError, FailureLog } from "../alerts/notifiers/telegram-failure.js";
import { companySettings } from "../config/load.js";
import { describeError } from "../errors.js";
import { isAllowedUser } from "./authorize.js";
import type { BotDeps } from "./bot-context.js";
import { toChatId } from "./chat-io.js";
import { qrCaption, renderQr } from "./commands/control.js";

/** Publisher settings. */
export interface QrPublisherOptions {
  deps: BotDeps;
  api: Api;
  everyMs: number;
}

const CODE_PREFIX = "code:";

/** Keeps the chats' QR photos in step with the store. */
export class QrPublisher {
  private readonly options: QrPublisherOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private closed = false;
  /** The pass runs every second: a failure that repeats is logged once a minute with a count. */
  private readonly failures: FailureLog;

  constructor(options: QrPublisherOptions) {
    this.options = options;
    this.failures = new FailureLog(options.deps.logger, () => options.deps.clock.now());
  }

  /** Starts the periodic tick. */
  start(): void {
    if (this.closed || this.timer) return;
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.tick().finally(() => {
          if (!this.closed) loop();
        });
      }, this.options.everyMs);
    };
    loop();
  }

  /** Stops the tick; waits for one in progress. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.again;
  }

  /** One pass over every company: send, replace or delete photos as needed. */
  tick(): Promise<void> {
    // A pass in progress may have gone past the company just asked for: one more follows it.
    if (this.running) {
      this.again ??= this.running.then(() => {
        this.again = undefined;
        return this.tick();
      });
      return this.again;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { store, clock } = this.options.deps;
    const now = clock.now();
    const companies = new Set(store.bot.qrCompanies());
    for (const row of store.companies.listPresent())
      if (store.connections.pairing(row.id)) companies.add(row.id);
    for (const company of [...companies].sort()) {
      if (this.closed) return;
      try {
        await this.syncCompany(company, now);
        this.failures.clear(company);
      } catch (err) {
        this.failures.report(company, `QR photo update of ${company} failed: ${describeTelegramError(err)}`, {
          company,
        });
      }
    }
    store.bot.pruneQrAsks(now);
  }

  private caption(company: string): string {
    return qrCaption(company, companySettings(this.options.deps.config(), company).pairing.qrTtl);
  }

  /** The private chats that asked for the company's QR and may still see it. */
  private askingChats(company: string, now: number): string[] {
    const { deps } = this.options;
    const config = deps.config();
    return deps.store.bot
      .qrAsks(company, now)
      .filter((ask) => ask.chat === String(ask.user) && isAllowedUser(config, ask.user, company))
      .map((ask) => ask.chat);
  }

  private async syncCompany(company: string, now: number): Promise<void> {
    const { deps, api } = this.options;
    const { store } = deps;
    const pairing = store.connections.pairing(company);
    const wanted = pairing?.pairingCode
      ? `${CODE_PREFIX}${pairing.pairingCode}`
      : pairing?.qr
        ? pairing.qr
        : null;
    const shown = new Map(store.bot.qrMessages(company).map((m) => [m.chat, m]));
    const chats = wanted === null ? [] : this.askingChats(company, now);
    for (const [chat, message] of shown) {
      if (chats.includes(chat) && message.qr === wanted) continue;
      if (chats.includes(chat) && !message.qr.startsWith(CODE_PREFIX) && !wanted?.startsWith(CODE_PREFIX)) {
        // A rotation: replace the photo in place.
        await api.editMessageMedia({
          chat_id: toChatId(chat),
          message_id: message.messageId,
          media: { type: "photo", media: await photoFile(wanted as string), caption: this.caption(company) },
        });
        store.bot.putQrMessage({ ...message, qr: wanted as string, sentAt: now });
        continue;
      }
      // Paired (or no longer pairing, the ask ran out, the user lost the company, or a switch
      // between QR and code): the old message goes; once the pairing is over, so does the ask.
      await api.deleteMessage({ chat_id: toChatId(chat), message_id: message.messageId }).catch((err) => {
        deps.logger.debug(`Could not delete the QR message: ${describeTelegramError(err, "deleteMessage")}`);
      });
      store.bot.dropQrMessage(company, chat);
      if (wanted === null) store.bot.dropQrAsk(company, chat);
      shown.delete(chat);
    }
    if (wanted === null) return;
    for (const chat of chats) {
      if (shown.has(chat)) continue;
      try {
        await this.send(company, chat, wanted, now);
      } catch (err) {
        // A user who never opened a private chat with the bot cannot be written to (403): the ask
        // is dropped, said once in the log, rather than retried every tick until it runs out.
        store.bot.dropQrAsk(company, chat);
        deps.logger.warn(
          { company, chat },
          `Could not send the pairing QR of ${company} to private chat ${chat} (the user must open a chat with the bot first): ${describeError(err)}`,
        );
      }
    }
  }

  private async send(company: string, chat: string, wanted: string, now: number): Promise<void> {
    const { api, deps } = this.options;
    const sent = wanted.startsWith(CODE_PREFIX)
      ? await api.sendMessage({
          chat_id: toChatId(chat),
          text: `<b>${escapeHtml(company)}</b> pairing code: <code>${escapeHtml(wanted.slice(CODE_PREFIX.length))}</code>\nWhatsApp → Linked devices → Link with phone number.`,
          parse_mode: "HTML",
        })
      : await api.sendPhoto({
          chat_id: toChatId(chat),
          photo: await photoFile(wanted),
          caption: this.caption(company),
        });
    deps.store.bot.putQrMessage({ company, chat, messageId: sent.message_id, qr: wanted, sentAt: now });
  }
}

async function photoFile(qr: string): Promise<InputFile> {
  return new InputFile(new Uint8Array(await renderQr(qr)), { filename: "qr.png", contentType: "image/png" });
}

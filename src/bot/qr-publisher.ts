/**
 * QR codes in the chat (issue 12). While a company is pairing (its worker stored a QR in SQLite),
 * each of its chats gets the QR as a PNG photo with the company name and how long it is valid. As
 * WhatsApp rotates the QR the photo is replaced in place (editMessageMedia), at most once per
 * rotation; once the company connects (the worker clears its pairing row) the photo is deleted.
 * With a pairing phone number the pairing code goes out as text instead. The message ids are kept
 * in SQLite, so a restarted supervisor edits or deletes the photos it sent before.
 */
import { type Api, InputFile } from "node-telegram-bot-api";
import { alertChats } from "../alerts/chat-routing.js";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeTelegramError, FailureLog } from "../alerts/notifiers/telegram-failure.js";
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
  }

  /** One pass over every company: send, replace or delete photos as needed. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { store } = this.options.deps;
    const companies = new Set(store.bot.qrCompanies());
    for (const row of store.companies.listPresent())
      if (store.connections.pairing(row.id)) companies.add(row.id);
    for (const company of [...companies].sort()) {
      if (this.closed) return;
      try {
        await this.syncCompany(company);
        this.failures.clear(company);
      } catch (err) {
        this.failures.report(company, `QR photo update of ${company} failed: ${describeTelegramError(err)}`, {
          company,
        });
      }
    }
  }

  private async syncCompany(company: string): Promise<void> {
    const { deps, api } = this.options;
    const { store } = deps;
    const pairing = store.connections.pairing(company);
    const wanted = pairing?.pairingCode
      ? `${CODE_PREFIX}${pairing.pairingCode}`
      : pairing?.qr
        ? pairing.qr
        : null;
    const shown = new Map(store.bot.qrMessages(company).map((m) => [m.chat, m]));
    const chats = wanted === null ? [] : alertChats(deps.config(), company, store.outbox.chatMigrations());
    for (const [chat, message] of shown) {
      if (chats.includes(chat) && message.qr === wanted) continue;
      if (chats.includes(chat) && !message.qr.startsWith(CODE_PREFIX) && !wanted?.startsWith(CODE_PREFIX)) {
        // A rotation: replace the photo in place.
        await api.editMessageMedia({
          chat_id: toChatId(chat),
          message_id: message.messageId,
          media: { type: "photo", media: await photoFile(wanted as string), caption: qrCaption(company) },
        });
        store.bot.putQrMessage({ ...message, qr: wanted as string, sentAt: deps.clock.now() });
        continue;
      }
      // Connected (or no longer pairing, or switched between QR and code): the old message goes.
      await api.deleteMessage({ chat_id: toChatId(chat), message_id: message.messageId }).catch((err) => {
        deps.logger.debug(`Could not delete the QR message: ${describeTelegramError(err, "deleteMessage")}`);
      });
      store.bot.dropQrMessage(company, chat);
      shown.delete(chat);
    }
    if (wanted === null) return;
    for (const chat of chats) {
      if (shown.has(chat)) continue;
      const sent = wanted.startsWith(CODE_PREFIX)
        ? await api.sendMessage({
            chat_id: toChatId(chat),
            text: `<b>${escapeHtml(company)}</b> pairing code: <code>${escapeHtml(wanted.slice(CODE_PREFIX.length))}</code>\nWhatsApp → Linked devices → Link with phone number.`,
            parse_mode: "HTML",
          })
        : await api.sendPhoto({
            chat_id: toChatId(chat),
            photo: await photoFile(wanted),
            caption: qrCaption(company),
          });
      store.bot.putQrMessage({
        company,
        chat,
        messageId: sent.message_id,
        qr: wanted,
        sentAt: deps.clock.now(),
      });
    }
  }
}

async function photoFile(qr: string): Promise<InputFile> {
  return new InputFile(new Uint8Array(await renderQr(qr)), { filename: "qr.png", contentType: "image/png" });
}

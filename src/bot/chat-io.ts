/**
 * What the bot says back: answers (split below 4096 characters, photos as multipart), callback
 * query answers, removing used buttons, and the worker's acknowledgement of a relayed control
 * request once it comes. A failed send is logged, never thrown: the update still counts as handled.
 */
import { type Api, InputFile } from "node-telegram-bot-api";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeTelegramError, isTelegramRefusal } from "../alerts/notifiers/telegram-failure.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { Reply } from "./bot-context.js";
import { splitMessage } from "./reply.js";

/** How long the bot waits for a worker to acknowledge a control request it relays. */
const CONTROL_WAIT_MS = 30_000;

/** A chat id as the Bot API takes it (numbers for numeric ids, "@name" otherwise). */
export function toChatId(chat: string): number | string {
  return /^-?\d+$/.test(chat) ? Number(chat) : chat;
}

/** Sending on behalf of the bot. */
export class ChatIo {
  private readonly tasks = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly api: Api,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly now: () => number,
    /** What every outgoing text goes through (absolute paths hidden). */
    private readonly scrub: (text: string) => string = (text) => text,
  ) {}

  /**
   * Sends answers in order. An answer Telegram refuses is replaced by one short plain-text line
   * saying so (a command never goes unanswered because its photo or HTML was refused).
   */
  async send(chat: string, replies: Reply[]): Promise<void> {
    for (const reply of replies) {
      const method = "photo" in reply ? "sendPhoto" : "sendMessage";
      try {
        if ("photo" in reply) {
          await this.api.sendPhoto({
            chat_id: toChatId(chat),
            photo: new InputFile(new Uint8Array(reply.photo.png), {
              filename: "qr.png",
              contentType: "image/png",
            }),
            caption: this.scrub(reply.photo.caption),
          });
          continue;
        }
        const parts = splitMessage(this.scrub(reply.html));
        for (const [i, part] of parts.entries()) {
          const sent = await this.api.sendMessage({
            chat_id: toChatId(chat),
            text: part,
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            ...(reply.buttons && i === parts.length - 1
              ? { reply_markup: { inline_keyboard: reply.buttons } }
              : {}),
          });
          // A Confirm is bound to the message it came under (src/bot/callbacks.ts).
          if (reply.buttons && i === parts.length - 1)
            for (const button of reply.buttons.flat())
              if (button.callback_data) this.store.bot.bindMessage(button.callback_data, sent.message_id);
        }
      } catch (err) {
        const why = describeTelegramError(err, method);
        this.log.error({ chat }, `Could not answer in chat ${chat}: ${why}`);
        if (isTelegramRefusal(err)) await this.sayReplyFailed(chat, why);
      }
    }
  }

  private async sayReplyFailed(chat: string, why: string): Promise<void> {
    try {
      await this.api.sendMessage({ chat_id: toChatId(chat), text: `⚠️ The answer could not be sent: ${why}` });
    } catch (err) {
      this.log.error({ chat }, `Could not say so either: ${describeTelegramError(err, "sendMessage")}`);
    }
  }

  /** Answers a button press (stops the client's spinner). */
  async answer(queryId: string, text: string): Promise<void> {
    try {
      await this.api.answerCallbackQuery({ callback_query_id: queryId, text });
    } catch (err) {
      this.log.warn(describeTelegramError(err, "answerCallbackQuery"));
    }
  }

  /** Removes the buttons under a message (a used confirmation). */
  async clearButtons(chat: string, messageId: number): Promise<void> {
    try {
      await this.api.editMessageReplyMarkup({
        chat_id: toChatId(chat),
        message_id: messageId,
        reply_markup: { inline_keyboard: [] },
      });
    } catch (err) {
      this.log.debug(`Could not remove the buttons: ${describeTelegramError(err, "editMessageReplyMarkup")}`);
    }
  }

  /** Runs `work` in the background; close() waits for it. */
  track(work: Promise<void>): void {
    const task = work.catch((err) =>
      this.log.error({ err }, `bot background task failed: ${describeError(err)}`),
    );
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Sends the worker's acknowledgement of a control request when it comes (bounded wait). */
  followControl(chat: string, id: number): void {
    this.track(
      (async () => {
        const started = Date.now();
        while (!this.closed && Date.now() - started < CONTROL_WAIT_MS) {
          const request = this.store.control.get(id);
          if (request?.doneAt) {
            const html = `${request.ok ? "✅" : "❌"} ${request.action} <code>${escapeHtml(request.company)}</code>: ${escapeHtml(request.result ?? "")}`;
            return this.send(chat, [{ html }]);
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (!this.closed && this.store.control.cancel(id, "no worker picked it up in time", this.now()))
          await this.send(chat, [
            {
              html: `❌ No worker picked up request #${id} within ${CONTROL_WAIT_MS / 1000}s; it was withdrawn. Is warden-worker running?`,
            },
          ]);
      })(),
    );
  }

  /** Stops follow-ups; resolves when background tasks are done. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.tasks]);
  }
}

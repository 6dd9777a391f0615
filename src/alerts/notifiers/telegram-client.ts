/**
 * Telegram notifier on node-telegram-bot-api v2 (`Api` with `apiRoot` from TELEGRAM_API_ROOT).
 * The client's own retries are off: the outbox retries, durably, and honours 429 retry_after.
 * "Telegram refused" (an API error) and "network failed" are kept apart; only the latter, 429 and
 * 5xx are retried. A group upgraded to a supergroup answers migrate_to_chat_id: followed.
 * The supervisor reaches this module through `telegram.ts`, which imports it on the first send or
 * check: without TELEGRAM_BOT_TOKEN the client is never loaded.
 */
import { Api, NetworkError, TelegramApiError, TimeoutError } from "node-telegram-bot-api";
import { scrubSecrets } from "../../logger.js";
import type { InlineKeyboard } from "../alert-buttons.js";
import { DeliveryError, type Notifier, type OutgoingMessage, type SentMessage } from "./notifier.js";
import { describeTelegramError, telegramFetch } from "./telegram-failure.js";

/** A Bot API client as every part of wa-warden builds it: no client retries, failures named. */
export function createTelegramApi(options: TelegramNotifierOptions & { maxRetries?: number }): Api {
  return new Api(options.token, {
    ...(options.apiRoot ? { apiRoot: options.apiRoot.replace(/\/$/, "") } : {}),
    maxRetries: options.maxRetries ?? 0,
    timeoutMs: options.timeoutMs ?? 30_000,
    fetch: telegramFetch(),
  });
}

/** Options of the Telegram notifier. */
export interface TelegramNotifierOptions {
  token: string;
  /** Bot API root (default https://api.telegram.org). */
  apiRoot?: string;
  timeoutMs?: number;
}

/** Creates the Telegram notifier with its client (`telegram.ts` wraps it, loaded on first use). */
export function createTelegramClientNotifier(options: TelegramNotifierOptions): Notifier {
  const api = createTelegramApi(options);
  const scrub = (text: string) => scrubSecrets(text, [options.token]);
  return {
    name: "telegram",
    // Telegram allows about one message a second per chat: per-chat gap, overall cap, storm grouping.
    paced: true,
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<SentMessage> {
      const chatId = /^-?\d+$/.test(message.target) ? Number(message.target) : message.target;
      const buttons = Array.isArray(message.payload.buttons)
        ? { reply_markup: { inline_keyboard: message.payload.buttons as InlineKeyboard } }
        : {};
      try {
        // An ack shown on an alert already sent (src/alerts/ack.ts): the message is edited in place.
        if (typeof message.payload.editMessageId === "number") {
          await api.editMessageText(
            {
              chat_id: chatId,
              message_id: message.payload.editMessageId,
              text: message.html,
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              ...buttons,
            },
            signal,
          );
          return { messageId: message.payload.editMessageId };
        }
        const sent = await api.sendMessage(
          {
            chat_id: chatId,
            text: message.html,
            parse_mode: "HTML",
            disable_notification: message.silent,
            link_preview_options: { is_disabled: true },
            // Company alerts carry inline buttons (src/alerts/alert-buttons.ts); the bot answers them.
            ...buttons,
          },
          signal,
        );
        return { messageId: sent.message_id };
      } catch (err) {
        throw toDeliveryError(err, scrub);
      }
    },
  };
}

/** Asks Telegram who the bot is (getMe): its @username, or the exact reason it cannot answer. */
export async function checkTelegramBot(
  options: TelegramNotifierOptions,
): Promise<{ ok: true; username: string } | { ok: false; reason: string }> {
  const api = createTelegramApi({ ...options, timeoutMs: options.timeoutMs ?? 10_000 });
  try {
    const me = await api.getMe();
    return { ok: true, username: me.username ?? me.first_name };
  } catch (err) {
    return {
      ok: false,
      reason: toDeliveryError(err, (text) => scrubSecrets(text, [options.token])).failure.reason,
    };
  }
}

function toDeliveryError(err: unknown, scrub: (text: string) => string): DeliveryError {
  if (err instanceof TelegramApiError) {
    const reason = scrub(describeTelegramError(err, "sendMessage"));
    if (err.migrateToChatId !== undefined) {
      return new DeliveryError({ kind: "migrate", newTarget: String(err.migrateToChatId), reason });
    }
    if (err.errorCode === 429) {
      return new DeliveryError({ kind: "retry", retryAfterMs: (err.retryAfter ?? 1) * 1_000, reason });
    }
    if (err.errorCode >= 500) return new DeliveryError({ kind: "retry", reason });
    return new DeliveryError({ kind: "refused", reason });
  }
  if (err instanceof NetworkError || err instanceof TimeoutError) {
    return new DeliveryError({ kind: "retry", reason: scrub(describeTelegramError(err)) });
  }
  return new DeliveryError({ kind: "retry", reason: scrub(describeTelegramError(err, "send")) });
}

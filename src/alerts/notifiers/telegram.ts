/**
 * The Telegram notifier as the supervisor and the CLI build it: the client (`telegram-client.ts`,
 * node-telegram-bot-api) is imported by the first send or check, so a supervisor without
 * TELEGRAM_BOT_TOKEN never loads it.
 */
import type { Notifier } from "./notifier.js";
import type { TelegramNotifierOptions } from "./telegram-client.js";

export type { TelegramNotifierOptions };

/** Creates the Telegram notifier (its client is loaded by the first send). */
export function createTelegramNotifier(options: TelegramNotifierOptions): Notifier {
  let client: Promise<Notifier> | undefined;
  return {
    name: "telegram",
    // Telegram allows about one message a second per chat: per-chat gap, overall cap, storm grouping.
    paced: true,
    async send(message, signal) {
      client ??= import("./telegram-client.js").then((m) => m.createTelegramClientNotifier(options));
      return (await client).send(message, signal);
    },
  };
}

/** Asks Telegram who the bot is (getMe): its @username, or the exact reason it cannot answer. */
export async function checkTelegramBot(
  options: TelegramNotifierOptions,
): Promise<{ ok: true; username: string } | { ok: false; reason: string }> {
  return (await import("./telegram-client.js")).checkTelegramBot(options);
}

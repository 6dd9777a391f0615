/**
 * The Telegram bot as the supervisor holds it: built at once, loaded when it starts. The working
 * part (`bot-core.ts`: the Telegram client, the commands, qrcode for QR photos) is imported by
 * `start()`, so a supervisor without TELEGRAM_BOT_TOKEN never loads it.
 */
import type { BotCore, TelegramBotOptions } from "./bot-core.js";

export type { TelegramBotOptions };

/** The bot. */
export class TelegramBot {
  private readonly options: TelegramBotOptions;
  private loading: Promise<BotCore> | undefined;
  private closed = false;

  constructor(options: TelegramBotOptions) {
    this.options = options;
  }

  /**
   * Loads the bot, starts polling and QR publishing, and registers the command list in the
   * background: an unreachable Telegram must not hold up the supervisor's start (pm2 waits for "ready").
   */
  async start(): Promise<void> {
    if (this.closed) return;
    const bot = await this.load();
    // close() may have run while it loaded: then it closed the bot, whose start() does nothing.
    await bot.start();
  }

  /** Brings QR photos up to date now (the timer does it every qrEveryMs). */
  async publishQr(): Promise<void> {
    await (await this.load()).publishQr();
  }

  /**
   * Stops polling (the pending poll is aborted), QR publishing and follow-ups, within `timeoutMs`
   * (`BotCore.close`). Idempotent; a bot never loaded has nothing to stop.
   */
  async close(timeoutMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const bot = await this.loading?.catch(() => undefined);
    await bot?.close(timeoutMs);
  }

  private load(): Promise<BotCore> {
    this.loading ??= import("./bot-core.js").then((m) => new m.BotCore(this.options));
    return this.loading;
  }
}

/**
 * The Telegram bot (issue 12), run by the supervisor: the only process that polls the token. It
 * answers commands and button presses from allowed chats and users (src/bot/authorize.ts: fail
 * closed), acts through the same executors as the CLI, audits every accepted command as
 * `telegram:<user id>`, and answers a refused one at most once per user per hour.
 */
import { Bot, type Context, type Update } from "node-telegram-bot-api";
import { chatScope } from "../alerts/chat-routing.js";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeTelegramError, telegramFetch } from "../alerts/notifiers/telegram-failure.js";
import { assertCompanyFolder } from "../config/company-id.js";
import { didYouMean } from "../did-you-mean.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { mayCommand, mayUseBot } from "./authorize.js";
import type { BotCommand, BotDeps, Requester } from "./bot-context.js";
import { type CallbackIo, handleCallback } from "./callbacks.js";
import { ChatIo } from "./chat-io.js";
import { BOT_COMMANDS } from "./commands/index.js";
import { knownVisible } from "./commands/status.js";
import { UpdatePoller } from "./poller.js";
import { QrPublisher } from "./qr-publisher.js";

/** How often a refused user gets an answer. */
const REFUSAL_REPLY_EVERY_MS = 3_600_000;
/** Longest wait for work in progress when the bot closes. */
const CLOSE_WAIT_MS = 5_000;

/** What the bot is built from. */
export interface TelegramBotOptions extends Omit<BotDeps, "pollerState"> {
  token: string;
  /** TELEGRAM_API_ROOT. */
  apiRoot?: string;
  /** Long-poll seconds (default 30). */
  pollTimeoutSec?: number;
  /** Queues a fleet notice through the outbox (the 409 alert). */
  notify: (title: string, detail: string, kind: string) => void;
  /** How often QR photos are brought up to date (default 1 s). */
  qrEveryMs?: number;
  /** Poll retry backoff (tests shorten it). */
  backoffMs?: number;
}

/** The bot. */
export class TelegramBot {
  private readonly deps: BotDeps;
  private readonly bot: Bot;
  private readonly log: Logger;
  private readonly poller: UpdatePoller;
  private readonly qr: QrPublisher;
  private readonly chat: ChatIo;
  private closed = false;

  constructor(options: TelegramBotOptions) {
    this.log = options.logger.child({ component: "bot" });
    this.bot = new Bot(options.token, {
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      maxRetries: 1,
      timeoutMs: 30_000,
      fetch: telegramFetch(),
    });
    this.poller = new UpdatePoller({
      api: this.bot.api,
      cursor: {
        get: () => options.store.cursors.get("telegram-update"),
        set: (id) => options.store.cursors.set("telegram-update", id),
      },
      handle: (update: Update) => this.bot.handleUpdate(update),
      logger: this.log,
      timeoutSec: options.pollTimeoutSec,
      backoffMs: options.backoffMs,
      onConflict: (description) =>
        options.notify(
          "Telegram bot: 409 Conflict",
          `Another process polls this bot token (${description}). Bot commands are not received until it stops; alerts still go out.`,
          "bot-conflict",
        ),
    });
    this.deps = { ...options, pollerState: () => this.poller.state };
    this.chat = new ChatIo(this.bot.api, options.store, this.log, () => options.clock.now());
    this.qr = new QrPublisher({ deps: this.deps, api: this.bot.api, everyMs: options.qrEveryMs ?? 1_000 });
    this.bot.catch((err, ctx) =>
      this.log.error({ err, updateId: ctx.update.update_id }, `Bot handler failed: ${describeError(err)}`),
    );
    for (const command of BOT_COMMANDS)
      this.bot.command(command.name, (ctx) => this.runCommand(ctx, command, String(ctx.match ?? "")));
    this.bot.on("callback_query", async (ctx) => {
      if (ctx.callbackQuery) await handleCallback(this.deps, this.io, ctx.callbackQuery);
    });
    this.bot.on("message", (ctx) => this.unknownCommand(ctx));
  }

  /**
   * Starts polling and QR publishing, and registers the command list in the background: an
   * unreachable Telegram must not hold up the supervisor's start (pm2 waits for "ready").
   */
  async start(): Promise<void> {
    if (this.closed) return;
    const registering = this.bot.api
      .setMyCommands({
        commands: BOT_COMMANDS.map((c) => ({
          command: c.name,
          description: `${c.usage ? `${c.usage} - ` : ""}${c.description}`.slice(0, 256),
        })),
      })
      .then(
        () => undefined,
        (err) =>
          this.log.warn(
            `setMyCommands failed (commands still work): ${describeTelegramError(err, "setMyCommands")}`,
          ),
      );
    this.chat.track(registering);
    this.poller.start();
    this.qr.start();
  }

  /**
   * Stops polling (the pending poll is aborted), QR publishing and follow-ups. A handler in
   * progress (a cleanup) may finish; the wait is bounded so a stopping supervisor still flushes
   * its alerts within pm2's kill_timeout. Idempotent.
   */
  async close(timeoutMs = CLOSE_WAIT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([this.qr.close(), this.poller.close(timeoutMs), this.chat.close()]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Brings QR photos up to date now (the timer does it every qrEveryMs). */
  publishQr(): Promise<void> {
    return this.qr.tick();
  }

  private requester(ctx: Context): Requester | undefined {
    const user = ctx.from?.id;
    const chat = ctx.chatId;
    if (user === undefined || chat === undefined) return undefined;
    const config = this.deps.config();
    return {
      chat: String(chat),
      user,
      actor: `telegram:${user}`,
      scope: chatScope(config, String(chat), this.deps.store.outbox.chatMigrations()),
    };
  }

  private async runCommand(ctx: Context, command: BotCommand, argText: string): Promise<void> {
    const req = this.requester(ctx);
    if (!req) return;
    const config = this.deps.config();
    const words = argText.split(/\s+/).filter(Boolean);
    const line = `/${command.name}${words.length ? ` ${words.join(" ")}` : ""}`;
    if (!mayUseBot(config, req.scope, req.user)) return this.refuse(req, line, null);
    const usage = `Usage: /${command.name} ${escapeHtml(command.usage)}`.trim();
    const company = command.company === "none" ? undefined : words[0];
    if (words.length > command.maxArgs || (command.company === "required" && company === undefined))
      return this.answerProblem(req, company ?? "*", line, usage);
    if (company !== undefined) {
      try {
        assertCompanyFolder(config.sessionsDir, company);
      } catch (err) {
        // Suggest only a company this user may see: a guess must not reveal other companies.
        const guess = didYouMean(
          company,
          knownVisible(this.deps, req).filter((id) => id !== company),
        );
        return this.answerProblem(
          req,
          company,
          line,
          `${escapeHtml(describeError(err).replace(/: no folder .*/, ""))}${guess ? `; did you mean <code>${escapeHtml(guess)}</code>?` : ""}`,
        );
      }
      if (!mayCommand(config, req.scope, req.user, company)) return this.refuse(req, line, company);
    }
    try {
      const outcome = await command.run(this.deps, req, company, words.slice(company === undefined ? 0 : 1));
      this.audit(req, company ?? "*", "telegram-command", outcome.ok !== false, `${line}: ${outcome.result}`);
      await this.chat.send(req.chat, outcome.replies);
      if (outcome.control !== undefined) this.chat.followControl(req.chat, outcome.control);
    } catch (err) {
      this.audit(req, company ?? "*", "telegram-command", false, `${line}: ${describeError(err)}`);
      await this.chat.send(req.chat, [{ html: `❌ ${escapeHtml(describeError(err))}` }]);
    }
  }

  private async answerProblem(req: Requester, company: string, line: string, html: string): Promise<void> {
    this.audit(req, company, "telegram-command", false, `${line}: ${html}`);
    await this.chat.send(req.chat, [{ html }]);
  }

  private async unknownCommand(ctx: Context): Promise<void> {
    const textIn = ctx.message?.text;
    if (!textIn?.startsWith("/")) return;
    const req = this.requester(ctx);
    if (!req) return;
    const name = textIn.split(/[\s@]/)[0] ?? textIn;
    if (!mayUseBot(this.deps.config(), req.scope, req.user)) return this.refuse(req, name, null);
    const guess = didYouMean(
      name.replace(/^\//, ""),
      BOT_COMMANDS.map((c) => c.name),
    );
    await this.chat.send(req.chat, [
      {
        html: `Unknown command ${escapeHtml(name)}${guess ? `; did you mean /${guess}?` : ""} /help lists them.`,
      },
    ]);
  }

  private async refuse(req: Requester, what: string, company: string | null): Promise<void> {
    const now = this.deps.clock.now();
    this.deps.store.audit.add({
      at: now,
      actor: req.actor,
      company: company ?? "*",
      action: "telegram-refused",
      ok: false,
      result: `not authorized: ${what}`,
      detail: { chat: req.chat },
    });
    this.log.warn({ user: req.user, chat: req.chat, what }, "Refused a Telegram request (not authorized)");
    if (this.deps.store.bot.takeRefusalReply(String(req.user), now, REFUSAL_REPLY_EVERY_MS))
      await this.chat.send(req.chat, [{ html: `not authorized (your user id: ${req.user})` }]);
  }

  private audit(req: Requester, company: string, action: string, ok: boolean, result: string): void {
    this.deps.store.audit.add({
      at: this.deps.clock.now(),
      actor: req.actor,
      company,
      action,
      ok,
      result,
      detail: { chat: req.chat },
    });
  }

  private readonly io: CallbackIo = {
    send: (chat, replies) => this.chat.send(chat, replies),
    answer: (queryId, text) => this.chat.answer(queryId, text),
    refuse: (req, what, company) => this.refuse(req, what, company),
    audit: (req, company, action, ok, result) => this.audit(req, company, action, ok, result),
    clearButtons: (chat, messageId) => this.chat.clearButtons(chat, messageId),
    followControl: (chat, id) => this.chat.followControl(chat, id),
  };
}

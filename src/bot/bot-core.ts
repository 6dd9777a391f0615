/**
 * The Telegram bot's working part, run by the supervisor (loaded by `telegram-bot.ts` when the bot
 * starts): the only process that polls the token. It
 * answers commands and button presses from allowed chats and users (src/bot/authorize.ts: fail
 * closed), acts through the same executors as the CLI, audits every accepted command as
 * `telegram:<user id>`, and answers a refused one at most once per user per hour.
 */
import { Bot, type Context, type Update } from "node-telegram-bot-api";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeTelegramError, telegramFetch } from "../alerts/notifiers/telegram-failure.js";
import { assertCompanyFolder } from "../config/company-id.js";
import type { WardenConfig } from "../config/load.js";
import { didYouMean } from "../did-you-mean.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { knownVisible, mayCommand, mayUseBot, toRequester } from "./authorize.js";
import type { BotCommand, BotDeps, Requester } from "./bot-context.js";
import { type CallbackIo, handleCallback } from "./callbacks.js";
import { ChatIo } from "./chat-io.js";
import { BOT_COMMANDS } from "./commands/index.js";
import { errorReply } from "./error-replies.js";
import { UpdatePoller } from "./poller.js";
import { QrPublisher } from "./qr-publisher.js";
import { hidePaths } from "./reply.js";

/** How often a refused user is audited and answered (every refusal is counted). */
const REFUSAL_REPLY_EVERY_MS = 3_600_000;
/** Longest text of a refused command kept in the audit row. */
const REFUSAL_TEXT_MAX = 100;
/** Longest wait for work in progress when the bot closes. */
const CLOSE_WAIT_MS = 5_000;

/** What the bot is built from. */
export interface TelegramBotOptions extends Omit<BotDeps, "pollerState" | "publishQr"> {
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
export class BotCore {
  private readonly deps: BotDeps;
  private readonly bot: Bot;
  private readonly log: Logger;
  private readonly poller: UpdatePoller;
  private readonly qr: QrPublisher;
  private readonly chat: ChatIo;
  private closed = false;
  private me: Promise<string | undefined> | undefined;

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
    this.deps = {
      ...options,
      pollerState: () => this.poller.state,
      publishQr: () => this.chat.track(this.qr.tick()),
    };
    this.chat = new ChatIo(
      this.bot.api,
      options.store,
      this.log,
      () => options.clock.now(),
      (text) =>
        hidePaths(text, [
          { path: options.config().sessionsDir, name: "sessionsDir" },
          ...(options.home ? [{ path: options.home, name: "WARDEN_HOME" }] : []),
        ]),
    );
    this.qr = new QrPublisher({ deps: this.deps, api: this.bot.api, everyMs: options.qrEveryMs ?? 1_000 });
    this.bot.catch((err, ctx) =>
      this.log.error({ err, updateId: ctx.update.update_id }, `Bot handler failed: ${describeError(err)}`),
    );
    // Forwarded messages, channel posts and commands addressed to another bot never run.
    this.bot.use(async (ctx, next) => {
      if (await this.addressedToUs(ctx.update)) return next();
    });
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

  /**
   * True for what the bot acts on: a message written (not forwarded) by a user, or a button press.
   * A forwarded "/cleanup acme" would run as the forwarder; a channel post has no user; and in a
   * group "/status@other_bot" is for another bot (compared with getMe's username; while it is not
   * known, every "@name" command is left alone).
   */
  private async addressedToUs(update: Update): Promise<boolean> {
    if ("callback_query" in update) return true;
    const message = "message" in update ? update.message : undefined;
    if (!message?.from || message.from.is_bot) return false;
    if (message.forward_origin || "forward_date" in message) return false;
    const addressed = /^\/[A-Za-z0-9_]+@([A-Za-z0-9_]+)/.exec(message.text ?? "")?.[1];
    if (addressed === undefined) return true;
    const own = await this.username();
    return own !== undefined && addressed.toLowerCase() === own.toLowerCase();
  }

  /** The bot's own @username (getMe, asked once; asked again after a failure). */
  private username(): Promise<string | undefined> {
    this.me ??= this.bot.api.getMe().then(
      (me) => me.username,
      (err) => {
        this.me = undefined;
        this.log.warn(`getMe failed: ${describeError(err)}`);
        return undefined;
      },
    );
    return this.me;
  }

  private requester(ctx: Context): Requester | undefined {
    const user = ctx.from?.id;
    const chat = ctx.chat;
    if (user === undefined || chat === undefined) return undefined;
    const name = ctx.from?.username ? `@${ctx.from.username}` : ctx.from?.first_name;
    return toRequester(this.deps.config(), this.deps, { id: String(chat.id), type: chat.type }, user, name);
  }

  private async runCommand(ctx: Context, command: BotCommand, argText: string): Promise<void> {
    const req = this.requester(ctx);
    if (!req) return;
    const config = this.deps.config();
    const words = argText.split(/\s+/).filter(Boolean);
    const line = `/${command.name}${words.length ? ` ${words.join(" ")}` : ""}`;
    if (!mayUseBot(config, req.scope, req.user)) return this.refuse(req, line, null);
    // Telegram's Start button of a new private chat sends a bare "/start": greet, start nothing.
    if (command.name === "start" && words.length === 0 && req.private)
      return this.chat.send(req.chat, [
        {
          html: "wa-warden here. /help lists the commands; /qr &lt;company&gt; in this chat brings a pairing QR.",
        },
      ]);
    const usage = `Usage: /${command.name} ${escapeHtml(command.usage)}`.trim();
    const company = command.company === "none" ? undefined : words[0];
    if (words.length > command.maxArgs || (command.company === "required" && company === undefined))
      return this.answerProblem(req, company ?? "*", line, usage);
    // Authorization first, and one answer for "no such company" and "not yours": the bot must
    // not tell which company names exist to someone who may not command them. A guess names only a
    // company this user may see.
    if (
      company !== undefined &&
      !(mayCommand(config, req.scope, req.user, company) && folderExists(config, company))
    ) {
      const guess = didYouMean(
        company,
        knownVisible(this.deps, req).filter((id) => id !== company),
      );
      return this.answerProblem(
        req,
        "*",
        line,
        `No company <code>${escapeHtml(company)}</code> that you may command here; /status lists yours${guess ? `; did you mean <code>${escapeHtml(guess)}</code>?` : "."}`,
      );
    }
    try {
      const outcome = await command.run(this.deps, req, company, words.slice(company === undefined ? 0 : 1));
      this.audit(req, company ?? "*", "telegram-command", outcome.ok !== false, `${line}: ${outcome.result}`);
      await this.chat.send(req.chat, outcome.replies);
      if (outcome.control !== undefined) this.chat.followControl(req.chat, outcome.control);
    } catch (err) {
      this.audit(req, company ?? "*", "telegram-command", false, `${line}: ${describeError(err)}`);
      await this.chat.send(req.chat, [{ html: `❌ ${escapeHtml(errorReply(err))}` }]);
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

  /**
   * A refusal costs a stranger nothing to send, so it must cost us little to record: each is
   * counted per user, but audited (text cut to REFUSAL_TEXT_MAX), logged and answered at most once
   * per user per hour, the audit row carrying how many were only counted since the last one.
   */
  private async refuse(req: Requester, what: string, company: string | null): Promise<void> {
    const now = this.deps.clock.now();
    const taken = this.deps.store.bot.takeRefusal(String(req.user), now, REFUSAL_REPLY_EVERY_MS);
    if (!taken.take) return;
    const line = what.length > REFUSAL_TEXT_MAX ? `${what.slice(0, REFUSAL_TEXT_MAX)}…` : what;
    this.deps.store.audit.add({
      at: now,
      actor: req.actor,
      company: company ?? "*",
      action: "telegram-refused",
      ok: false,
      result: `not authorized: ${line}`,
      detail: { chat: req.chat, refusedSinceLast: taken.since },
    });
    this.log.warn(
      { user: req.user, chat: req.chat, what: line, refusedSinceLast: taken.since },
      "Refused a Telegram request (not authorized)",
    );
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

/** True when the company id is valid and its folder is a real folder in sessionsDir. */
function folderExists(config: WardenConfig, company: string): boolean {
  try {
    assertCompanyFolder(config.sessionsDir, company);
    return true;
  } catch {
    return false;
  }
}

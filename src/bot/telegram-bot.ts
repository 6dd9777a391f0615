/**
 * The Telegram bot (issue 12), run by the supervisor: the only process that polls the token. It
 * answers commands and button presses from allowed chats and users (src/bot/authorize.ts: fail
 * closed), acts through the same executors as the CLI, audits every accepted command as
 * `telegram:<user id>`, and answers a refused one at most once per user per hour.
 */
import { Bot, type Context, InputFile, type Update } from "node-telegram-bot-api";
import { chatScope } from "../alerts/chat-routing.js";
import { escapeHtml } from "../alerts/format-alert.js";
import { assertCompanyFolder } from "../config/company-id.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { mayCommand, mayUseBot } from "./authorize.js";
import type { BotCommand, BotDeps, Reply, Requester } from "./bot-context.js";
import { type CallbackIo, handleCallback } from "./callbacks.js";
import { BOT_COMMANDS } from "./commands/index.js";
import { UpdatePoller } from "./poller.js";
import { QrPublisher } from "./qr-publisher.js";
import { splitMessage } from "./reply.js";

/** How often a refused user gets an answer. */
const REFUSAL_REPLY_EVERY_MS = 3_600_000;
/** How long the bot waits for a worker to acknowledge a control request it relays. */
const CONTROL_WAIT_MS = 30_000;

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
  private readonly followUps = new Set<Promise<void>>();
  private closed = false;

  constructor(options: TelegramBotOptions) {
    this.log = options.logger.child({ component: "bot" });
    this.bot = new Bot(options.token, {
      ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}),
      maxRetries: 1,
      timeoutMs: 30_000,
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

  /** Registers the command list and starts polling and QR publishing. */
  async start(): Promise<void> {
    try {
      await this.bot.api.setMyCommands({
        commands: BOT_COMMANDS.map((c) => ({
          command: c.name,
          description: `${c.usage ? `${c.usage} - ` : ""}${c.description}`.slice(0, 256),
        })),
      });
    } catch (err) {
      this.log.warn(`setMyCommands failed (commands still work): ${describeError(err)}`);
    }
    if (this.closed) return;
    this.poller.start();
    this.qr.start();
  }

  /** Stops polling (the pending poll is aborted), QR publishing and follow-ups. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.qr.close();
    await this.poller.close();
    await Promise.allSettled([...this.followUps]);
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
        return this.answerProblem(
          req,
          company,
          line,
          escapeHtml(describeError(err).replace(/: no folder .*/, "")),
        );
      }
      if (!mayCommand(config, req.scope, req.user, company)) return this.refuse(req, line, company);
    }
    try {
      const outcome = await command.run(this.deps, req, company, words.slice(company === undefined ? 0 : 1));
      this.audit(req, company ?? "*", "telegram-command", outcome.ok !== false, `${line}: ${outcome.result}`);
      await this.send(req.chat, outcome.replies);
      if (outcome.control !== undefined) this.followControl(req.chat, outcome.control);
    } catch (err) {
      this.audit(req, company ?? "*", "telegram-command", false, `${line}: ${describeError(err)}`);
      await this.send(req.chat, [{ html: `❌ ${escapeHtml(describeError(err))}` }]);
    }
  }

  private async answerProblem(req: Requester, company: string, line: string, html: string): Promise<void> {
    this.audit(req, company, "telegram-command", false, `${line}: ${html}`);
    await this.send(req.chat, [{ html }]);
  }

  private async unknownCommand(ctx: Context): Promise<void> {
    const textIn = ctx.message?.text;
    if (!textIn?.startsWith("/")) return;
    const req = this.requester(ctx);
    if (!req) return;
    const name = textIn.split(/[\s@]/)[0] ?? textIn;
    if (!mayUseBot(this.deps.config(), req.scope, req.user)) return this.refuse(req, name, null);
    await this.send(req.chat, [{ html: `Unknown command ${escapeHtml(name)}; /help lists them.` }]);
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
      await this.send(req.chat, [{ html: `not authorized (your user id: ${req.user})` }]);
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

  /** Sends answers; a failed send is logged (the update still counts as handled). */
  private async send(chat: string, replies: Reply[]): Promise<void> {
    const chatId = /^-?\d+$/.test(chat) ? Number(chat) : chat;
    for (const reply of replies) {
      try {
        if ("photo" in reply) {
          await this.bot.api.sendPhoto({
            chat_id: chatId,
            photo: new InputFile(new Uint8Array(reply.photo.png), {
              filename: "qr.png",
              contentType: "image/png",
            }),
            caption: reply.photo.caption,
          });
          continue;
        }
        const parts = splitMessage(reply.html);
        for (const [i, part] of parts.entries()) {
          await this.bot.api.sendMessage({
            chat_id: chatId,
            text: part,
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            ...(reply.buttons && i === parts.length - 1
              ? { reply_markup: { inline_keyboard: reply.buttons } }
              : {}),
          });
        }
      } catch (err) {
        this.log.error({ chat }, `Could not answer in chat ${chat}: ${describeError(err)}`);
      }
    }
  }

  /** Sends the worker's acknowledgement of a control request when it comes (bounded wait). */
  private followControl(chat: string, id: number): void {
    const task = (async () => {
      const { store } = this.deps;
      const started = Date.now();
      while (!this.closed && Date.now() - started < CONTROL_WAIT_MS) {
        const request = store.control.get(id);
        if (request?.doneAt) {
          const html = `${request.ok ? "✅" : "❌"} ${request.action} <code>${escapeHtml(request.company)}</code>: ${escapeHtml(request.result ?? "")}`;
          return this.send(chat, [{ html }]);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!this.closed && store.control.cancel(id, "no worker picked it up in time", this.deps.clock.now()))
        await this.send(chat, [
          {
            html: `❌ No worker picked up request #${id} within ${CONTROL_WAIT_MS / 1000}s; it was withdrawn. Is warden-worker running?`,
          },
        ]);
    })().catch((err) => this.log.error({ err }, "control follow-up failed"));
    this.followUps.add(task);
    void task.finally(() => this.followUps.delete(task));
  }

  private readonly io: CallbackIo = {
    send: (chat, replies) => this.send(chat, replies),
    answer: async (queryId, text) => {
      try {
        await this.bot.api.answerCallbackQuery({ callback_query_id: queryId, text });
      } catch (err) {
        this.log.warn(`answerCallbackQuery failed: ${describeError(err)}`);
      }
    },
    refuse: (req, what, company) => this.refuse(req, what, company),
    audit: (req, company, action, ok, result) => this.audit(req, company, action, ok, result),
    clearButtons: async (chat, messageId) => {
      try {
        await this.bot.api.editMessageReplyMarkup({
          chat_id: /^-?\d+$/.test(chat) ? Number(chat) : chat,
          message_id: messageId,
          reply_markup: { inline_keyboard: [] },
        });
      } catch (err) {
        this.log.debug(`Could not remove the buttons: ${describeError(err)}`);
      }
    },
    followControl: (chat, id) => this.followControl(chat, id),
  };
}

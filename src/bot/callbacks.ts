/**
 * Button presses (callback queries). Each button's callback_data is a short id whose meaning is a
 * row in bot_callbacks (src/store/bot.ts). A press goes through the same authorization and audit
 * as a command, is always answered (no spinning button), and a single-use button (Mute 1h,
 * Reconnect, Cleanup…, Confirm, Cancel) acts once: the claim is one UPDATE in SQLite, so a double
 * press, or a press redelivered after a restart, finds it used. Confirmations expire (2 minutes).
 */
import type { CallbackQuery } from "node-telegram-bot-api";
import { escapeHtml } from "../alerts/format-alert.js";
import { describeError } from "../errors.js";
import type { CallbackRow } from "../store/bot.js";
import { mayCommand, toRequester } from "./authorize.js";
import type { BotDeps, CommandOutcome, Reply, Requester } from "./bot-context.js";
import { muteFor, needsNewPairing, newPairingPreview } from "./commands/control.js";
import { ackFromTelegram } from "./commands/on-call.js";
import { cleanupPreview, runConfirmed } from "./commands/recovery.js";
import { statusCommand } from "./commands/status.js";
import { errorReply } from "./error-replies.js";
import { askForQr, qrComing } from "./qr-asks.js";

/** What the button handler needs from the bot around it. */
export interface CallbackIo {
  send(chat: string, replies: Reply[]): Promise<void>;
  answer(queryId: string, text: string): Promise<void>;
  /** Audits and (throttled) answers a refusal. */
  refuse(req: Requester, what: string, company: string | null): Promise<void>;
  audit(req: Requester, company: string, action: string, ok: boolean, result: string): void;
  /** Removes the buttons under a message (a used confirmation). */
  clearButtons(chat: string, messageId: number): Promise<void>;
  followControl(chat: string, requestId: number): void;
}

const SINGLE_USE = new Set(["mute1h", "reconnect", "cleanup", "confirm"]);

/** Handles one button press. */
export async function handleCallback(deps: BotDeps, io: CallbackIo, query: CallbackQuery): Promise<void> {
  const message = query.message && "chat" in query.message ? query.message : undefined;
  const row = query.data ? deps.store.bot.callback(query.data) : undefined;
  if (!message || !row) {
    await io.answer(query.id, "This button is no longer valid.");
    return;
  }
  const chat = String(message.chat.id);
  const config = deps.config();
  const name = query.from.username ? `@${query.from.username}` : query.from.first_name;
  const req = toRequester(config, deps, { id: chat, type: message.chat.type }, query.from.id, name);
  if (!mayCommand(config, req.scope, req.user, row.company)) {
    await io.answer(query.id, `not authorized (your user id: ${req.user})`);
    await io.refuse(req, `button ${row.action}`, row.company);
    return;
  }
  if (!boundTo(row, req, message.message_id)) {
    await io.answer(
      query.id,
      "Only the person who asked, in the chat they asked in, can press this: nothing was done.",
    );
    io.audit(req, row.company, "telegram-button", false, `${row.action}: pressed by another user or chat`);
    return;
  }
  const now = deps.clock.now();
  if (row.action === "cancel") {
    const target = String(row.args.confirm ?? "");
    const cancelled = deps.store.bot.claim(target, req.actor, now);
    if (cancelled) deps.store.bot.setResult(target, `cancelled by ${req.actor}`);
    await io.answer(query.id, cancelled ? "Cancelled." : explainUsed(deps, target));
    if (cancelled) {
      await io.clearButtons(chat, message.message_id);
      await io.send(chat, [
        { html: `Cancelled: nothing was changed for <b>${escapeHtml(row.company)}</b>.` },
      ]);
    }
    io.audit(req, row.company, "telegram-button", true, cancelled ? "cancel" : "cancel: nothing to cancel");
    return;
  }
  if (SINGLE_USE.has(row.action) && !deps.store.bot.claim(row.id, req.actor, now)) {
    await io.answer(query.id, explainUsed(deps, row.id));
    io.audit(req, row.company, "telegram-button", true, `${row.action}: already used`);
    return;
  }
  if (row.action === "confirm") {
    await io.answer(query.id, "Working on it…");
    await io.clearButtons(chat, message.message_id);
    let done: { html: string; control?: number };
    let ok = true;
    try {
      done = await runConfirmed(deps, row, req);
    } catch (err) {
      ok = false;
      done = {
        html: `❌ ${escapeHtml(String(row.args.op))} <b>${escapeHtml(row.company)}</b> failed: ${escapeHtml(errorReply(err))}`,
      };
    }
    deps.store.bot.setResult(row.id, done.html);
    io.audit(
      req,
      row.company,
      "telegram-button",
      ok,
      `confirm ${String(row.args.op)}${ok ? "" : " (failed)"}`,
    );
    await io.send(chat, [{ html: done.html }]);
    if (done.control !== undefined) io.followControl(chat, done.control);
    return;
  }
  let outcome: CommandOutcome;
  try {
    outcome = await pressed(deps, req, row);
  } catch (err) {
    outcome = { replies: [{ html: escapeHtml(errorReply(err)) }], result: describeError(err), ok: false };
  }
  await io.answer(query.id, outcome.ok === false ? "Failed." : "OK");
  io.audit(req, row.company, "telegram-button", outcome.ok !== false, `${row.action}: ${outcome.result}`);
  await io.send(chat, outcome.replies);
  if (outcome.control !== undefined) io.followControl(chat, outcome.control);
}

async function pressed(deps: BotDeps, req: Requester, row: CallbackRow): Promise<CommandOutcome> {
  switch (row.action) {
    case "status":
      return statusCommand.run(deps, req, row.company, []);
    case "qr":
      return needsNewPairing(deps, row.company) && !deps.store.connections.pairing(row.company)
        ? newPairingPreview(deps, req, row.company, undefined)
        : {
            replies: [{ html: qrComing(row.company, askForQr(deps, req.user, row.company), req.private) }],
            result: "QR asked",
          };
    case "mute1h":
      return muteFor(deps, req.actor, row.company, 3_600_000);
    case "ack":
      // The alert itself is edited to show the ack: no extra message in the chat.
      return { ...ackFromTelegram(deps, req, row.company, Number(row.args.incident)), replies: [] };
    case "cleanup":
      return cleanupPreview(deps, req, row.company);
    case "reconnect": {
      const id = deps.store.control.request(row.company, "reconnect", {}, req.actor, deps.clock.now());
      return {
        replies: [{ html: `⏳ reconnect <code>${escapeHtml(row.company)}</code> requested (#${id})…` }],
        result: `reconnect requested (#${id})`,
        control: id,
      };
    }
    default:
      return { replies: [{ html: "Unknown button." }], result: `unknown button ${row.action}`, ok: false };
  }
}

/**
 * True when this user may press the button here: a Confirm or Cancel is bound to the user who
 * asked, the chat it was asked in and the message it came under; an alert's buttons are bound to
 * nobody (whoever may command the company may press them).
 */
function boundTo(row: CallbackRow, req: Requester, messageId: number): boolean {
  if (row.user === null) return true;
  if (row.user !== req.user || row.chat !== req.chat) return false;
  return row.messageId === null || row.messageId === messageId;
}

function explainUsed(deps: BotDeps, id: string): string {
  const row = deps.store.bot.callback(id);
  if (!row) return "This button is no longer valid.";
  if (row.usedAt !== null)
    return row.result?.startsWith("cancelled") ? "Already cancelled." : "Already done.";
  return "Expired: ask again.";
}

/**
 * Asks for a pairing QR. A QR (or pairing code) is shown only in the private chat of a user allowed
 * for the company who asked for it, until `pairing.qrTtl` after the ask (src/bot/qr-publisher.ts
 * sends, rotates and deletes it); a shared chat is told to ask privately.
 */
import { escapeHtml } from "../alerts/format-alert.js";
import { formatDuration } from "../config/duration.js";
import { companySettings } from "../config/load.js";
import type { BotDeps } from "./bot-context.js";

/** What a group is told instead of a QR: pairing material never goes to a shared chat. */
export const ASK_PRIVATELY =
  "🔒 A pairing QR lets whoever scans it take over the WhatsApp account: ask me in a private chat.";

/**
 * Records that the requester asked for the company's QR in their private chat (deleted after
 * `pairing.qrTtl`) and has the publisher send it now. Only the private chat of an allowed user:
 * the caller authorized the user for the company.
 */
export function askForQr(deps: BotDeps, user: number, company: string): number {
  const now = deps.clock.now();
  const ttl = companySettings(deps.config(), company).pairing.qrTtl;
  deps.store.bot.askQr({ company, chat: String(user), user, askedAt: now, until: now + ttl });
  deps.publishQr();
  return ttl;
}

/** Where and for how long an asked-for QR (or pairing code) is shown. */
export function qrComing(company: string, ttl: number, inPrivate: boolean): string {
  const where = inPrivate
    ? "here"
    : "to your private chat with me (open one and press Start if you never did)";
  return `🔒 The pairing QR (or code) of <b>${escapeHtml(company)}</b> goes ${where}; it is deleted once paired or in ${formatDuration(ttl)}.`;
}

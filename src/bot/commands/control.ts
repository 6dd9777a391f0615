/**
 * /reconnect, /stop, /start, /pair: control requests through SQLite, as `warden reconnect|stop|
 * start|pair` sends them; the worker's acknowledgement is sent to the chat when it comes.
 * /qr: the current pairing QR as a PNG (or the pairing code as text). /mute, /unmute.
 */
import QRCode from "qrcode";
import { escapeHtml } from "../../alerts/format-alert.js";
import { formatDuration, parseDuration } from "../../config/duration.js";
import type { ControlAction } from "../../store/control.js";
import { type BotCommand, type BotDeps, type CommandOutcome, type Requester, text } from "../bot-context.js";
import { ASK_PRIVATELY, askForQr, qrComing } from "../qr-asks.js";
import { confirmation } from "./recovery.js";

/** About how long a WhatsApp pairing QR stays valid before the next one replaces it. */
export const QR_VALIDITY_MS = 20_000;

function controlCommand(action: ControlAction, description: string): BotCommand {
  return {
    name: action,
    usage: action === "pair" ? "<company> [phone]" : "<company>",
    description,
    company: "required",
    maxArgs: action === "pair" ? 2 : 1,
    run: async (deps, req, company, args) => {
      const c = company as string;
      const phone = args[0];
      if (phone !== undefined && !/^\d{8,15}$/.test(phone))
        return text(
          `Bad phone number ${escapeHtml(JSON.stringify(phone))}: digits only, with the country code.`,
          "bad phone",
          false,
        );
      if (action === "pair" && needsNewPairing(deps, c)) return newPairingPreview(deps, req, c, phone);
      const id = deps.store.control.request(c, action, phone ? { phone } : {}, req.actor, deps.clock.now());
      const qr = action === "pair" ? `\n${qrComing(c, askForQr(deps, req.user, c), req.private)}` : "";
      return {
        replies: [
          {
            html: `⏳ ${action} <code>${escapeHtml(c)}</code> requested (#${id}); waiting for its worker…${qr}`,
          },
        ],
        result: `${action} requested (#${id})`,
        control: id,
      };
    },
  };
}

/** True when WhatsApp dropped the device: pairing again means a new identity (`pair --new`). */
export function needsNewPairing(deps: BotDeps, company: string): boolean {
  const state = deps.store.connections.get(company)?.state;
  return state === "qr_required" || state === "forbidden";
}

/** The Confirm / Cancel preview of a new pairing (the paired folder is backed up and moved aside). */
export function newPairingPreview(
  deps: BotDeps,
  req: Requester,
  company: string,
  phone: string | undefined,
): CommandOutcome {
  return confirmation(
    deps,
    req,
    company,
    "pair-new",
    phone ? { phone } : {},
    [
      `<b>New pairing of ${escapeHtml(company)}</b> (WhatsApp logged the device out)`,
      "Confirm backs up the folder (verified), moves it to WARDEN_HOME/replaced and pairs again; the " +
        (phone ? `pairing code for ${escapeHtml(phone)}` : "QR") +
        " goes to the private chat with me of whoever confirms.",
    ].join("\n"),
  );
}

/** /reconnect <company>. */
export const reconnectCommand = controlCommand("reconnect", "close the socket (no logout) and reconnect");
/** /stop <company>. */
export const stopCommand = controlCommand("stop", "disconnect (no logout); stays stopped until /start");
/** /start <company>. */
export const startCommand = controlCommand("start", "connect a stopped company");
/** /pair <company> [phone]. */
export const pairCommand = controlCommand(
  "pair",
  "pair a company without creds: QR, or a code for the phone",
);

/** The PNG of a QR string. */
export function renderQr(qr: string): Promise<Buffer> {
  return QRCode.toBuffer(qr, { type: "png", margin: 2, width: 360, errorCorrectionLevel: "L" });
}

/** The caption under a QR photo. */
export function qrCaption(company: string, ttlMs: number): string {
  return `${company}: scan in WhatsApp → Linked devices. Valid about ${formatDuration(QR_VALIDITY_MS)}; this photo is replaced as WhatsApp rotates the QR, and deleted once paired or ${formatDuration(ttlMs)} after you asked.`;
}

/** The answer to /qr: the QR follows, or there is none yet (it follows if one starts in time). */
function qrAskAnswer(deps: BotDeps, company: string, ttl: number): string {
  const pairing = deps.store.connections.pairing(company);
  if (pairing?.qr || pairing?.pairingCode) return qrComing(company, ttl, true);
  const state = deps.store.connections.get(company)?.state ?? "unknown";
  return `<b>${escapeHtml(company)}</b> has no pairing QR right now (connection: ${escapeHtml(state)}). Start a pairing with /pair ${escapeHtml(company)}; a QR that starts within ${formatDuration(ttl)} comes here.`;
}

/** /qr <company>: in a private chat only. */
export const qrCommand: BotCommand = {
  name: "qr",
  usage: "<company>",
  description: "the pairing QR (or pairing code), in a private chat",
  company: "required",
  maxArgs: 1,
  run: async (deps, req, company) => {
    const c = company as string;
    if (!req.private) return text(ASK_PRIVATELY, "refused: QR asked in a shared chat", false);
    const ttl = askForQr(deps, req.user, c);
    return text(qrAskAnswer(deps, c, ttl), "QR asked");
  },
};

/** /mute <company> <duration>. */
export const muteCommand: BotCommand = {
  name: "mute",
  usage: "<company> <duration>",
  description: "no alerts for the company for a while (e.g. 2h)",
  company: "required",
  maxArgs: 2,
  run: async (deps, req, company, args) => {
    const c = company as string;
    const ms = args[0] === undefined ? undefined : parseDuration(args[0]);
    if (ms === undefined || ms <= 0)
      return text(
        `Usage: /mute ${escapeHtml(c)} &lt;duration&gt;, a duration like 30m, 2h or 1d.`,
        "bad duration",
        false,
      );
    return muteFor(deps, req.actor, c, ms);
  },
};

/** Mutes a company for `ms` (the command and the Mute 1h button). */
export function muteFor(deps: BotDeps, actor: string, company: string, ms: number): CommandOutcome {
  if (!deps.mute) return notAvailable();
  const until = deps.clock.now() + ms;
  deps.mute.mute(company, until, actor);
  return text(
    `🔕 <b>${escapeHtml(company)}</b> muted for ${formatDuration(ms)} (until ${new Date(until).toISOString()}).`,
    `muted until ${new Date(until).toISOString()}`,
  );
}

/** /unmute <company>. */
export const unmuteCommand: BotCommand = {
  name: "unmute",
  usage: "<company>",
  description: "alerts again for the company",
  company: "required",
  maxArgs: 1,
  run: async (deps, req, company) => {
    if (!deps.mute) return notAvailable();
    deps.mute.unmute(company as string, req.actor);
    return text(`🔔 <b>${escapeHtml(company as string)}</b> unmuted.`, "unmuted");
  },
};

function notAvailable(): CommandOutcome {
  return text("Muting from Telegram is not available in this build.", "mute not available", false);
}

/**
 * Inline buttons under a company alert: Status and Mute 1h always, then what fits the
 * alert: Cleanup… at warning and above, Reconnect for a company that is down, QR when it needs
 * pairing. Telegram's callback_data holds at most 64 bytes, so each button carries a short id and
 * its meaning (action, company, chat) is a row in bot_callbacks, written in the same transaction as
 * the outbox row. The bot reads the row back when the button is pressed.
 */
import type { BotQueries } from "../store/bot.js";
import type { NewOutboxMessage } from "../store/outbox.js";

/** A button action the bot understands (see src/bot/callbacks.ts). */
export type AlertButtonAction = "status" | "mute1h" | "cleanup" | "reconnect" | "qr" | "ack";

const LABELS: Record<AlertButtonAction, string> = {
  status: "Status",
  mute1h: "Mute 1h",
  cleanup: "Cleanup…",
  reconnect: "Reconnect",
  qr: "QR",
  ack: "Ack",
};

/** The buttons an alert of this kind and level gets (pure). */
export function alertButtonActions(kind: string, level: string | null): AlertButtonAction[] {
  const actions: AlertButtonAction[] = ["status", "mute1h"];
  const countAlert = kind === "level" || kind === "reminder";
  if (countAlert && (level === "warning" || level === "critical" || level === "fatal"))
    actions.push("cleanup");
  // Only a logout (401) needs a new pairing: a refused (403) number is not helped by a QR.
  const needsQr = kind.endsWith("qr_required");
  if (needsQr) actions.push("qr");
  else if (/^connection-|^ladder-(down|human_needed)$/.test(kind)) actions.push("reconnect");
  if (kind === "resolved") return ["status"];
  return actions;
}

/** An inline keyboard as Telegram wants it. */
export type InlineKeyboard = { text: string; callback_data: string }[][];

/**
 * Adds the buttons to a Telegram message about a company (payload.buttons, read by the Telegram
 * notifier); other messages are returned as they are.
 */
export function withAlertButtons(bot: BotQueries, message: NewOutboxMessage, now: number): NewOutboxMessage {
  if (message.channel !== "telegram" || message.company === null) return message;
  const company = message.company;
  const incident = message.incidentId ?? null;
  // An alert of an open incident (src/alerts/incidents.ts) is acked from its own message.
  const actions: AlertButtonAction[] = [
    ...alertButtonActions(message.kind, message.level),
    ...(incident !== null && message.kind !== "resolved" && !message.kind.endsWith("-resolved")
      ? (["ack"] as const)
      : []),
  ];
  const row = actions.map((action) => ({
    text: LABELS[action],
    callback_data: bot.addCallback(
      { action, company, chat: message.target, ...(action === "ack" ? { args: { incident } } : {}) },
      now,
    ),
  }));
  const keyboard: InlineKeyboard = [row.slice(0, 3), row.slice(3)].filter((r) => r.length > 0);
  return { ...message, payload: { ...message.payload, buttons: keyboard } };
}

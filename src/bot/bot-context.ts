/** What every bot command is given, and what it answers. */

import type { ActionContext } from "../actions/action-context.js";
import type { InlineKeyboard } from "../alerts/alert-buttons.js";
import type { ChatScope } from "../alerts/chat-routing.js";
import type { Clock } from "../clock.js";
import type { WardenConfig } from "../config/load.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { MuteControl } from "./mute-control.js";

/** The parts the bot acts through (the same executors as the CLI). */
export interface BotDeps {
  /** The config in force (it changes on reload). */
  config: () => WardenConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** WARDEN_HOME: backups, restore journals. Without it backup/cleanup/restore are refused. */
  home: string | undefined;
  /** What backup, cleanup, restore and a new pairing act through (the supervisor's one context). */
  actions: ActionContext;
  /** Mutes (the store `warden mute` writes too); undefined: /mute answers that it is not available. */
  mute?: MuteControl;
  /** Health of the poller itself, for /health. */
  pollerState: () => string;
  /** Starts delivery of outbox rows a command queued (an ack's message edits); absent: the next tick. */
  kick?: () => void;
  /** Brings the QR messages in step with the asks now (the publisher's timer does it too). */
  publishQr: () => void;
}

/** Who asks, from where. */
export interface Requester {
  chat: string;
  user: number;
  /** "telegram:<user id>" (audit actor). */
  actor: string;
  scope: ChatScope;
  /** How the user is shown ("@name", else the first name); absent: the actor. */
  name?: string;
  /** True in the user's private chat with the bot (the only place a QR or pairing code goes). */
  private: boolean;
}

/** A PNG photo answer. */
export interface PhotoReply {
  png: Buffer;
  caption: string;
}

/** One answer: HTML text (escaped by the command) with optional buttons, or a photo. */
export type Reply = { html: string; buttons?: InlineKeyboard } | { photo: PhotoReply };

/** A command's outcome: the answers and the audit line. */
export interface CommandOutcome {
  replies: Reply[];
  /** Result written to the audit row. */
  result: string;
  ok?: boolean;
  /** A control request whose acknowledgement is sent to the chat when the worker gives it. */
  control?: number;
}

/** A bot command. */
export interface BotCommand {
  name: string;
  /** Arguments as /help shows them, e.g. "<company> [backup]". */
  usage: string;
  description: string;
  /** Whether the first argument is a company id. */
  company: "required" | "optional" | "none";
  /** Most arguments accepted (the company included). */
  maxArgs: number;
  run(deps: BotDeps, req: Requester, company: string | undefined, args: string[]): Promise<CommandOutcome>;
}

/** A one-line text answer. */
export function text(html: string, result = html, ok = true): CommandOutcome {
  return { replies: [{ html }], result, ok };
}

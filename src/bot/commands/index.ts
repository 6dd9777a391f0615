/** Every bot command, in /help order (registered with setMyCommands). */
import { type BotCommand, text } from "../bot-context.js";
import {
  muteCommand,
  pairCommand,
  qrCommand,
  reconnectCommand,
  startCommand,
  stopCommand,
  unmuteCommand,
} from "./control.js";
import { ackCommand, digestCommand, silenceCommand, silencesCommand, unsilenceCommand } from "./on-call.js";
import { backupCommand, backupsCommand, cleanupCommand, restoreCommand } from "./recovery.js";
import { auditCommand, healthCommand, statusCommand } from "./status.js";

const helpCommand: BotCommand = {
  name: "help",
  usage: "",
  description: "this list",
  company: "none",
  maxArgs: 0,
  run: async () =>
    text(
      [
        "<b>wa-warden commands</b>",
        ...BOT_COMMANDS.map(
          (c) =>
            `/${c.name}${c.usage ? ` ${c.usage.replace(/</g, "&lt;").replace(/>/g, "&gt;")}` : ""}: ${c.description}`,
        ),
      ].join("\n"),
      "help",
    ),
};

/** The commands the bot answers. */
export const BOT_COMMANDS: readonly BotCommand[] = [
  statusCommand,
  healthCommand,
  cleanupCommand,
  backupCommand,
  backupsCommand,
  restoreCommand,
  reconnectCommand,
  stopCommand,
  startCommand,
  qrCommand,
  pairCommand,
  muteCommand,
  unmuteCommand,
  auditCommand,
  ackCommand,
  silenceCommand,
  silencesCommand,
  unsilenceCommand,
  digestCommand,
  helpCommand,
];

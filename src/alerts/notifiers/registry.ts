/** Builds the notifiers in force: "log" always, "telegram" when a bot token is set. */
import type { Logger } from "../../logger.js";
import { createLogNotifier } from "./log.js";
import type { Notifier } from "./notifier.js";
import { createTelegramNotifier } from "./telegram.js";

/** Notifier settings from the environment. */
export interface NotifierEnv {
  telegramToken: string | undefined;
  telegramApiRoot: string | undefined;
}

/** The notifier map keyed by channel name. */
export function createNotifiers(env: NotifierEnv, logger: Logger): Map<string, Notifier> {
  const notifiers = new Map<string, Notifier>([["log", createLogNotifier(logger)]]);
  if (env.telegramToken) {
    notifiers.set(
      "telegram",
      createTelegramNotifier({ token: env.telegramToken, apiRoot: env.telegramApiRoot }),
    );
  }
  return notifiers;
}

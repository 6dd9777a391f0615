/**
 * Builds the notifiers in force, by name: "log" always, "telegram" when a bot token is set. A name
 * the registry does not know is rejected at start-up (WARDEN_ERR_NOTIFIER_UNKNOWN) rather than left
 * for the dispatcher to find with alerts already queued for it.
 */
import { ErrorCodes, WardenError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { createLogNotifier } from "./log.js";
import type { Notifier } from "./notifier.js";
import { createTelegramNotifier } from "./telegram.js";

/** Every channel name the registry can build. */
export const NOTIFIER_NAMES = ["log", "telegram"] as const;

/** Notifier settings from the environment. */
export interface NotifierEnv {
  telegramToken: string | undefined;
  telegramApiRoot: string | undefined;
}

/** The channels in force for an environment: "log", plus "telegram" when a bot token is set. */
export function defaultNotifierNames(env: NotifierEnv): string[] {
  return env.telegramToken ? ["log", "telegram"] : ["log"];
}

/**
 * The notifier map keyed by channel name, one per name in `names` (default: `defaultNotifierNames`).
 * Throws WARDEN_ERR_NOTIFIER_UNKNOWN for a name not in NOTIFIER_NAMES and
 * WARDEN_ERR_NOTIFIER_UNCONFIGURED for "telegram" without a bot token.
 */
export function createNotifiers(
  env: NotifierEnv,
  logger: Logger,
  names: readonly string[] = defaultNotifierNames(env),
): Map<string, Notifier> {
  const notifiers = new Map<string, Notifier>();
  for (const name of names) notifiers.set(name, createNotifier(name, env, logger));
  return notifiers;
}

function createNotifier(name: string, env: NotifierEnv, logger: Logger): Notifier {
  switch (name) {
    case "log":
      return createLogNotifier(logger);
    case "telegram":
      if (!env.telegramToken) {
        throw new WardenError(
          ErrorCodes.NOTIFIER_UNCONFIGURED,
          'Notifier "telegram" needs TELEGRAM_BOT_TOKEN to be set',
          { notifier: name },
        );
      }
      return createTelegramNotifier({ token: env.telegramToken, apiRoot: env.telegramApiRoot });
    default:
      throw new WardenError(
        ErrorCodes.NOTIFIER_UNKNOWN,
        `Unknown notifier ${JSON.stringify(name)}: expected one of ${NOTIFIER_NAMES.join(", ")}`,
        { notifier: name },
      );
  }
}

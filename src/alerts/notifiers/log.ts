/** The log notifier: without a Telegram token, alerts become structured log lines. */
import type { Logger } from "../../logger.js";
import type { Notifier, OutgoingMessage } from "./notifier.js";

/** Creates the log notifier. */
export function createLogNotifier(logger: Logger): Notifier {
  const log = logger.child({ component: "alerts", channel: "log" });
  return {
    name: "log",
    // A log line costs nothing and has no rate limit: no per-chat gap, no overall cap.
    paced: false,
    async send(message: OutgoingMessage): Promise<void> {
      const level = message.payload.level;
      const fn = level === "critical" || level === "fatal" ? "error" : level === "warning" ? "warn" : "info";
      log[fn]({ alert: message.payload }, message.text);
    },
  };
}

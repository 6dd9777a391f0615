/**
 * Signal handling shared by the entry files: SIGINT (pm2's stop), SIGTERM and pm2's "shutdown"
 * message run `stop` once, then exit 0 (1 if stopping failed). Only entry files call this.
 */
import { describeError, ExitCodes } from "./errors.js";
import type { Logger } from "./logger.js";

/**
 * Installs the handlers; `stop` closes everything the process opened. Returns a function that stops
 * the same way from inside (a fatal condition such as a deleted database) and exits with `code`.
 */
export function handleShutdown(
  logger: Logger,
  what: string,
  stop: () => Promise<void>,
): (reason: string, code: number) => void {
  let stopping = false;
  const shutdown = async (signal: string, code: number = ExitCodes.OK) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `Stopping: ${what}`);
    try {
      await stop();
      logger.info("Stopped");
      process.exit(code);
    } catch (err) {
      logger.error({ err }, `Error while stopping: ${describeError(err)}`);
      process.exit(ExitCodes.FAILURE);
    }
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // pm2 on Windows and some containers send a message instead of a signal.
  process.on("message", (msg) => {
    if (msg === "shutdown") void shutdown("shutdown message");
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, `Unhandled rejection: ${describeError(reason)}`);
  });
  return (reason, code) => void shutdown(reason, code);
}

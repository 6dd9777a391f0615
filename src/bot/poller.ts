/**
 * The one long-poller of the bot token. Updates are acknowledged only after they are handled: the
 * last handled update_id is a cursor in SQLite, written after the handler finishes, and the next
 * getUpdates asks from cursor + 1 (which is what tells Telegram the earlier ones are done). A
 * restart therefore neither loses an update (not yet handled: Telegram still holds it) nor repeats
 * one (handled: the cursor skips it even if Telegram sends it again).
 *
 * HTTP 409 Conflict means another process polls the same token (a second supervisor, a developer's
 * laptop): logged clearly, reported once per episode, and retried with backoff; alerts go out
 * through the outbox meanwhile, which does not poll.
 */
import { type Api, TelegramApiError, type Update } from "node-telegram-bot-api";
import { describeTelegramError } from "../alerts/notifiers/telegram-failure.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";

/** Where the last handled update id is kept. */
export interface UpdateCursor {
  get(): number;
  set(updateId: number): void;
}

/** Poller settings. */
export interface PollerOptions {
  api: Api;
  cursor: UpdateCursor;
  handle: (update: Update) => Promise<void>;
  logger: Logger;
  /** Long-poll seconds asked of Telegram (default 30). */
  timeoutSec?: number;
  /** Called once when a 409 episode begins. */
  onConflict: (description: string) => void;
  /** First retry delay after a failed poll, doubled up to maxBackoffMs (defaults 1 s, 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** The update loop. */
export class UpdatePoller {
  private readonly options: PollerOptions;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private conflict = false;
  private failures = 0;
  private lastError: string | null = null;

  constructor(options: PollerOptions) {
    this.options = options;
  }

  /** "polling", "conflict (...)" or "failing (...)", for /health. */
  get state(): string {
    if (this.conflict) return `409 conflict: another process polls this bot token (${this.lastError})`;
    if (this.failures > 0) return `polling fails (${this.failures} in a row): ${this.lastError}`;
    return "polling";
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.loop ??= this.run().catch((err) =>
      this.options.logger.error({ err }, `Telegram polling stopped: ${describeError(err)}`),
    );
  }

  /** Stops polling: the pending getUpdates is aborted; a handler in progress may finish (bounded). */
  async close(timeoutMs = 10_000): Promise<void> {
    this.controller.abort();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const { api, cursor, logger } = this.options;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      let updates: Update[];
      try {
        const last = cursor.get();
        updates = await api.getUpdates(
          {
            ...(last > 0 ? { offset: last + 1 } : {}),
            timeout: this.options.timeoutSec ?? 30,
            allowed_updates: ["message", "callback_query"],
          },
          signal,
        );
        if (this.conflict) logger.info("Telegram polling works again (the other poller stopped)");
        this.conflict = false;
        this.failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        this.failures++;
        this.lastError = describeTelegramError(err, "getUpdates");
        if (err instanceof TelegramApiError && err.errorCode === 409) {
          if (!this.conflict) {
            this.conflict = true;
            logger.error(
              { code: 409, description: err.description },
              "Telegram answered 409 Conflict: another process is polling this bot token (only one may). Commands are not received until it stops; alerts still go out. Retrying with backoff.",
            );
            try {
              this.options.onConflict(err.description);
            } catch (notifyErr) {
              logger.error({ err: notifyErr }, "Could not queue the 409 alert");
            }
          }
        } else {
          logger.warn({ failures: this.failures }, this.lastError);
        }
        await this.sleep(this.backoff());
        continue;
      }
      for (const update of updates) {
        if (update.update_id <= cursor.get()) continue; // handled before a restart
        try {
          await this.options.handle(update);
        } catch (err) {
          logger.error({ err, updateId: update.update_id }, `Bot update failed: ${describeError(err)}`);
        }
        cursor.set(update.update_id);
      }
    }
  }

  private backoff(): number {
    const base = this.options.backoffMs ?? 1_000;
    return Math.min(this.options.maxBackoffMs ?? 60_000, base * 2 ** Math.min(this.failures - 1, 16));
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

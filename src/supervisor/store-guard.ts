/**
 * Keeps the supervisor alive when warden.db cannot be written (invariant 15; SQLITE_FULL once killed it with
 * an uncaught error and a raw stack outside the structured log). A failed write is logged with its
 * step; a full disk is also alerted straight through the notifiers (the outbox is in the database
 * that cannot grow) and retried with backoff: the retry rescans the folders, so counts and alerts
 * that were rolled back are computed again from disk and nothing is lost once space returns.
 */
import { alertDirectly } from "../alerts/alert-directly.js";
import type { Notifier } from "../alerts/notifiers/notifier.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";

/** What the guard needs. */
export interface StoreGuardOptions {
  logger: Logger;
  notifiers: ReadonlyMap<string, Notifier>;
  /** Telegram chats of the direct alert. */
  chatIds(): readonly string[];
  /** The database file, for messages. */
  file: string;
  /** Does the work again (a full scan); called after each backoff delay while the disk is full. */
  retry(): Promise<void>;
  /** Called once when a write succeeds again after a full disk (queue a notice through the outbox). */
  onRecovered(downForMs: number): void;
  now(): number;
  /** First retry delay (default 5 s), doubled up to 60 s. */
  retryBaseMs?: number;
}

/** True for SQLite's "database or disk is full". */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "SQLITE_FULL" || (typeof e?.message === "string" && e.message.includes("disk is full"));
}

/** Runs store writes so that a failure is survived; see the module comment. */
export class StoreGuard {
  private readonly options: StoreGuardOptions;
  private full: { since: number; delay: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: StoreGuardOptions) {
    this.options = options;
  }

  /** True while the last write failed for lack of space. */
  get diskFull(): boolean {
    return this.full !== undefined;
  }

  /** Runs `fn` (synchronous store work); a throw is logged (and handled) instead of escaping. */
  run(step: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed(step, err);
      return;
    }
    if (this.full) this.recovered();
  }

  /** Stops retrying. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private failed(step: string, err: unknown): void {
    const { logger, file } = this.options;
    if (!isDiskFull(err)) {
      logger.error(
        { err, kind: "store-write-failed", step },
        `Writing ${file} failed while ${step}: ${describeError(err)}`,
      );
      return;
    }
    const first = this.full === undefined;
    this.full ??= { since: this.options.now(), delay: this.options.retryBaseMs ?? 5_000 };
    logger.error(
      { err, kind: "disk-full", step, retryInMs: this.full.delay },
      `Disk full: ${file} cannot be written while ${step} (SQLITE_FULL); retrying in ${Math.round(this.full.delay / 1000)} s`,
    );
    if (first) {
      void alertDirectly(
        this.options.notifiers,
        this.options.chatIds(),
        "wa-warden: disk full",
        `${file} cannot be written (SQLITE_FULL) while ${step}. Free some space: counts and alerts are retried and nothing is lost once there is room.`,
      ).then((failedChannels) => {
        if (failedChannels.length > 0)
          logger.warn({ failed: failedChannels }, "The disk-full alert did not reach every channel");
      });
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.timer || !this.full) return;
    const delay = this.full.delay;
    this.full.delay = Math.min(delay * 2, 60_000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.options
        .retry()
        .catch((err) => this.failed("retrying after a full disk", err))
        // Still full (the retry's own writes failed and were logged): try again later.
        .finally(() => this.scheduleRetry());
    }, delay);
  }

  private recovered(): void {
    const since = this.full?.since ?? this.options.now();
    this.full = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const downForMs = this.options.now() - since;
    this.options.logger.info({ kind: "disk-ok", downForMs }, `${this.options.file} can be written again`);
    this.run("recording the disk recovery", () => this.options.onRecovered(downForMs));
  }
}

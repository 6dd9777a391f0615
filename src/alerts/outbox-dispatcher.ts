/**
 * Delivers the outbox: when to look, and which targets. Each target with a due row gets one delivery
 * loop at a time (`deliver-target.ts`: strictly in id order, paced per chat, retried; storms grouped
 * by `deliver-storm.ts`); an overall cap (<= 25/s) with p-queue; a wake-up timer for the next retry.
 * Nothing throws out of here.
 */
import { setMaxListeners } from "node:events";
import PQueue from "p-queue";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { OutboxQueries } from "../store/outbox.js";
import { type DeliveryContext, deliverTarget } from "./deliver-target.js";
import type { GroupSettings } from "./group-alerts.js";
import type { Notifier } from "./notifiers/notifier.js";

/** Dispatcher settings. */
export interface DispatcherOptions {
  outbox: OutboxQueries;
  notifiers: ReadonlyMap<string, Notifier>;
  clock: Clock;
  logger: Logger;
  /** Minimum gap between two messages to one chat. Default 1000 ms. */
  perTargetIntervalMs?: number;
  /** Messages per second over all chats. Default 25. */
  globalPerSecond?: number;
  /** First retry delay after a network failure, doubled per attempt. Default 2 s. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 5 min. */
  retryMaxMs?: number;
  /** Storm grouping for Telegram chats (read at each delivery: config reloads apply). */
  grouping?: () => GroupSettings;
}

/**
 * Delivers pending outbox rows through the notifiers: per target in queue order, paced per chat,
 * retried with backoff; marks each row sent or failed and never throws out of `kick()`.
 */
export class OutboxDispatcher {
  private readonly options: Required<Omit<DispatcherOptions, "grouping">> &
    Pick<DispatcherOptions, "grouping">;
  private readonly global: PQueue;
  /** When the last message to each target went out (per-chat pacing). */
  private readonly lastSentAt = new Map<string, number>();
  private readonly active = new Map<string, Promise<void>>();
  private readonly warnedChannels = new Set<string>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private draining: Promise<void> | undefined;
  private again = false;
  private closed = false;
  // Aborted by close(): an in-flight send never outlives the shutdown deadline (once a slow or
  // dead Bot API held shutdown for the HTTP client's 30 s timeout, past pm2's kill_timeout).
  private readonly abort = new AbortController();
  private readonly delivery: DeliveryContext;

  constructor(options: DispatcherOptions) {
    this.options = {
      perTargetIntervalMs: 1_000,
      globalPerSecond: 25,
      retryBaseMs: 2_000,
      retryMaxMs: 300_000,
      ...options,
    };
    // Each target waiting out its per-chat gap holds one abort listener on this signal until the
    // wait ends (deliver-target.ts removes it); with more than 10 chats due at once that is
    // legitimate, so the default limit of 10 would only print a false MaxListenersExceededWarning.
    setMaxListeners(0, this.abort.signal);
    this.global = new PQueue({ interval: 1_000, intervalCap: this.options.globalPerSecond });
    const { outbox, notifiers, clock, logger, perTargetIntervalMs, retryBaseMs, retryMaxMs } = this.options;
    this.delivery = {
      outbox,
      notifiers,
      clock,
      logger,
      perTargetIntervalMs,
      retryBaseMs,
      retryMaxMs,
      grouping: this.options.grouping,
      global: this.global,
      lastSentAt: this.lastSentAt,
      warnedChannels: this.warnedChannels,
      signal: this.abort.signal,
      isClosed: () => this.closed,
      scheduleWake: (at) => this.scheduleWake(at),
    };
  }

  /** Looks for deliverable messages now (call after adding to the outbox). */
  kick(): void {
    if (this.closed) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      // A failed read/write of the outbox (disk full, database gone) never escapes: logged, and the
      // next kick or wake-up tries again; the rows stay pending.
      .catch((err: unknown) => this.logStoreFailure(err))
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits until nothing deliverable is in flight, or `timeoutMs` passes; true when idle. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.draining;
      const inflight = [...this.active.values()];
      if (inflight.length === 0 && !this.draining) return true;
      await Promise.race([
        Promise.all(inflight),
        new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now()))),
      ]);
    }
    return this.active.size === 0;
  }

  /**
   * Stops scheduling and cancels in-flight sends (their rows stay pending and go out after the
   * restart: at least once, never lost). Call flush() first to give them time. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.abort.abort(new Error("alert dispatcher closing"));
    // No global.clear(): p-queue never settles a cleared task, and the delivery loops awaiting one
    // would hang shutdown. Queued tasks see `closed` and return without sending.
    await Promise.allSettled([...this.active.values()]);
  }

  private async drain(): Promise<void> {
    let earliest = Number.POSITIVE_INFINITY;
    const now = this.options.clock.now();
    for (const { channel, target } of this.options.outbox.pendingTargets()) {
      const key = `${channel}\u0000${target}`;
      if (this.active.has(key)) continue;
      if (!this.options.notifiers.has(channel)) {
        // Its rows wait for a start with that notifier; deliverTarget only warns (once). Not an
        // active delivery: its end would kick the next pass at once, a loop that never yields.
        void deliverTarget(this.delivery, channel, target);
        continue;
      }
      const head = this.options.outbox.oldestPending(channel, target);
      if (!head) continue;
      if (head.nextAttemptAt > now) {
        earliest = Math.min(earliest, head.nextAttemptAt);
        continue;
      }
      const run = deliverTarget(this.delivery, channel, target)
        .catch((err: unknown) => this.logStoreFailure(err))
        .finally(() => {
          this.active.delete(key);
          this.kick();
        });
      this.active.set(key, run);
    }
    this.scheduleWake(earliest);
  }

  private logStoreFailure(err: unknown): void {
    this.options.logger.error(
      { err, kind: "outbox-store-failed" },
      `Outbox bookkeeping failed (rows stay pending and are retried): ${(err as Error)?.message ?? String(err)}`,
    );
    // Try again later rather than spin: the next wake-up, or 5 s.
    this.scheduleWake(this.options.clock.now() + 5_000);
  }

  private scheduleWake(at: number): void {
    if (this.closed || !Number.isFinite(at)) return;
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAt = Number.POSITIVE_INFINITY;
        this.kick();
      },
      Math.max(0, at - this.options.clock.now()),
    );
  }
}

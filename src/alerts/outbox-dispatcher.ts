/**
 * Delivers the outbox. Per target strictly in id order (a message waiting for a retry holds back the
 * ones behind it); per-chat pacing (<= 1 message/s) and an overall cap (<= 25/s) with p-queue.
 * A failed send is recorded and retried later; it never throws out of here.
 */
import PQueue from "p-queue";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { OutboxQueries } from "../store/outbox.js";
import { type AlertGroup, type GroupSettings, groupStorm, stormRows } from "./group-alerts.js";
import { DeliveryError, type Notifier } from "./notifiers/notifier.js";

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

/** Most rows looked at for one grouped delivery. */
const STORM_SCAN_LIMIT = 5_000;

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
  // Aborted by close(): an in-flight send never outlives the shutdown deadline (issue 9: a slow or
  // dead Bot API held shutdown for the HTTP client's 30 s timeout, past pm2's kill_timeout).
  private readonly abort = new AbortController();

  constructor(options: DispatcherOptions) {
    this.options = {
      perTargetIntervalMs: 1_000,
      globalPerSecond: 25,
      retryBaseMs: 2_000,
      retryMaxMs: 300_000,
      ...options,
    };
    this.global = new PQueue({ interval: 1_000, intervalCap: this.options.globalPerSecond });
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
      const head = this.options.outbox.oldestPending(channel, target);
      if (!head) continue;
      if (head.nextAttemptAt > now) {
        earliest = Math.min(earliest, head.nextAttemptAt);
        continue;
      }
      const run = this.deliverTarget(channel, target)
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

  /** Waits out the per-target gap (deliverTarget runs once per target, so sends never overlap). */
  private async paceTarget(key: string): Promise<void> {
    const last = this.lastSentAt.get(key);
    if (last === undefined) return;
    const wait = last + this.options.perTargetIntervalMs - Date.now();
    if (wait > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.abort.signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** The first grouped message of a storm waiting for this chat, if one is waiting. */
  private stormOf(channel: string, target: string): AlertGroup | undefined {
    const settings = this.options.grouping?.();
    if (!settings || channel !== "telegram") return undefined;
    const pending = this.options.outbox.pendingFor(channel, target, STORM_SCAN_LIMIT);
    if (pending.length <= settings.above) return undefined;
    const rows = stormRows(pending, settings, this.options.clock.now());
    return rows.length > 0 ? groupStorm(rows)[0] : undefined;
  }

  /** Sends one grouped message; its rows are marked sent together. False: stop this target for now. */
  private async sendStorm(
    notifier: Notifier,
    key: string,
    target: string,
    group: AlertGroup,
  ): Promise<boolean> {
    const { outbox, clock } = this.options;
    try {
      const sent = await this.global.add(async () => {
        if (this.closed) return false;
        this.lastSentAt.set(key, Date.now());
        await notifier.send({
          target,
          html: group.html,
          text: group.text,
          silent: group.silent,
          payload: { kind: "storm", alerts: group.rows.length },
        });
        return true;
      });
      if (!sent) return false;
      outbox.markSentMany(
        group.rows.map((r) => r.id),
        clock.now(),
      );
      this.options.logger.info(
        { target, alerts: group.rows.length },
        "Sent a storm of alerts as one message",
      );
      return true;
    } catch (err) {
      if (this.closed) return false;
      const failure =
        err instanceof DeliveryError
          ? err.failure
          : { kind: "retry" as const, reason: (err as Error).message };
      const head = group.rows[0] as (typeof group.rows)[number];
      if (failure.kind === "migrate") {
        outbox.migrateChat(target, failure.newTarget, clock.now());
        return false;
      }
      if (failure.kind === "refused") {
        for (const row of group.rows) outbox.markFailed(row.id, failure.reason);
        this.options.logger.error({ target, reason: failure.reason }, "A grouped alert message was refused");
        return true;
      }
      const delay =
        failure.retryAfterMs ??
        Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** Math.min(head.attempts, 16));
      this.options.logger.warn(
        { target, reason: failure.reason, retryInMs: delay },
        "Grouped alert delivery failed; retrying",
      );
      outbox.markRetry(head.id, clock.now() + delay, failure.reason);
      this.scheduleWake(clock.now() + delay);
      return false;
    }
  }

  private async deliverTarget(channel: string, target: string): Promise<void> {
    const { outbox, clock } = this.options;
    const notifier = this.options.notifiers.get(channel);
    if (!notifier) {
      if (!this.warnedChannels.has(channel)) {
        this.warnedChannels.add(channel);
        this.options.logger.warn(
          { channel },
          `Undelivered ${channel} alerts are waiting in the outbox but no ${channel} notifier is configured (set TELEGRAM_BOT_TOKEN)`,
        );
      }
      return;
    }
    const key = `${channel}\u0000${target}`;
    while (!this.closed) {
      const row = outbox.oldestPending(channel, target);
      if (!row) return;
      if (row.nextAttemptAt > clock.now()) {
        this.scheduleWake(row.nextAttemptAt);
        return;
      }
      await this.paceTarget(key);
      if (this.closed) return;
      const storm = this.stormOf(channel, target);
      if (storm) {
        if (!(await this.sendStorm(notifier, key, target, storm))) return;
        continue;
      }
      try {
        const sent = await this.global.add(async () => {
          if (this.closed) return false;
          this.lastSentAt.set(key, Date.now());
          await notifier.send(
            { target, html: row.html, text: row.text, silent: row.silent, payload: row.payload },
            this.abort.signal,
          );
          return true;
        });
        if (!sent) return;
        outbox.markSent(row.id, clock.now());
        // The log notifier's line is the alert itself; other channels get a line saying it arrived.
        if (channel !== "log")
          this.options.logger.info(
            { outboxId: row.id, channel, target, company: row.company, kind: row.kind },
            `Alert ${row.id} delivered to ${channel} ${target}${row.company ? ` (${row.company}, ${row.kind})` : ` (${row.kind})`}`,
          );
      } catch (err) {
        if (this.closed) return;
        const failure =
          err instanceof DeliveryError
            ? err.failure
            : { kind: "retry" as const, reason: (err as Error).message };
        const log = this.options.logger.child({ outboxId: row.id, channel, target, company: row.company });
        if (failure.kind === "migrate") {
          log.warn(
            { newTarget: failure.newTarget },
            `Chat ${target} moved to ${failure.newTarget}; following it (update telegram.chatIds)`,
          );
          outbox.migrateChat(target, failure.newTarget, clock.now());
          return;
        }
        if (failure.kind === "refused") {
          log.error(
            { reason: failure.reason },
            `Alert ${row.id} to ${target} was refused and will not be retried`,
          );
          outbox.markFailed(row.id, failure.reason);
          continue;
        }
        const delay =
          failure.retryAfterMs ??
          Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** Math.min(row.attempts, 16));
        log.warn(
          { reason: failure.reason, retryInMs: delay, attempts: row.attempts + 1 },
          `Alert delivery failed (${failure.reason}): alert ${row.id} to ${channel} ${target}, retry in ${Math.round(delay / 1000)} s`,
        );
        outbox.markRetry(row.id, clock.now() + delay, failure.reason);
        this.scheduleWake(clock.now() + delay);
        return;
      }
    }
  }
}

/**
 * Delivery to one target (a channel and chat): its pending rows strictly in id order, one at a time,
 * paced per chat; a failed send is recorded (sent, refused, migrated, or retried with backoff) and
 * never throws out of here. A storm waiting for a Telegram chat goes out as one message through
 * `deliver-storm.ts`. When targets are looked at is the dispatcher's (`outbox-dispatcher.ts`).
 */
import { sendStorm, stormOf } from "./deliver-storm.js";
import type { DeliveryContext } from "./delivery-context.js";
import { DeliveryError } from "./notifiers/notifier.js";

export type { DeliveryContext } from "./delivery-context.js";

/** Unpaced deliveries (the log) yield to the event loop after this many sends. */
const UNPACED_YIELD_EVERY = 50;

/**
 * Waits out the per-target gap (deliverTarget runs once per target, so sends never overlap). The
 * abort listener is removed when the wait ends either way: the signal is the dispatcher's one
 * shutdown signal, and a listener left per paced send piled up (MaxListenersExceededWarning at 11).
 */
async function paceTarget(ctx: DeliveryContext, key: string): Promise<void> {
  const last = ctx.lastSentAt.get(key);
  if (last === undefined) return;
  const wait = last + ctx.perTargetIntervalMs - Date.now();
  if (wait > 0 && !ctx.isClosed()) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", done);
        resolve();
      }
      ctx.signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Sends a target's due rows in id order until none is due, one waits for a retry, or it closes. */
export async function deliverTarget(ctx: DeliveryContext, channel: string, target: string): Promise<void> {
  const { outbox, clock } = ctx;
  const notifier = ctx.notifiers.get(channel);
  if (!notifier) {
    if (!ctx.warnedChannels.has(channel)) {
      ctx.warnedChannels.add(channel);
      ctx.logger.warn(
        { channel },
        `Undelivered ${channel} alerts are waiting in the outbox but no ${channel} notifier is configured (set TELEGRAM_BOT_TOKEN)`,
      );
    }
    return;
  }
  const key = `${channel}\u0000${target}`;
  let unpacedSends = 0;
  while (!ctx.isClosed()) {
    const row = outbox.oldestPending(channel, target);
    if (!row) return;
    if (row.nextAttemptAt > clock.now()) {
      ctx.scheduleWake(row.nextAttemptAt);
      return;
    }
    const paced = notifier.paced !== false;
    if (paced) await paceTarget(ctx, key);
    if (ctx.isClosed()) return;
    const storm = stormOf(ctx, channel, target);
    if (storm) {
      if (!(await sendStorm(ctx, notifier, key, target, storm))) return;
      continue;
    }
    try {
      const send = async () => {
        if (ctx.isClosed()) return undefined;
        ctx.lastSentAt.set(key, Date.now());
        const result = await notifier.send(
          { target, html: row.html, text: row.text, silent: row.silent, payload: row.payload },
          ctx.signal,
        );
        return { messageId: result?.messageId ?? null };
      };
      // An unpaced channel (the log) skips the overall cap too: that cap is Telegram's rate limit.
      const sent = paced ? await ctx.global.add(send) : await send();
      if (!sent) return;
      outbox.markSent(row.id, clock.now(), sent.messageId);
      // Unpaced sends never wait on a timer: yield now and then so a storm does not hold the loop.
      if (!paced && ++unpacedSends % UNPACED_YIELD_EVERY === 0) await new Promise(setImmediate);
      // The log notifier's line is the alert itself; other channels get a line saying it arrived.
      if (channel !== "log")
        ctx.logger.info(
          { outboxId: row.id, channel, target, company: row.company, kind: row.kind },
          `Alert ${row.id} delivered to ${channel} ${target}${row.company ? ` (${row.company}, ${row.kind})` : ` (${row.kind})`}`,
        );
    } catch (err) {
      if (ctx.isClosed()) return;
      const failure =
        err instanceof DeliveryError
          ? err.failure
          : { kind: "retry" as const, reason: (err as Error).message };
      const log = ctx.logger.child({ outboxId: row.id, channel, target, company: row.company });
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
        failure.retryAfterMs ?? Math.min(ctx.retryMaxMs, ctx.retryBaseMs * 2 ** Math.min(row.attempts, 16));
      log.warn(
        { reason: failure.reason, retryInMs: delay, attempts: row.attempts + 1 },
        `Alert delivery failed (${failure.reason}): alert ${row.id} to ${channel} ${target}, retry in ${Math.round(delay / 1000)} s`,
      );
      outbox.markRetry(row.id, clock.now() + delay, failure.reason);
      ctx.scheduleWake(clock.now() + delay);
      return;
    }
  }
}

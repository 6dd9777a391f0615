/**
 * Storm grouping at delivery: when more alerts than `grouping.above` wait for one Telegram chat,
 * the first group of them (`group-alerts.ts` decides which) goes out as one message and its rows
 * are marked sent together. Called by the per-target delivery loop (`deliver-target.ts`).
 */
import type { DeliveryContext } from "./delivery-context.js";
import { type AlertGroup, groupStorm, stormRows } from "./group-alerts.js";
import { DeliveryError, type Notifier } from "./notifiers/notifier.js";

/** Most rows looked at for one grouped delivery. */
const STORM_SCAN_LIMIT = 5_000;

/** The first grouped message of a storm waiting for this chat, if one is waiting. */
export function stormOf(ctx: DeliveryContext, channel: string, target: string): AlertGroup | undefined {
  const settings = ctx.grouping?.();
  if (!settings || channel !== "telegram") return undefined;
  const pending = ctx.outbox.pendingFor(channel, target, STORM_SCAN_LIMIT);
  if (pending.length <= settings.above) return undefined;
  const rows = stormRows(pending, settings, ctx.clock.now());
  return rows.length > 0 ? groupStorm(rows)[0] : undefined;
}

/** Sends one grouped message; its rows are marked sent together. False: stop this target for now. */
export async function sendStorm(
  ctx: DeliveryContext,
  notifier: Notifier,
  key: string,
  target: string,
  group: AlertGroup,
): Promise<boolean> {
  const { outbox, clock } = ctx;
  try {
    const sent = await ctx.global.add(async () => {
      if (ctx.isClosed()) return false;
      ctx.lastSentAt.set(key, Date.now());
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
    ctx.logger.info({ target, alerts: group.rows.length }, "Sent a storm of alerts as one message");
    return true;
  } catch (err) {
    if (ctx.isClosed()) return false;
    const failure =
      err instanceof DeliveryError ? err.failure : { kind: "retry" as const, reason: (err as Error).message };
    const head = group.rows[0] as (typeof group.rows)[number];
    if (failure.kind === "migrate") {
      outbox.migrateChat(target, failure.newTarget, clock.now());
      return false;
    }
    if (failure.kind === "refused") {
      for (const row of group.rows) outbox.markFailed(row.id, failure.reason);
      ctx.logger.error({ target, reason: failure.reason }, "A grouped alert message was refused");
      return true;
    }
    const delay =
      failure.retryAfterMs ?? Math.min(ctx.retryMaxMs, ctx.retryBaseMs * 2 ** Math.min(head.attempts, 16));
    ctx.logger.warn(
      { target, reason: failure.reason, retryInMs: delay },
      "Grouped alert delivery failed; retrying",
    );
    outbox.markRetry(head.id, clock.now() + delay, failure.reason);
    ctx.scheduleWake(clock.now() + delay);
    return false;
  }
}

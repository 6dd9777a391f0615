/**
 * What the supervisor does once at start: finishing (or undoing) a restore a crash interrupted,
 * before anything looks at the folders; telling an outage that began before this start.
 */
import { finishInterruptedRestore, interruptedRestores } from "../actions/restore/folder-swap.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";

/** A restore a crash interrupted is finished (or undone) before anything looks at the folders. */
export async function finishInterruptedRestores(
  home: string | undefined,
  sessionsDir: string,
  store: Store,
  clock: Clock,
  log: Logger,
): Promise<void> {
  if (home === undefined) return;
  for (const company of await interruptedRestores(home)) {
    try {
      const outcome = await finishInterruptedRestore(home, sessionsDir, company);
      if (outcome) {
        log.warn({ company, outcome }, `Interrupted restore of ${company}: ${outcome}`);
        store.audit.add({
          at: clock.now(),
          actor: "supervisor",
          company,
          action: "restore-recovery",
          ok: true,
          result: outcome,
          detail: {},
        });
      }
    } catch (err) {
      log.error(
        { company, err },
        `Could not finish the interrupted restore of ${company}: ${describeError(err)}`,
      );
    }
  }
}

/**
 * An outage that began before this start (Telegram may have been configured meanwhile): one
 * notice, so it is not only in a log nobody read; an outage Telegram was already told about (by
 * its start notice or an earlier start) is not told again at every restart. Returns true when a
 * notice was queued.
 */
export function tellOutageInProgress(
  store: Store,
  clock: Clock,
  alerts: AlertQueue,
  telegram: boolean,
): boolean {
  const outage = store.ladder.currentOutage();
  if (!outage || !telegram) return false;
  if (store.outbox.toldSince("outage", "telegram", outage.startedAt)) return false;
  const since = formatDuration(clock.now() - outage.startedAt);
  alerts.notice(
    "Network outage in progress",
    `Since ${new Date(outage.startedAt).toISOString()} (${since}): ${outage.reason}. The ladder holds cleanups and resets until the network is back.`,
    { kind: "outage", level: "critical", down: outage.down },
  );
  return true;
}

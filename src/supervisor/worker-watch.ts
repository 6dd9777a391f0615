/**
 * The supervisor's eye on the workers: a worker silent for `workers.deadAfter` is marked dead,
 * reported and restarted through pm2; connection transitions that need a human (replaced, QR
 * required, forbidden, outdated client) are reported once each.
 */

import { wardenCommand } from "../cli-invocation.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import type { WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import { meaningOf, STATE_CODES } from "../ladder/close-codes.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../worker/disconnect-policy.js";

/** A notice for the operators. */
export interface WatchNotice {
  company: string | null;
  kind: string;
  title: string;
  detail: string;
  /** Severity, for the icon: the same scale as the count alerts. */
  level: "ok" | "monitor" | "warning" | "critical" | "fatal";
}

/**
 * Transitions that need a human: severity and what to do, with the company's own commands. The
 * sentences are the ladder's table of close codes: only 401 (qr_required) says to pair again.
 */
const HUMAN_NEEDED: Record<string, { level: WatchNotice["level"]; text: (company: string) => string }> = {
  ...Object.fromEntries(
    Object.entries(STATE_CODES).map(([state, code]) => {
      const meaning = meaningOf(code);
      const level: WatchNotice["level"] = meaning.needsQr || state === "forbidden" ? "fatal" : "critical";
      return [state, { level, text: (c: string) => `${cap(meaning.what)}. ${meaning.next(c)}` }];
    }),
  ),
  auth_store_failed: {
    level: "fatal",
    text: (c) =>
      `The company's auth database failed (see the transition's message and the worker log): it was stopped, not re-paired, nothing deleted. Fix the cause (key, disk, file), then \`${wardenCommand(`start ${c}`)}\`.`,
  },
};

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Restarts a pm2 process by pm_id (through the pm2 API); resolves with a sentence when it chose
 * not to restart it.
 */
export type Restarter = (pmId: number) => Promise<string | undefined>;

/** pm2 statuses an operator (or `pm2 stop` / `npm stop`) put the process in: never undone here. */
const STOPPED_BY_PM2 = new Set(["stopping", "stopped"]);

/** Restarts a pm2 process through the pm2 API of the daemon this process runs under. */
export const restartThroughPm2: Restarter = async (pmId) => {
  // Loaded on demand: the pm2 API is large and only needed when a worker died.
  const { default: pm2 } = await import("pm2");
  await new Promise<void>((resolve, reject) => pm2.connect((err) => (err ? reject(err) : resolve())));
  try {
    // A worker that `pm2 stop` is closing stops heartbeating too; pm2.restart would start it
    // again behind the operator's back (seen in the fleet-pm2 test: a company "open" after stop).
    const described = await new Promise<{ pm2_env?: { status?: string } }[]>((resolve, reject) =>
      pm2.describe(pmId, (err, list) =>
        err ? reject(err) : resolve(list as { pm2_env?: { status?: string } }[]),
      ),
    );
    const status = described[0]?.pm2_env?.status;
    if (status !== undefined && STOPPED_BY_PM2.has(status))
      return `pm2 says it is ${status} (stopped on purpose): not restarted`;
    await new Promise<void>((resolve, reject) => pm2.restart(pmId, (err) => (err ? reject(err) : resolve())));
    return undefined;
  } finally {
    pm2.disconnect();
  }
};

/** Companies marked offline per transaction, a turn between two (10,000 at once held the loop ~400 ms). */
const OFFLINE_SLICE = 500;

/** A dead worker's companies: offline (terminal states kept), a slice per transaction. */
async function markOffline(store: Store, holder: string, now: number): Promise<void> {
  const companies = store.leases.heldBy(holder);
  for (let i = 0; i < companies.length; i += OFFLINE_SLICE) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    store.transaction(() => {
      for (const company of companies.slice(i, i + OFFLINE_SLICE)) {
        const current = store.connections.get(company)?.state as ConnectionStateName | undefined;
        if (current && TERMINAL_STATES.has(current)) continue;
        store.connections.transition(
          { company, to: "offline", code: null, message: `worker ${holder} not responding`, holder: null },
          now,
        );
      }
    });
  }
}

/** Looks at heartbeats and transitions; returns what should be reported. */
export async function watchWorkers(
  store: Store,
  config: WardenConfig,
  clock: Clock,
  logger: Logger,
  restart: Restarter,
): Promise<WatchNotice[]> {
  const notices: WatchNotice[] = [];
  const now = clock.now();
  const everyWorker = store.workers.list();
  for (const worker of store.workers.silentSince(now - config.workers.deadAfter)) {
    store.workers.setStatus(worker.holder, "dead", now);
    // Its companies are not connected any more as far as anyone can tell: say so until a
    // worker takes their leases over (a dead worker's "open" would be a lie in status).
    await markOffline(store, worker.holder, now);
    const silent = formatDuration(now - worker.heartbeatAt);
    // pm2 may already have replaced a crashed process: restarting "its" pm_id would kill the
    // healthy newcomer.
    const successor = everyWorker.find(
      (w) => w.instance === worker.instance && w.startedAt > worker.startedAt && w.status === "alive",
    );
    let action = "not running under pm2: restart it by hand";
    if (successor) {
      action = `already replaced by ${successor.holder}`;
    } else if (worker.pmId !== null) {
      try {
        const declined = await restart(worker.pmId);
        action = declined ?? `restarted through pm2 (pm_id ${worker.pmId})`;
      } catch (err) {
        action = `pm2 restart of pm_id ${worker.pmId} failed: ${describeError(err)}`;
      }
    }
    logger.error(
      { holder: worker.holder, instance: worker.instance, silent },
      `Worker silent for ${silent}: ${action}`,
    );
    notices.push({
      company: null,
      kind: "worker-dead",
      title: `Worker ${worker.instance} is not responding`,
      level: "critical",
      detail: `warden-worker ${worker.holder} sent no heartbeat for ${silent}; ${action}. Its companies are taken over when their leases expire (${formatDuration(config.workers.leaseTtl)}).`,
    });
  }
  const cursor = store.cursors.get("transitions-alerted");
  let last = cursor;
  for (const t of store.connections.transitionsAfter(cursor)) {
    last = t.id;
    const need = HUMAN_NEEDED[t.to];
    if (!need) continue;
    notices.push({
      company: t.company,
      kind: `connection-${t.to}`,
      level: need.level,
      title: `${t.company}: ${t.to.replace("_", " ")}${t.code ? ` (${t.code})` : ""}`,
      detail: `${need.text(t.company)}${t.message ? ` Last message: ${t.message}.` : ""}`,
    });
  }
  if (last !== cursor) store.cursors.set("transitions-alerted", last);
  return notices;
}

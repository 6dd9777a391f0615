/**
 * What the supervisor's timers run: the worker watch (dead workers, connection transitions), the
 * decrypt-failure alerts and session repairs, the connectivity probe that feeds outage detection, the ladder's checks and the hourly pruning of old history; and
 * `scheduleChecks`, which arms them on the supervisor's scheduler.
 */
import { checkSignalAlerts } from "../alerts/signal-alerts.js";
import type { Clock } from "../clock.js";
import type { WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import { type ProbeResult, probeTcpDetailed } from "../ladder/connectivity-probe.js";
import type { LadderRunner } from "../ladder/ladder-runner.js";
import { LEARN_FOR_MS } from "../liveness/rhythm.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";
import type { OnCall } from "./on-call.js";
import type { Scheduler } from "./scheduler.js";
import type { SessionRepairs } from "./session-repairs.js";
import type { StoreGuard } from "./store-guard.js";
import { type Restarter, restartThroughPm2, watchWorkers } from "./worker-watch.js";

/** Connection notices the recovery ladder reports itself when it runs. */
const LADDER_TELLS = new Set([
  "connection-qr_required",
  "connection-forbidden",
  "connection-replaced",
  "connection-outdated_client",
  "connection-auth_store_failed",
]);

/** Hourly: prune old history, delivered outbox rows and their buttons. */
const MAINTENANCE_EVERY_MS = 3_600_000;

/** What the checks need. */
export interface PeriodicChecksOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
  alerts: AlertQueue;
  /** Starts delivery of what was queued. */
  kick: () => void;
  /** True once the supervisor closes: results that arrive later are dropped. */
  closed: () => boolean;
  ladder: LadderRunner | undefined;
  repairs: SessionRepairs | undefined;
  /** How a dead worker is restarted (default: the pm2 API). */
  restartWorker?: Restarter;
  /** The on-call loop (escalations, silence summaries, the daily digest). */
  onCall?: OnCall;
  /** The connectivity probe (default: TCP to fleet.probe's host:port). */
  probe?: (host: string, port: number, timeoutMs: number) => Promise<boolean | ProbeResult>;
}

/** The checks, each run once per call. */
export interface PeriodicChecks {
  /** Checks worker heartbeats and connection transitions now; queues what needs telling. */
  workers(): Promise<void>;
  /** One ladder check of the whole fleet now (nothing without the ladder). */
  ladder(): void;
  /** The same check in slices with event-loop turns between them (what the timer runs). */
  ladderInSlices(): Promise<void>;
  /** Raises / resolves the decrypt-failure alerts from the workers' signal buckets. */
  signals(): void;
  /** Probes connectivity once; resolves to the delay until the next probe (undefined: no probing). */
  probe(): Promise<number | undefined>;
  /** Prunes old history, delivered outbox rows and their buttons, old signal buckets. */
  prune(): void;
  /** One on-call pass (src/supervisor/on-call.ts), then a kick for what it or another process queued. */
  onCall(): Promise<void>;
}

/** Creates the checks. */
export function createPeriodicChecks(options: PeriodicChecksOptions): PeriodicChecks {
  const { store, clock, logger: log, config, alerts, kick, closed, ladder } = options;
  /** The last probe outcome recorded ("host:port" or "host:port: error"). */
  let lastProbe: string | undefined;

  return {
    async workers() {
      const notices = await watchWorkers(
        store,
        config(),
        clock,
        log,
        options.restartWorker ?? restartThroughPm2,
      );
      if (closed()) return;
      // With the ladder running, it tells these states itself, with its next step (backup, stop,
      // the pairing command): the transition's own notice would be the same incident twice.
      const told = ladder ? notices.filter((n) => !LADDER_TELLS.has(n.kind)) : notices;
      if (told.length === 0) return;
      store.transaction(() => {
        for (const n of told)
          alerts.notice(
            n.title,
            n.detail,
            { kind: n.kind, company: n.company, level: n.level },
            n.company ?? undefined,
          );
      });
      kick();
    },

    ladder() {
      ladder?.check();
    },

    async ladderInSlices() {
      await ladder?.checkInSlices();
    },

    signals() {
      if (closed()) return;
      const queued = checkSignalAlerts(store, config(), clock.now(), (_settings, company, kind, rendered) =>
        alerts.queue(company, kind, null, rendered),
      );
      if (queued > 0) kick();
      void options.repairs?.check();
    },

    async probe() {
      const probe = config().fleet.probe;
      if (closed() || !ladder) return undefined;
      if (!probe) {
        ladder.setProbeResult(null);
        return undefined;
      }
      const raw = await (options.probe ?? probeTcpDetailed)(probe.host, probe.port, probe.timeout);
      if (closed()) return undefined;
      const result = typeof raw === "boolean" ? { ok: raw, error: raw ? null : "failed" } : raw;
      const target = `${probe.host}:${probe.port}`;
      const detail = result.ok ? target : `${target}: ${result.error}`;
      // Recorded on every change, for `warden status` (another process) and the outage alert.
      if (detail !== lastProbe) {
        lastProbe = detail;
        store.events.add(clock.now(), "fleet", result.ok ? "probe-ok" : "probe-failed", detail);
        if (result.ok) log.info({ target }, `Connectivity probe to ${target} ok`);
        else
          log.warn(
            { target, error: result.error },
            `Connectivity probe to ${target} failed: ${result.error}`,
          );
      }
      ladder.setProbeResult(result.ok, result.ok ? null : `probe ${detail}`);
      return probe.every;
    },

    async onCall() {
      if (closed() || !options.onCall) return;
      await options.onCall.check();
      // Also delivers rows another process queued (the edits of a `warden ack`).
      if (!closed()) kick();
    },

    prune() {
      const now = clock.now();
      const keep = config().history.keep;
      const history = store.companies.pruneHistory(now - keep);
      const outbox = store.outbox.prune(now - keep);
      // Alert buttons older than the delivered alerts they sat under answer "no longer valid".
      store.bot.pruneCallbacks(now - keep);
      store.signals.prune(now - keep);
      // The learned rhythm needs its 14 days whatever history.keep says.
      store.liveness.prune(now - Math.max(keep, LEARN_FOR_MS + 86_400_000));
      const audit = store.audit.prune(now - config().audit.keep);
      if (history + outbox + audit > 0)
        log.info({ history, outbox, audit }, "Pruned old history, delivered alerts and audit rows");
    },
  };
}

/** What `scheduleChecks` reads. */
export interface ScheduleChecksOptions {
  config: () => WardenConfig;
  /** Store writes of the maintenance run through it (a full disk is survived). */
  guard: StoreGuard;
  logger: Logger;
  /** The recovery ladder runs: its checks every fleet.checkEvery. */
  ladder: boolean;
}

/**
 * Arms the periodic checks on the scheduler: maintenance hourly, the worker watch (then the signal
 * alerts) every workers.heartbeatEvery and, with the ladder, its checks every fleet.checkEvery.
 */
export function scheduleChecks(
  scheduler: Scheduler,
  checks: PeriodicChecks,
  options: ScheduleChecksOptions,
): void {
  const { config, guard, logger: log } = options;
  scheduler.every(
    () => MAINTENANCE_EVERY_MS,
    () => guard.run("pruning old history", () => checks.prune()),
    { unref: true },
  );
  scheduler.every(
    () => config().workers.heartbeatEvery,
    () =>
      checks
        .workers()
        .then(() => checks.signals())
        .catch((err) => log.error({ err }, "worker watch failed"))
        .then(() => checks.onCall())
        .catch((err) => log.error({ err }, `on-call pass failed: ${describeError(err)}`)),
  );
  if (options.ladder)
    scheduler.every(
      () => config().fleet.checkEvery,
      () =>
        checks
          .ladderInSlices()
          .catch((err) => log.error({ err }, `ladder check failed: ${describeError(err)}`)),
    );
}

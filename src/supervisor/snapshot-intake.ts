/**
 * Takes in what the fleet scanner reports: each batch of snapshots is stored, evaluated against the
 * company's thresholds (and its mute) and turned into outbox rows in one transaction; a corrupt
 * creds.json, a removed folder and the scanner's own reports become notices. The dispatcher is
 * kicked after each transaction.
 */

import { existsSync } from "node:fs";
import path from "node:path";
import { countSnapshot } from "../actions/cleanup/count-stale.js";
import { DOWN_HISTORY_MS, type DownInterval, downIntervalsOf } from "../actions/cleanup/down-time.js";
import { evaluateThresholds } from "../alerts/evaluate-thresholds.js";
import { renderAlert, renderNotice } from "../alerts/format-alert.js";
import { wardenCommand } from "../cli-invocation.js";
import type { Clock } from "../clock.js";
import type { CompanySettings } from "../config/company-schema.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { FolderSnapshot } from "../fleet/scan-folder.js";
import type { ScannerReport } from "../fleet/scanner-types.js";
import type { Logger } from "../logger.js";
import type { Level } from "../store/alert-state.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";
import { createRecountGate } from "./recount-gate.js";

/** What the intake needs. */
export interface SnapshotIntakeOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
  /** WARDEN_HOME (restore journals); undefined: no folder swap is ever in progress. */
  home: string | undefined;
  alerts: AlertQueue;
  /** Starts delivery of what was queued. */
  kick: () => void;
  /** True once the supervisor closes: nothing more is taken in. */
  closed: () => boolean;
}

/** The scanner's callbacks. */
export interface SnapshotIntake {
  /**
   * Stores snapshots, evaluates thresholds, queues alerts (one transaction). `fullScan`: from the
   * reconcile, where a company whose count cannot have changed is skipped (recount-gate.ts).
   */
  snapshots(snapshots: FolderSnapshot[], fullScan?: boolean): void;
  /** False while the company's last count holds unless its folder changes (recount-gate.ts). */
  countDue(company: string): boolean;
  /** A company folder disappeared (unless wa-warden swapped it). */
  removed(company: string): void;
  /** A scanner report: an event row, and a notice for a watcher fallback or a failed scan. */
  report(report: ScannerReport): void;
}

/** Creates the intake. */
export function createSnapshotIntake(options: SnapshotIntakeOptions): SnapshotIntake {
  const { store, clock, config, alerts, kick, closed } = options;
  const gate = createRecountGate();
  return {
    snapshots(snapshots, fullScan = false) {
      if (closed()) return;
      const now = clock.now();
      const cfg = config();
      let queued = 0;
      const counted: (() => void)[] = [];
      try {
        store.transaction(() => {
          for (const snapshot of snapshots) {
            if (fullScan && !gate.due(snapshot, cfg, now)) continue;
            queued += takeSnapshot(options, snapshot, now, cfg, (settings, downIntervals, level) =>
              counted.push(() => gate.counted(snapshot, cfg, settings, downIntervals, level, now)),
            );
          }
        });
      } catch (err) {
        // Rolled back (a full disk, a locked database): the scanner has already noted these folders
        // as seen, so the gate must say they are due, or the next reconcile would skip them and the
        // lost count (an alert) would wait for a file event or the gate's 10 minutes.
        for (const snapshot of snapshots) gate.forget(snapshot.company);
        throw err;
      }
      // Only once committed: a rolled-back count must be made again.
      for (const record of counted) record();
      if (queued > 0) kick();
    },

    countDue(company) {
      return gate.dueByTime(company, config(), clock.now());
    },

    removed(company) {
      if (closed()) return;
      gate.forget(company);
      if (swappedByUs(options, company)) return;
      recordRemoval(options, company, clock.now());
      kick();
    },

    report(report) {
      if (closed()) return;
      const now = clock.now();
      store.transaction(() => {
        store.events.add(now, "fleet", report.kind, report.message);
        if (report.kind === "watcher-fallback" || report.kind === "scan-failed") {
          alerts.notice(`wa-warden: ${report.kind}`, report.message, { kind: report.kind }, report.company);
        }
      });
      kick();
    },
  };
}

/**
 * One snapshot within the batch's transaction: counts it under `cfg`, saves it, queues its creds
 * and threshold alerts; returns how many were queued. `onCounted` gets what the recount gate
 * records once the transaction commits.
 */
function takeSnapshot(
  options: SnapshotIntakeOptions,
  snapshot: FolderSnapshot,
  now: number,
  cfg: WardenConfig,
  onCounted: (settings: CompanySettings, downIntervals: DownInterval[], level: Level) => void,
): number {
  const { store, alerts } = options;
  let queued = 0;
  const settings = companySettings(cfg, snapshot.company);
  // Idleness counts connected time only (down-time.ts): an outage never ages live sessions.
  const downIntervals = downIntervalsOf(
    store.connections.eventsSince(snapshot.company, now - DOWN_HISTORY_MS),
    now,
  );
  const counts = countSnapshot(snapshot, settings, now, downIntervals);
  const before = store.companies.get(snapshot.company);
  store.companies.save(snapshot, counts);
  queued += credsChanged(options, snapshot, before?.credsState, before?.credsError ?? null);
  const previous = store.alertState.get(snapshot.company);
  // mutedUntil in the config drops alerts; a silence (`warden mute` / `silence`, the bot) holds
  // them in the alert queue and summarises them when it ends.
  const { state, alerts: decisions } = evaluateThresholds(previous, counts.counted, settings, now);
  store.alertState.put(snapshot.company, state, now);
  onCounted(settings, downIntervals, state.level);
  const down = decisions.length > 0 ? alsoDown(store, snapshot.company, settings, now) : undefined;
  for (const decision of decisions) {
    const rendered = renderAlert(
      snapshot.company,
      decision,
      { ...counts, byCategory: snapshot.byCategory },
      settings,
      down,
    );
    queued += alerts.queue(snapshot.company, decision.kind, decision.level, rendered);
  }
  return queued;
}

/**
 * The "also disconnected" line of a threshold alert: only on the ladder's own scale (warnAfter)
 * and never for our own hold (a reconnect at start or a cleanup's stop of a second is not a
 * disconnection).
 */
function alsoDown(
  store: Store,
  company: string,
  settings: CompanySettings,
  now: number,
): { state: string; downFor: number } | undefined {
  const conn = store.connections.get(company);
  const heldByUs = store.leases.get(company)?.holder.startsWith("action:") === true;
  return conn &&
    conn.state !== "open" &&
    conn.downSince !== null &&
    now - conn.downSince >= settings.ladder.warnAfter &&
    !heldByUs
    ? { state: conn.state, downFor: now - conn.downSince }
    : undefined;
}

/**
 * A corrupt creds.json is its own alert, with the reason (once it was only ever seen as
 * "Network outage", and `status` said `corrupt` without why); once more when it is readable again.
 */
function credsChanged(
  options: SnapshotIntakeOptions,
  snapshot: FolderSnapshot,
  was: string | undefined,
  wasError: string | null,
): number {
  const { logger: log, config, alerts } = options;
  const { creds, company } = snapshot;
  if (creds.state === "corrupt" && (was !== "corrupt" || wasError !== (creds.error ?? null))) {
    const why = creds.error ?? "unreadable";
    log.error({ company, kind: "creds-corrupt" }, `${company}: creds.json is corrupt: ${why}`);
    const detail = `${config().sessionsDir}/${company}/creds.json: ${why}. The worker will not connect it (nothing is overwritten); restore a backup or fix the file.`;
    return alerts.queue(
      company,
      "creds-corrupt",
      null,
      renderNotice(`Corrupt creds.json: ${company}`, detail, {
        kind: "creds-corrupt",
        company,
        reason: why,
      }),
    );
  }
  if (was === "corrupt" && creds.state !== "corrupt") {
    const detail = `${config().sessionsDir}/${company}/creds.json is ${creds.state === "ok" ? "readable again" : "gone"}.`;
    return alerts.queue(
      company,
      "creds-ok",
      null,
      renderNotice(`creds.json no longer corrupt: ${company}`, detail, {
        kind: "creds-ok",
        company,
        state: creds.state,
      }),
    );
  }
  return 0;
}

/**
 * wa-warden's own folder swap (restore, new pairing) renames the folder away for an instant under
 * a journal: not a removal, no alarm (invariant 17). Folder back already: same. Logs it when so.
 */
function swappedByUs(options: SnapshotIntakeOptions, company: string): boolean {
  const home = options.home;
  const swapping = home !== undefined && existsSync(path.join(home, "restores", `${company}.json`));
  if (swapping || existsSync(path.join(options.config().sessionsDir, company))) {
    options.logger.info(
      { company },
      `${company}: folder swapped by wa-warden (restore or new pairing), not removed`,
    );
    return true;
  }
  return false;
}

/** A removed folder: the company row marked removed and one notice (decommissioned or lost). */
function recordRemoval(options: SnapshotIntakeOptions, company: string, now: number): void {
  const { store, config, alerts } = options;
  // Decommissioned on purpose (`warden remove`): say so instead of "restore a backup".
  const removal = store.audit
    .list(company)
    .filter((a) => a.action === "remove" && a.ok && now - a.at < 3_600_000)
    .at(-1);
  store.transaction(() => {
    if (!store.companies.markRemoved(company, now)) return;
    if (removal) {
      alerts.notice(
        `Company removed: ${company}`,
        `${company} was removed by ${removal.actor}: ${removal.result}.`,
        { kind: "company-removed", company },
        company,
      );
      return;
    }
    alerts.notice(
      `Company folder removed: ${company}`,
      `${config().sessionsDir}/${company} disappeared; its worker let go of it and will not create it again. If this was not intended, its creds.json is gone: restore a backup. To decommission a company, \`${wardenCommand(`remove ${company}`)}\` backs it up and moves the folder aside instead.`,
      { kind: "company-removed", company },
      company,
    );
  });
}

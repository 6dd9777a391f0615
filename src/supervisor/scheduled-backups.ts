/**
 * Scheduled backups (`backups.every`, per company; null = off): the supervisor takes and verifies
 * a backup of each company once its newest backup is older than that, so the health check's
 * backup age means something. Never two at once, staggered (`every / companies` apart on average,
 * 1 s to 5 min, oldest first: a check every minute takes as many as that pace allows since the last
 * one, so 10,000 companies with `every` 24h get about 7 a minute), skipped while a ladder step or
 * another action holds the company (a backup only reads, but a folder being cleaned or swapped is
 * not worth archiving). The result is
 * recorded (backup_verifications, audit as "warden:schedule"); a failure alerts once per company
 * until a backup of it succeeds again.
 */
import { readdir } from "node:fs/promises";
import type { ActionContext } from "../actions/action-context.js";
import { listBackups } from "../actions/backup/backup.js";
import { backUpAndRecord } from "../actions/backup/verified-backup.js";
import { wardenCommand } from "../cli-invocation.js";
import type { Clock } from "../clock.js";
import { assertCompanyFolder } from "../config/company-id.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import type { AlertQueue } from "./alert-queue.js";

const ACTOR = "warden:schedule";
const MIN_GAP_MS = 1_000;
const MAX_GAP_MS = 5 * 60_000;
/** Companies looked at per event-loop turn. */
const CHECK_PAGE = 500;

/** What the schedule needs. */
export interface ScheduledBackupsOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: () => WardenConfig;
  /** The supervisor's action context (backups root, key, store access). */
  actions: ActionContext;
  alerts: AlertQueue;
  kick: () => void;
  /** Companies the ladder is working on (cleanup, reset, QR required). */
  busy: () => ReadonlySet<string>;
  /** True once the supervisor closes: no further backup is started. */
  closed?: () => boolean;
  /** How often check() is called (the supervisor's timer): the most pace one check may catch up. Default 1 min. */
  checkEveryMs?: number;
}

/** The schedule. */
export interface ScheduledBackups {
  /** Takes the backups that are due, one at a time; resolves to how many were taken. */
  check(): Promise<number>;
}

/** Creates the schedule (its memory of the newest backup per company is read from disk once). */
export function createScheduledBackups(options: ScheduledBackupsOptions): ScheduledBackups {
  const { store, clock, logger: log, config } = options;
  const root = options.actions.backupsRoot;
  /** Newest backup per company (ms), read from the folder the first time a company is looked at. */
  const newest = new Map<string, number | null>();
  const checkEveryMs = options.checkEveryMs ?? 60_000;
  /**
   * The pace: backups allowed now (one more per gap that passes, at most one check period's worth,
   * so a check catches up on its minute but a long pause never becomes a burst); one at the start.
   */
  let allowance = 1;
  let allowanceAt = clock.now();
  let running = false;

  /**
   * Newest backup of `company`; `folders`: the backups root's entries, read once per check when a
   * company is looked at for the first time (at 10,000 companies without backups, one readdir of
   * the root instead of 10,000 of missing folders).
   */
  const newestOf = async (company: string, folders: { names?: Set<string> }): Promise<number | null> => {
    if (!newest.has(company)) {
      folders.names ??= new Set(await readdir(root).catch(() => []));
      const [first] = folders.names.has(company) ? await listBackups(root, company).catch(() => []) : [];
      newest.set(company, first ? Date.parse(first.createdAt) : null);
    }
    return newest.get(company) ?? null;
  };

  const heldByAction = (company: string, now: number): boolean => {
    const lease = store.leases.get(company);
    return lease?.holder.startsWith("action:") === true && lease.expiresAt > now;
  };

  const takeOne = async (company: string): Promise<void> => {
    const now = clock.now();
    try {
      const { created, verified } = await backUpAndRecord(options.actions, {
        company,
        actor: ACTOR,
        dir: assertCompanyFolder(config().sessionsDir, company),
        reason: "scheduled",
      });
      newest.set(company, now);
      if (!verified.ok)
        throw new Error(`${created.name} failed verification: ${verified.problems.join("; ")}`);
      store.cursors.set(`backup-failed:${company}`, 0);
    } catch (err) {
      newest.set(company, now); // tried: the next attempt waits a full interval, not the next pass
      const why = describeError(err);
      log.error({ company, err }, `Scheduled backup of ${company} failed: ${why}`);
      if (store.cursors.get(`backup-failed:${company}`) === 0) {
        store.cursors.set(`backup-failed:${company}`, now);
        store.transaction(() =>
          options.alerts.notice(
            `Scheduled backup failed: ${company}`,
            `${why}. Nothing else is alerted about it until a backup of ${company} succeeds; try \`${wardenCommand(`backup ${company}`)}\`.`,
            { kind: "backup-failed", company, level: "warning" },
            company,
          ),
        );
        options.kick();
      }
    }
  };

  return {
    async check() {
      if (running) return 0;
      running = true;
      let taken = 0;
      try {
        const cfg = config();
        const companies: string[] = [];
        const due: { company: string; since: number }[] = [];
        const folders: { names?: Set<string> } = {};
        // A page of companies per turn: at 10,000 the whole list in one turn held the loop ~100 ms
        // every minute (a cached newest backup resolves without a turn).
        for (let after = ""; ; ) {
          const page = store.companies.listPresentCountsPage(after, CHECK_PAGE);
          for (const { id: company } of page) {
            companies.push(company);
            const every = companySettings(cfg, company).backups.every;
            if (every === null) continue;
            const last = await newestOf(company, folders);
            if (last === null || clock.now() - last >= every) due.push({ company, since: last ?? 0 });
          }
          const lastRow = page.at(-1);
          if (page.length < CHECK_PAGE || lastRow === undefined) break;
          after = lastRow.id;
          await new Promise((resolve) => setImmediate(resolve));
        }
        due.sort((a, b) => a.since - b.since || a.company.localeCompare(b.company));
        for (const { company } of due) {
          const every = companySettings(config(), company).backups.every ?? Number.POSITIVE_INFINITY;
          const gap = Math.min(MAX_GAP_MS, Math.max(MIN_GAP_MS, every / Math.max(1, companies.length)));
          const now = clock.now();
          allowance = Math.min(Math.max(1, checkEveryMs / gap), allowance + (now - allowanceAt) / gap);
          allowanceAt = now;
          if (allowance < 1 || options.closed?.()) break;
          if (options.busy().has(company) || heldByAction(company, now)) {
            log.info({ company }, `Scheduled backup of ${company} skipped: an action holds it`);
            continue;
          }
          allowance -= 1;
          await takeOne(company);
          taken++;
        }
      } finally {
        running = false;
      }
      return taken;
    },
  };
}

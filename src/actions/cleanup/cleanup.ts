/**
 * The cleanup executor: plan, back up, verify the backup, delete exactly the plan, audit. Two modes:
 * - "smart": the planner's rules (src/actions/plan-cleanup.ts);
 * - "reset": the ladder's last resort (src/actions/plan-reset.ts): sessions, identity keys, sender
 *   keys and pre-keys below the floor go; what Baileys needs to keep working stays (invariant 14).
 * Nothing is deleted unless the backup verified and holds every planned key with the same bytes
 * (each is hashed again just before the delete), so a deleted key can always be restored. The keys
 * are files or database rows (src/actions/cleanup-target.ts): the same plan, the same checks.
 * creds.json and app-state files are refused at the last line too, whatever the plan says.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { type AuthStoreAccess, authAccessOf } from "../../auth-store/company-rows.js";
import type { Clock } from "../../clock.js";
import { assertCompanyFolder } from "../../config/company-id.js";
import type { CompanySettings } from "../../config/schema.js";
import { describeError, ErrorCodes, WardenError } from "../../errors.js";
import { type Category, classifyFile } from "../../fleet/classify-file.js";
import type { Store } from "../../store/store.js";
import { type CreatedBackup, createBackup, verifyBackup } from "../backup/backup.js";
import { type CompanyHold, holdCompany } from "../company-hold.js";
import { type CleanupTarget, openCleanupTarget } from "./cleanup-target.js";
import { cleanupRulesFor } from "./count-stale.js";
import { DOWN_HISTORY_MS, type DownInterval, downIntervalsOf, withoutDownTime } from "./down-time.js";
import { type CleanupFile, type CleanupPlan, planCleanup } from "./plan-cleanup.js";
import { planReset } from "./plan-reset.js";

export { listCleanupFiles } from "./cleanup-target.js";

/** Categories a cleanup never deletes, in any mode. */
export const NEVER_DELETED: ReadonlySet<Category> = new Set([
  "creds",
  "app-state-sync-key",
  "app-state-sync-version",
]);

/** Cleanup modes. */
export type CleanupMode = "smart" | "reset";

/** Inputs of runCleanup. */
export interface CleanupOptions {
  store: Store;
  clock: Clock;
  sessionsDir: string;
  backupsRoot: string;
  company: string;
  settings: Pick<CompanySettings, "cleanup" | "preKeyReserve" | "backups">;
  actor: string;
  mode?: CleanupMode;
  /** Lowers minAge to 0 (every other rule stays). */
  force?: boolean;
  /** Plan only: no hold, no backup, nothing deleted, no audit row. */
  dryRun?: boolean;
  /** Stop the company through its worker first, and let it reconnect afterwards (the ladder, --stop). */
  stopFirst?: boolean;
  /** An already-taken hold (the caller keeps it and releases it). */
  hold?: CompanyHold;
  /** WARDEN_BACKUP_KEY: the backup is encrypted. */
  backupKey?: string;
  onProgress?: (phase: "backup" | "delete", done: number, total: number) => void;
  /** A database store's home and key (default: WARDEN_HOME above backupsRoot, backupKey for the rows). */
  authStore?: AuthStoreAccess;
  /** A narrower plan than the mode's (a session repair), with its own audit action and detail. */
  narrow?: {
    plan: (files: readonly CleanupFile[]) => Promise<CleanupPlan>;
    action: string;
    detail: Record<string, unknown>;
  };
}

/** What a cleanup did (or would do, for a dry run). */
export interface CleanupResult {
  company: string;
  mode: CleanupMode;
  dryRun: boolean;
  plan: CleanupPlan;
  /** Files actually deleted (equal to the plan unless some vanished on their own). */
  deleted: number;
  backup: string | null;
  auditId: number | null;
}

/** Plans, backs up, verifies and deletes; records an audit row whatever the outcome. */
export async function runCleanup(options: CleanupOptions): Promise<CleanupResult> {
  const { store, clock, company, settings, actor } = options;
  const mode = options.mode ?? "smart";
  const dir = assertCompanyFolder(options.sessionsDir, company);
  const dirStat = await lstat(dir);
  if (!dirStat.isDirectory()) {
    throw new WardenError(ErrorCodes.COMPANY_UNKNOWN, `${dir} is not a folder (symlinks are not followed)`, {
      company,
    });
  }
  const access = authAccessOf(options.authStore, options.backupsRoot, options.backupKey);
  if (options.dryRun) {
    const target = await openCleanupTarget(dir, company, access);
    try {
      const plan = await makePlan(
        target,
        mode,
        settings,
        clock.now(),
        options.force === true,
        downOf(options),
      );
      return { company, mode, dryRun: true, plan, deleted: 0, backup: null, auditId: null };
    } finally {
      await target.close();
    }
  }

  const hold =
    options.hold ?? (await holdCompany({ store, clock, company, actor, stopFirst: options.stopFirst }));
  const action = options.narrow?.action ?? (mode === "reset" ? "reset" : "cleanup");
  let plan: CleanupPlan | undefined;
  let backup: CreatedBackup | undefined;
  let deleted = 0;
  let target: CleanupTarget | undefined;
  try {
    // Planned under the hold: no socket writes into the folder (or its rows) from here on.
    target = await openCleanupTarget(dir, company, access);
    plan = options.narrow
      ? await options.narrow.plan(await target.files())
      : await makePlan(target, mode, settings, clock.now(), options.force === true, downOf(options));
    if (plan.delete.length === 0) {
      const auditId = store.audit.add({
        at: clock.now(),
        actor,
        company,
        action,
        ok: true,
        result: `nothing to delete (${plan.keep} files kept)`,
        detail: {
          ...options.narrow?.detail,
          mode,
          force: options.force === true,
          deleted: 0,
          kept: plan.keep,
        },
      });
      return { company, mode, dryRun: false, plan, deleted: 0, backup: null, auditId };
    }
    backup = await createBackup({
      company,
      dir,
      backupsRoot: options.backupsRoot,
      reason: mode === "reset" ? "pre-reset" : "pre-cleanup",
      now: clock.now(),
      key: options.backupKey,
      keep: settings.backups.keep,
      authStore: access,
      onProgress: (done, total) => {
        if (done % 500 === 0) hold.renew();
        options.onProgress?.("backup", done, total);
      },
    });
    const verified = await verifyBackup(backup.path, { key: options.backupKey });
    if (!verified.ok || !verified.manifest) {
      throw new WardenError(
        ErrorCodes.BACKUP_INVALID,
        `The backup ${backup.path} did not verify (${verified.problems.slice(0, 3).join("; ")}); nothing deleted`,
        { company, backup: backup.path },
      );
    }
    const inBackup = new Map(verified.manifest.files.map((f) => [f.name, f]));
    const missing = plan.delete.filter((d) => !inBackup.has(d.file)).map((d) => d.file);
    if (missing.length > 0) {
      throw new WardenError(
        ErrorCodes.BACKUP_INVALID,
        `The backup ${backup.path} lacks ${missing.length} planned file(s) (${missing.slice(0, 3).join(", ")}); nothing deleted`,
        { company, backup: backup.path },
      );
    }
    const total = plan.delete.length;
    for (const d of plan.delete) {
      if (NEVER_DELETED.has(classifyFile(d.file))) {
        throw new WardenError(
          ErrorCodes.DELETE_REFUSED,
          `Refusing to delete ${path.join(dir, d.file)}: creds and app-state files are never deleted`,
          { company, file: d.file },
        );
      }
    }
    // A key changed since the backup (something wrote it despite the hold) is kept rather than lost.
    const current = await target.hashes(plan.delete.map((d) => d.file));
    const doomed = plan.delete
      .map((d) => d.file)
      .filter((name) => current.has(name) && current.get(name) === inBackup.get(name)?.sha256);
    deleted = await target.remove(doomed, (done) => {
      if (done % 500 === 0) hold.renew();
      options.onProgress?.("delete", done, total);
    });
    const auditId = store.audit.add({
      at: clock.now(),
      actor,
      company,
      action,
      ok: true,
      result: `deleted ${deleted} of ${plan.delete.length} planned files (${Math.round(plan.bytesFreed / 1024)} KB), kept ${plan.keep}; backup ${backup.path}`,
      detail: {
        ...options.narrow?.detail,
        mode,
        force: options.force === true,
        backup: backup.path,
        deleted,
        planned: plan.delete.length,
        kept: plan.keep,
        files: plan.delete.slice(0, 200).map((d) => d.file),
      },
    });
    return { company, mode, dryRun: false, plan, deleted, backup: backup.path, auditId };
  } catch (err) {
    store.audit.add({
      at: clock.now(),
      actor,
      company,
      action,
      ok: false,
      result: `failed after deleting ${deleted} file(s): ${describeError(err)}`,
      detail: {
        ...options.narrow?.detail,
        mode,
        backup: backup?.path ?? null,
        deleted,
        planned: plan?.delete.length ?? null,
      },
    });
    throw err;
  } finally {
    await target?.close();
    if (!options.hold) hold.release(`${action} done`);
  }
}

async function makePlan(
  target: CleanupTarget,
  mode: CleanupMode,
  settings: CleanupOptions["settings"],
  now: number,
  force: boolean,
  down: readonly DownInterval[],
): Promise<CleanupPlan> {
  const files = await target.files();
  const rules = cleanupRulesFor(settings, await target.credsFacts());
  if (mode === "reset") return planReset(files, rules);
  // Idleness counts connected time only: an outage never makes live sessions look stale.
  return planCleanup(withoutDownTime(files, down, now), rules, now, { force });
}

/** The company's down intervals from its connection history (down-time.ts). */
function downOf(options: CleanupOptions): DownInterval[] {
  const now = options.clock.now();
  return downIntervalsOf(options.store.connections.eventsSince(options.company, now - DOWN_HISTORY_MS), now);
}

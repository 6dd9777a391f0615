/**
 * Restore a company folder from a backup: find it (the newest, or the one named), verify it before
 * anything is stopped or moved, hold the company (no socket), then swap the extracted backup in for
 * the folder through folder-swap.ts (journaled; the old folder is kept in WARDEN_HOME/replaced) and
 * audit the outcome. A failed restore undoes an incomplete swap and records ok=false.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { readStoreChoice } from "../../auth-store/store-choice.js";
import { wardenCommand } from "../../cli-invocation.js";
import { assertCompanyId } from "../../config/company-id.js";
import { ErrorCodes, WardenError } from "../../errors.js";
import type { ActionContext } from "../action-context.js";
import { type BackupInfo, extractBackup, listBackups, verifyBackup } from "../backup/backup.js";
import { auditChange, auditFailure, type ChangeRequest, holdFor } from "../hold-for-change.js";
import { finishInterruptedRestore, swapCompanyFolder } from "./folder-swap.js";
import { restoreRows } from "./restore-rows.js";

/** What to restore (the context gives the store, clock, folders and keys). */
export interface RestoreRequest extends ChangeRequest {
  /** A backup file name from `warden backups`; the newest when absent. */
  backup?: string;
}

/** What a restore did. */
export interface RestoreResult {
  company: string;
  backup: string;
  files: number;
  /** Where the replaced folder went (null when there was none). */
  movedAside: string | null;
  auditId: number;
}

/** The newest backup of a company, or the one named (a bare file name, as `warden backups` lists it). */
export async function findBackup(backupsRoot: string, company: string, name?: string): Promise<BackupInfo> {
  const backups = await listBackups(backupsRoot, company);
  if (name !== undefined) {
    const found = backups.find((b) => b.name === name || b.path === path.resolve(name));
    if (!found) {
      throw new WardenError(
        ErrorCodes.BACKUP_NOT_FOUND,
        `No backup ${JSON.stringify(name)} for ${company} in ${path.join(backupsRoot, company)} (see: ${wardenCommand(`backups ${company}`)})`,
        { company, backup: name },
      );
    }
    return found;
  }
  const newest = backups[0];
  if (!newest) {
    throw new WardenError(
      ErrorCodes.BACKUP_NOT_FOUND,
      `No backups of ${company} in ${path.join(backupsRoot, company)} (make one: ${wardenCommand(`backup ${company}`)})`,
      { company },
    );
  }
  return newest;
}

/** Verifies the backup, then swaps it in for the company folder; the old folder is kept aside. */
export async function runRestore(context: ActionContext, options: RestoreRequest): Promise<RestoreResult> {
  const { clock, sessionsDir, home, backupKey } = context;
  const { company } = options;
  assertCompanyId(company);
  await finishInterruptedRestore(home, sessionsDir, company);
  const info = await findBackup(context.backupsRoot, company, options.backup);
  // Verify before anything is stopped or moved: a bad backup changes nothing.
  const verified = await verifyBackup(info.path, { key: backupKey, company });
  if (!verified.ok) {
    throw new WardenError(
      ErrorCodes.BACKUP_INVALID,
      `Backup ${info.path} failed verification, nothing restored: ${verified.problems.slice(0, 5).join("; ")}`,
      { company, backup: info.path },
    );
  }
  if (verified.manifest && verified.manifest.company !== company) {
    throw new WardenError(
      ErrorCodes.BACKUP_INVALID,
      `Backup ${info.path} belongs to ${verified.manifest.company}, not ${company}; nothing restored`,
      { company, backup: info.path },
    );
  }

  const currentStat = await lstat(path.join(sessionsDir, company)).catch(() => null);
  if (currentStat && !currentStat.isDirectory()) {
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `${path.join(sessionsDir, company)} is not a folder (symlinks are not followed); nothing restored`,
      { company },
    );
  }
  const hold = await holdFor(context, options);
  let movedAside: string | null = null;
  try {
    const kind = currentStat ? await readStoreChoice(path.join(sessionsDir, company)) : "files";
    let files = 0;
    let result: string;
    let detail: Record<string, unknown>;
    if (kind !== "files") {
      // The company's rows are replaced; its folder (warden-auth.json) stays as it is.
      const done = await restoreRows({
        access: context.authStore,
        company,
        kind,
        backupFile: info.path,
        backupKey,
        now: clock.now(),
        renew: () => hold.renew(),
      });
      ({ files, movedAside } = done);
      const skipped = done.skipped.length > 0 ? `; not keys, left out: ${done.skipped.join(", ")}` : "";
      result = `restored ${files} keys into the ${kind} store from ${info.name}; the previous database is in ${movedAside}${skipped}`;
      detail = { backup: info.path, files, movedAside, store: kind, skipped: done.skipped };
    } else {
      movedAside = await swapCompanyFolder(
        home,
        sessionsDir,
        company,
        "before-restore",
        clock.now(),
        async (staged) => {
          files = (await extractBackup(info.path, staged, { key: backupKey })).files;
          hold.renew();
        },
      );
      result = `restored ${files} files from ${info.name}${movedAside ? `; the previous folder is in ${movedAside}` : ""}`;
      detail = { backup: info.path, files, movedAside };
    }
    const auditId = auditChange(context, options, { action: "restore", ok: true, result, detail });
    return { company, backup: info.path, files, movedAside, auditId };
  } catch (err) {
    // Put things back the way they were if the swap did not complete; keep whatever is complete.
    await finishInterruptedRestore(home, sessionsDir, company).catch(() => undefined);
    auditFailure(context, options, "restore", err, { backup: info.path });
    throw err;
  } finally {
    hold.release("restore done");
  }
}

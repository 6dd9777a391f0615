/**
 * Decommissioning a company (`warden remove <company>`): under the company's hold (its worker
 * stopped first with `stopFirst`), a verified backup, then the whole folder moved to
 * WARDEN_HOME/removed/<company>-<time> (renamed; copied then deleted when WARDEN_HOME is on another
 * file system), and an audit row. Nothing of the folder is deleted before it exists elsewhere, and
 * no worker brings it back: a session never creates a company folder. A sqlite company's database
 * (WARDEN_HOME/auth/<company>.sqlite, its keys) goes with it, to `<that folder>.sqlite` beside it;
 * its backup reads the rows with the rows' passphrase (WARDEN_AUTH_KEY, else WARDEN_BACKUP_KEY)
 * and is sealed only when a backup key is given.
 */
import { cp, lstat, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { AuthStoreAccess } from "../auth-store/company-rows.js";
import { moveSqliteDatabase } from "../auth-store/sqlite-rows.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import type { Clock } from "../clock.js";
import { assertCompanyFolder } from "../config/company-id.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { authDatabaseFile, removedFolder } from "../home-layout.js";
import type { Store } from "../store/store.js";
import { createBackup, verifyBackup } from "./backup/backup.js";
import { holdCompany } from "./company-hold.js";
import { finishInterruptedRestore } from "./restore/folder-swap.js";

/** Inputs of removeCompany. */
export interface RemoveCompanyOptions {
  store: Store;
  clock: Clock;
  sessionsDir: string;
  /** WARDEN_HOME: the folder goes to its `removed/`. */
  home: string;
  backupsRoot: string;
  company: string;
  actor: string;
  /** Stop the company through its worker first (otherwise refused while a worker holds it). */
  stopFirst?: boolean;
  backupKey?: string;
  keep?: number;
  /** A database store's home and rows' passphrase (default: `home` and `backupKey`). */
  authStore?: AuthStoreAccess;
}

/** What removeCompany did. */
export interface RemoveCompanyResult {
  company: string;
  backup: string;
  movedTo: string;
  /** A sqlite company's database, moved beside the folder (null for a files company). */
  databaseMovedTo: string | null;
  auditId: number;
}

/** Backs up (verified) and moves a company folder out of sessionsDir; audited either way. */
export async function removeCompany(options: RemoveCompanyOptions): Promise<RemoveCompanyResult> {
  const { store, clock, sessionsDir, home, company, actor } = options;
  const current = assertCompanyFolder(sessionsDir, company);
  const st = await lstat(current).catch(() => null);
  if (!st?.isDirectory())
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `${current} is not a company folder (missing, or not a directory; symlinks are not followed)`,
      { company },
    );
  await finishInterruptedRestore(home, sessionsDir, company);
  const hold = await holdCompany({ store, clock, company, actor, stopFirst: options.stopFirst });
  let backupPath: string | null = null;
  try {
    const backup = await createBackup({
      company,
      dir: current,
      backupsRoot: options.backupsRoot,
      reason: "pre-remove",
      now: clock.now(),
      key: options.backupKey,
      keep: options.keep,
      authStore: options.authStore ?? { home, passphrase: options.backupKey },
    });
    backupPath = backup.path;
    const verified = await verifyBackup(backup.path, { key: options.backupKey });
    if (!verified.ok)
      throw new WardenError(
        ErrorCodes.BACKUP_INVALID,
        `The pre-remove backup ${backup.path} did not verify (${verified.problems.slice(0, 3).join("; ")}); the folder was left as it was`,
        { company, backup: backup.path },
      );
    hold.renew();
    // The company is not wanted running any more: no worker reconnects it if the folder returns.
    store.control.setDesired(company, "stop", null, clock.now());
    const movedTo = removedFolder(home, company, clock.now());
    const databaseMovedTo = await moveStore(current, movedTo, options.authStore?.home ?? home, company);
    const also = databaseMovedTo ? `, database moved to ${databaseMovedTo}` : "";
    const auditId = store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "remove",
      ok: true,
      result: `folder moved to ${movedTo}${also} (backup ${backup.path} verified)`,
      detail: { backup: backup.path, movedTo, databaseMovedTo },
    });
    return { company, backup: backup.path, movedTo, databaseMovedTo, auditId };
  } catch (err) {
    store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "remove",
      ok: false,
      result: `failed: ${describeError(err)}`,
      detail: { backup: backupPath },
    });
    throw err;
  } finally {
    hold.release("company removed", { resume: false });
  }
}

/**
 * The folder, and a sqlite company's database first (checkpointed, then renamed; put back if the
 * folder cannot move, so the folder never names a store that is gone). Returns the database's place.
 */
async function moveStore(current: string, movedTo: string, home: string, company: string) {
  if ((await readStoreChoice(current)) === "files") {
    await moveFolder(current, movedTo);
    return null;
  }
  const database = authDatabaseFile(home, company);
  moveSqliteDatabase(database, `${movedTo}.sqlite`);
  try {
    await moveFolder(current, movedTo);
  } catch (err) {
    moveSqliteDatabase(`${movedTo}.sqlite`, database);
    throw err;
  }
  return `${movedTo}.sqlite`;
}

/** rename(); across file systems a copy first, the original deleted only once the copy is complete. */
async function moveFolder(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
    await rm(from, { recursive: true });
  }
}

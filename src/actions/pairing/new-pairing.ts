/**
 * Preparing a new pairing of a company that is already paired (after `qr_required`, or to move a
 * number to a new phone): the one time creds.json leaves its folder. Under the hold:
 *   backup (verified, must hold creds.json) → a fresh empty folder is swapped in for the old one
 *   (journaled, as a restore) → the old folder goes to WARDEN_HOME/replaced → the creds snapshots
 *   are retired (a worker must never bring the old identity back into the new folder) → audit.
 * The worker then pairs into the empty folder (the `pair` control request). A database company
 * keeps its store: the fresh folder names it too, and once the swap is done (still under the hold,
 * so no socket opens in between) its old database joins the old folder and an empty one is created.
 */
import { lstat, mkdir } from "node:fs/promises";
import path from "node:path";
import { type AuthStoreAccess, openCompanyRows } from "../../auth-store/company-rows.js";
import { moveSqliteDatabase } from "../../auth-store/sqlite-rows.js";
import { readStoreChoice, writeStoreChoice } from "../../auth-store/store-choice.js";
import type { Clock } from "../../clock.js";
import { assertCompanyFolder } from "../../config/company-id.js";
import { describeError, ErrorCodes, WardenError } from "../../errors.js";
import { authDatabaseFile } from "../../home-layout.js";
import type { Store } from "../../store/store.js";
import { createBackup, verifyBackup } from "../backup/backup.js";
import { holdCompany } from "../company-hold.js";
import { finishInterruptedRestore, swapCompanyFolder } from "../restore/folder-swap.js";

/** Inputs of prepareNewPairing. */
export interface NewPairingOptions {
  store: Store;
  clock: Clock;
  sessionsDir: string;
  home: string;
  backupsRoot: string;
  company: string;
  actor: string;
  stopFirst?: boolean;
  backupKey?: string;
  keep?: number;
  /** A database store's home and key (default: `home` and backupKey for the rows). */
  authStore?: AuthStoreAccess;
}

/** What prepareNewPairing did. */
export interface NewPairingResult {
  company: string;
  backup: string;
  movedAside: string;
  snapshotsRetired: number;
  auditId: number;
}

/** Backs up the paired folder, swaps an empty one in, retires the snapshots; the worker then pairs. */
export async function prepareNewPairing(options: NewPairingOptions): Promise<NewPairingResult> {
  const { store, clock, sessionsDir, home, company, actor } = options;
  const current = assertCompanyFolder(sessionsDir, company);
  if (!(await lstat(current)).isDirectory()) {
    throw new WardenError(
      ErrorCodes.COMPANY_UNKNOWN,
      `${current} is not a folder (symlinks are not followed)`,
      {
        company,
      },
    );
  }
  await finishInterruptedRestore(home, sessionsDir, company);
  const hold = await holdCompany({ store, clock, company, actor, stopFirst: options.stopFirst });
  let backupPath: string | null = null;
  const kind = await readStoreChoice(current);
  const access = options.authStore ?? { home, passphrase: options.backupKey };
  try {
    const backup = await createBackup({
      company,
      dir: current,
      backupsRoot: options.backupsRoot,
      reason: "pre-pair",
      now: clock.now(),
      key: options.backupKey,
      keep: options.keep,
      authStore: access,
    });
    backupPath = backup.path;
    const verified = await verifyBackup(backup.path, { key: options.backupKey });
    const hasCreds = verified.manifest?.files.some((f) => f.name === "creds.json") === true;
    if (!verified.ok || !hasCreds) {
      throw new WardenError(
        ErrorCodes.BACKUP_INVALID,
        `The pre-pair backup ${backup.path} ${verified.ok ? "holds no creds.json" : `did not verify (${verified.problems.slice(0, 3).join("; ")})`}; the folder was left as it was`,
        { company, backup: backup.path },
      );
    }
    hold.renew();
    // Retired before the swap: if a crash leaves the empty folder in place, no worker may fill it
    // with the old identity (the folder still holds creds.json until the swap; a worker snapshots
    // it again on its next connect).
    const snapshotsRetired = store.credsSnapshots.retire(company);
    const movedAside = await swapCompanyFolder(
      home,
      sessionsDir,
      company,
      "before-pair",
      clock.now(),
      async (staged) => {
        await mkdir(staged, { mode: 0o700 });
        if (kind !== "files") await writeStoreChoice(staged, kind);
      },
    );
    if (movedAside === null)
      throw new WardenError(ErrorCodes.FOLDER_VANISHED, `${current} vanished during the new pairing`, {
        company,
      });
    if (kind !== "files") {
      // A crash before this line leaves the old database in use: the old identity, nothing lost.
      const file = authDatabaseFile(home, company);
      moveSqliteDatabase(file, path.join(movedAside, path.basename(file)));
      await (await openCompanyRows(access, company, kind, { create: true })).close();
    }
    const auditId = store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "new-pairing",
      ok: true,
      result: `paired folder moved to ${movedAside} (backup ${backup.path}); ${snapshotsRetired} creds snapshot(s) retired; ready to pair`,
      detail: { backup: backup.path, movedAside, snapshotsRetired },
    });
    return { company, backup: backup.path, movedAside, snapshotsRetired, auditId };
  } catch (err) {
    await finishInterruptedRestore(home, sessionsDir, company).catch(() => undefined);
    store.audit.add({
      at: clock.now(),
      actor,
      company,
      action: "new-pairing",
      ok: false,
      result: `failed: ${describeError(err)}`,
      detail: { backup: backupPath },
    });
    throw err;
  } finally {
    // The pair request that follows sets the company running again.
    hold.release("new pairing prepared", { resume: false });
  }
}

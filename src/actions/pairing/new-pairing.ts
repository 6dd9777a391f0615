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
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { moveCompanyStoreAside, openCompanyRows } from "../../auth-store/company-rows.js";
import { readStoreChoice, writeStoreChoice } from "../../auth-store/store-choice.js";
import { ErrorCodes, WardenError } from "../../errors.js";
import type { ActionContext } from "../action-context.js";
import { backUpBeforeChange } from "../backup/verified-backup.js";
import { auditChange, auditFailure, beginFolderChange, type ChangeRequest } from "../hold-for-change.js";
import { finishInterruptedRestore, swapCompanyFolder } from "../restore/folder-swap.js";

/** What prepareNewPairing did. */
export interface NewPairingResult {
  company: string;
  backup: string;
  movedAside: string;
  snapshotsRetired: number;
  auditId: number;
}

/** Backs up the paired folder, swaps an empty one in, retires the snapshots; the worker then pairs. */
export async function prepareNewPairing(
  context: ActionContext,
  request: ChangeRequest,
): Promise<NewPairingResult> {
  const { store, clock, sessionsDir, home } = context;
  const { company } = request;
  const { dir: current, hold } = await beginFolderChange(context, request);
  let backupPath: string | null = null;
  const kind = await readStoreChoice(current);
  try {
    const backup = await backUpBeforeChange(context, hold, {
      company,
      dir: current,
      reason: "pre-pair",
      unchanged: "the folder was left as it was",
      check: (manifest) =>
        manifest.files.some((f) => f.name === "creds.json") ? null : "holds no creds.json",
    });
    backupPath = backup.path;
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
      // sqlite: <movedAside>/<company>.sqlite beside the old folder; postgres: rows renamed to <company>@<folder name>.
      const base = kind === "postgres" ? movedAside : path.join(movedAside, company);
      await moveCompanyStoreAside(context.authStore, company, kind, base);
      await (await openCompanyRows(context.authStore, company, kind, { create: true })).close();
    }
    const auditId = auditChange(context, request, {
      action: "new-pairing",
      ok: true,
      result: `paired folder moved to ${movedAside} (backup ${backup.path}); ${snapshotsRetired} creds snapshot(s) retired; ready to pair`,
      detail: { backup: backup.path, movedAside, snapshotsRetired },
    });
    return { company, backup: backup.path, movedAside, snapshotsRetired, auditId };
  } catch (err) {
    await finishInterruptedRestore(home, sessionsDir, company).catch(() => undefined);
    auditFailure(context, request, "new-pairing", err, { backup: backupPath });
    throw err;
  } finally {
    // The pair request that follows sets the company running again.
    hold.release("new pairing prepared", { resume: false });
  }
}

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
import { cp, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { moveCompanyStoreAside, putCompanyStoreBack } from "../auth-store/company-rows.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import { removedFolder } from "../home-layout.js";
import type { ActionContext } from "./action-context.js";
import { backUpBeforeChange } from "./backup/verified-backup.js";
import { auditChange, auditFailure, beginFolderChange, type ChangeRequest } from "./hold-for-change.js";

/** What removeCompany did. */
export interface RemoveCompanyResult {
  company: string;
  backup: string;
  movedTo: string;
  /** A database company's store: the sqlite file moved beside the folder, or where its postgres rows went (null for a files company). */
  databaseMovedTo: string | null;
  auditId: number;
}

/** Backs up (verified) and moves a company folder out of sessionsDir; audited either way. */
export async function removeCompany(
  context: ActionContext,
  request: ChangeRequest,
): Promise<RemoveCompanyResult> {
  const { store, clock, home } = context;
  const { company } = request;
  const { dir: current, hold } = await beginFolderChange(context, request);
  let backupPath: string | null = null;
  try {
    const backup = await backUpBeforeChange(context, hold, {
      company,
      dir: current,
      reason: "pre-remove",
      unchanged: "the folder was left as it was",
    });
    backupPath = backup.path;
    // The company is not wanted running any more: no worker reconnects it if the folder returns.
    store.control.setDesired(company, "stop", null, clock.now());
    const movedTo = removedFolder(home, company, clock.now());
    const databaseMovedTo = await moveStore(context, current, movedTo, company);
    const also = databaseMovedTo ? `, database moved to ${databaseMovedTo}` : "";
    const auditId = auditChange(context, request, {
      action: "remove",
      ok: true,
      result: `folder moved to ${movedTo}${also} (backup ${backup.path} verified)`,
      detail: { backup: backup.path, movedTo, databaseMovedTo },
    });
    return { company, backup: backup.path, movedTo, databaseMovedTo, auditId };
  } catch (err) {
    auditFailure(context, request, "remove", err, { backup: backupPath });
    throw err;
  } finally {
    hold.release("company removed", { resume: false });
  }
}

/**
 * The folder, and a database company's store first (sqlite: checkpointed, then renamed to
 * `<movedTo>.sqlite`; postgres: its rows renamed to `<company>@<moved folder's name>`), put back if
 * the folder cannot move, so the folder never names a store that is gone. Returns the store's place.
 */
async function moveStore(context: ActionContext, current: string, movedTo: string, company: string) {
  const kind = await readStoreChoice(current);
  if (kind === "files") {
    await moveFolder(current, movedTo);
    return null;
  }
  const access = context.authStore;
  const where = await moveCompanyStoreAside(access, company, kind, movedTo);
  try {
    await moveFolder(current, movedTo);
  } catch (err) {
    await putCompanyStoreBack(access, company, kind, movedTo);
    throw err;
  }
  return where;
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

/**
 * Decommissioning a company (`warden remove <company>`): under the company's hold (its worker
 * stopped first with `stopFirst`), a verified backup, then the whole folder moved to
 * WARDEN_HOME/removed/<company>-<time> (renamed; copied then deleted when WARDEN_HOME is on another
 * file system), and an audit row. Nothing of the folder is deleted before it exists elsewhere, and
 * no worker brings it back: a session never creates a company folder.
 */
import { cp, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { removedFolder } from "../home-layout.js";
import type { ActionContext } from "./action-context.js";
import { backUpBeforeChange } from "./backup/verified-backup.js";
import { auditChange, auditFailure, beginFolderChange, type ChangeRequest } from "./hold-for-change.js";

/** What removeCompany did. */
export interface RemoveCompanyResult {
  company: string;
  backup: string;
  movedTo: string;
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
    await moveFolder(current, movedTo);
    const auditId = auditChange(context, request, {
      action: "remove",
      ok: true,
      result: `folder moved to ${movedTo} (backup ${backup.path} verified)`,
      detail: { backup: backup.path, movedTo },
    });
    return { company, backup: backup.path, movedTo, auditId };
  } catch (err) {
    auditFailure(context, request, "remove", err, { backup: backupPath });
    throw err;
  } finally {
    hold.release("company removed", { resume: false });
  }
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

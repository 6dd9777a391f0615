/**
 * A backup that is verified before anything relies on it, in one place: `backUpAndRecord` for the
 * backups people and the schedule ask for (the verification recorded in backup_verifications and
 * audited, pass or fail), `backUpBeforeChange` for the backup a destructive action takes under its
 * hold (no change unless it verified: invariant 5).
 */
import { ErrorCodes, WardenError } from "../../errors.js";
import type { ActionContext } from "../action-context.js";
import type { CompanyHold } from "../company-hold.js";
import { type CreatedBackup, createBackup } from "./backup-create.js";
import type { BackupManifest } from "./backup-manifest.js";
import { type VerifyResult, verifyBackup } from "./backup-read.js";

/** A backup and its verification. */
export interface VerifiedBackup {
  created: CreatedBackup;
  verified: VerifyResult;
}

/** Creates a backup of the company with the context's root, key, store access and its `keep`. */
function create(
  context: ActionContext,
  company: string,
  dir: string,
  reason: string,
  onProgress?: (done: number, total: number) => void,
  keep = context.settings(company).backups.keep,
): Promise<CreatedBackup> {
  return createBackup({
    company,
    dir,
    backupsRoot: context.backupsRoot,
    reason,
    now: context.clock.now(),
    key: context.backupKey,
    keep,
    authStore: context.authStore,
    ...(onProgress ? { onProgress } : {}),
  });
}

/**
 * Backs up `dir`, verifies the archive, records the verification and audits it (action "backup",
 * ok = verified). A failed verification is returned, not thrown: the caller reports it.
 */
export async function backUpAndRecord(
  context: ActionContext,
  request: { company: string; actor: string; dir: string; reason: string },
  onProgress?: (done: number, total: number) => void,
): Promise<VerifiedBackup> {
  const { store, clock } = context;
  const { company } = request;
  const created = await create(context, company, request.dir, request.reason, onProgress);
  const verified = await verifyBackup(created.path, { key: context.backupKey });
  store.backupVerifications.record(company, created.name, verified.ok, verified.problems, clock.now());
  store.audit.add({
    at: clock.now(),
    actor: request.actor,
    company,
    action: "backup",
    ok: verified.ok,
    result: verified.ok ? `backup ${created.name} verified` : `backup ${created.name} failed verification`,
    detail: { backup: created.path, files: created.manifest.files.length, problems: verified.problems },
  });
  return { created, verified };
}

/** What a destructive action needs of its backup. */
export interface BeforeChange {
  company: string;
  dir: string;
  /** `pre-cleanup`, `pre-pair`...: part of the file name, and of the error's first words. */
  reason: string;
  /** What stays true when it fails ("nothing deleted", "the folder was left as it was"). */
  unchanged: string;
  /** What else the verified manifest must hold; a problem's text, or null when it holds it. */
  check?: (manifest: BackupManifest) => string | null;
  /** Backups of the company to keep (default: its `backups.keep`). */
  keep?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The backup a change takes under its hold (renewed while it is written): verified, and holding
 * what `check` asks, or BACKUP_INVALID and nothing changes.
 */
export async function backUpBeforeChange(
  context: ActionContext,
  hold: CompanyHold,
  request: BeforeChange,
): Promise<CreatedBackup & { manifest: BackupManifest }> {
  const backup = await create(
    context,
    request.company,
    request.dir,
    request.reason,
    (done, total) => {
      if (done % 500 === 0) hold.renew();
      request.onProgress?.(done, total);
    },
    request.keep,
  );
  const verified = await verifyBackup(backup.path, { key: context.backupKey });
  const problem =
    !verified.ok || !verified.manifest
      ? `did not verify (${verified.problems.slice(0, 3).join("; ")})`
      : request.check?.(verified.manifest);
  if (problem) {
    throw new WardenError(
      ErrorCodes.BACKUP_INVALID,
      `The ${request.reason} backup ${backup.path} ${problem}; ${request.unchanged}`,
      { company: request.company, backup: backup.path },
    );
  }
  hold.renew();
  return { ...backup, manifest: verified.manifest ?? backup.manifest };
}

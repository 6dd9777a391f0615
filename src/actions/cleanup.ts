/**
 * The cleanup executor: plan, back up, verify the backup, delete exactly the plan, audit. Two modes:
 * - "smart": the planner's rules (src/actions/plan-cleanup.ts);
 * - "reset": the ladder's last resort (src/actions/plan-reset.ts): sessions, identity keys, sender
 *   keys and pre-keys below the floor go; what Baileys needs to keep working stays (issue 8).
 * Nothing is deleted unless the backup verified and holds every planned file with the same bytes
 * (each file is hashed again just before its unlink), so a deleted file can always be restored.
 * creds.json and app-state files are refused at the last line too, whatever the plan says.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, unlink } from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../clock.js";
import { assertCompanyFolder } from "../config/company-id.js";
import type { CompanySettings } from "../config/schema.js";
import { describeError, ErrorCodes, FileRefusedError, WardenError } from "../errors.js";
import { ATOMIC_TMP_PREFIX, type Category, classifyFile } from "../fleet/classify-file.js";
import { ownUsersOf } from "../fleet/file-user.js";
import { syncDir } from "../fleet/sync-dir.js";
import { readRegularFile } from "../fs/safe-read.js";
import type { Store } from "../store/store.js";
import { type CreatedBackup, createBackup, verifyBackup } from "./backup.js";
import { type CompanyHold, holdCompany } from "./company-hold.js";
import { cleanupRulesFor } from "./count-stale.js";
import { DOWN_HISTORY_MS, type DownInterval, downIntervalsOf, withoutDownTime } from "./down-time.js";
import { type CleanupFile, type CleanupPlan, planCleanup } from "./plan-cleanup.js";
import { planReset } from "./plan-reset.js";

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

/** Lists the regular files of a company folder as the planner wants them (symlinks and temp files left out). */
export async function listCleanupFiles(dir: string): Promise<CleanupFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: CleanupFile[] = [];
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith(ATOMIC_TMP_PREFIX)) continue;
    const st = await lstat(path.join(dir, e.name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined; // vanished between readdir and lstat
      throw err;
    });
    if (!st?.isFile()) continue;
    files.push({ name: e.name, category: classifyFile(e.name), size: st.size, mtimeMs: st.mtimeMs });
  }
  return files;
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
  if (options.dryRun) {
    const plan = await makePlan(dir, mode, settings, clock.now(), options.force === true, downOf(options));
    return { company, mode, dryRun: true, plan, deleted: 0, backup: null, auditId: null };
  }

  const hold =
    options.hold ?? (await holdCompany({ store, clock, company, actor, stopFirst: options.stopFirst }));
  const action = options.narrow?.action ?? (mode === "reset" ? "reset" : "cleanup");
  let plan: CleanupPlan | undefined;
  let backup: CreatedBackup | undefined;
  let deleted = 0;
  try {
    // Planned under the hold: no socket writes into the folder from here on.
    plan = options.narrow
      ? await options.narrow.plan(await listCleanupFiles(dir))
      : await makePlan(dir, mode, settings, clock.now(), options.force === true, downOf(options));
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
      const file = path.join(dir, d.file);
      if (NEVER_DELETED.has(classifyFile(d.file))) {
        throw new WardenError(
          ErrorCodes.ACTION_FAILED,
          `Refusing to delete ${file}: creds and app-state files are never deleted`,
          { company, file: d.file },
        );
      }
      const expected = inBackup.get(d.file);
      const current = await hashFile(file);
      if (current === undefined) continue; // already gone
      if (current !== expected?.sha256) {
        // Changed since the backup (something wrote it despite the hold): keep it rather than lose it.
        continue;
      }
      await unlink(file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
      deleted++;
      if (deleted % 500 === 0) hold.renew();
      options.onProgress?.("delete", deleted, total);
    }
    await syncDir(dir);
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
    if (!options.hold) hold.release(`${action} done`);
  }
}

async function makePlan(
  dir: string,
  mode: CleanupMode,
  settings: CleanupOptions["settings"],
  now: number,
  force: boolean,
  down: readonly DownInterval[],
): Promise<CleanupPlan> {
  const files = await listCleanupFiles(dir);
  const rules = cleanupRulesFor(settings, await readCredsFacts(dir));
  if (mode === "reset") return planReset(files, rules);
  // Idleness counts connected time only: an outage never makes live sessions look stale.
  return planCleanup(withoutDownTime(files, down, now), rules, now, { force });
}

/** The company's down intervals from its connection history (down-time.ts). */
function downOf(options: CleanupOptions): DownInterval[] {
  const now = options.clock.now();
  return downIntervalsOf(options.store.connections.eventsSince(options.company, now - DOWN_HISTORY_MS), now);
}

/**
 * creds.nextPreKeyId - 1 (the pre-key Baileys checks on connect) and our own users; nulls when
 * missing or unparseable. A creds.json that is a symlink or a FIFO throws FileRefusedError: never
 * followed, never waited on (issue 9), and a folder in that state is not cleaned.
 */
async function readCredsFacts(
  dir: string,
): Promise<{ newestPreKeyId: number | null; ownUsers: string[] | null }> {
  const read = await readRegularFile(path.join(dir, "creds.json"));
  if (!read) return { newestPreKeyId: null, ownUsers: null };
  try {
    const creds = JSON.parse(read.data.toString("utf8")) as { nextPreKeyId?: unknown } | null;
    if (creds === null || typeof creds !== "object") return { newestPreKeyId: null, ownUsers: null };
    return {
      newestPreKeyId: typeof creds.nextPreKeyId === "number" ? creds.nextPreKeyId - 1 : null,
      ownUsers: ownUsersOf(creds),
    };
  } catch {
    // Unparseable creds: the planner keeps every pre-key above its floor and every session.
    return { newestPreKeyId: null, ownUsers: null };
  }
}

/** sha256 of a regular file (never through a symlink, never blocking); undefined when it is gone. */
async function hashFile(file: string): Promise<string | undefined> {
  try {
    const read = await readRegularFile(file, { maxBytes: Number.POSITIVE_INFINITY });
    return read ? createHash("sha256").update(read.data).digest("hex") : undefined;
  } catch (err) {
    // Swapped for a symlink or a FIFO since the backup: not the file backed up, so it is kept.
    if (err instanceof FileRefusedError) return `refused: ${err.reason}`;
    throw err;
  }
}

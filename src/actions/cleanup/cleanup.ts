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
import path from "node:path";
import type { CompanySettings } from "../../config/schema.js";
import { ErrorCodes, WardenError } from "../../errors.js";
import { type Category, classifyFile } from "../../fleet/classify-file.js";
import type { ActionContext } from "../action-context.js";
import { backUpBeforeChange } from "../backup/verified-backup.js";
import type { CompanyHold } from "../company-hold.js";
import {
  auditChange,
  auditFailure,
  type ChangeRequest,
  checkedCompanyFolder,
  holdFor,
} from "../hold-for-change.js";
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

/** What to clean (the context gives the store, clock, folders and keys). */
export interface CleanupRequest extends ChangeRequest {
  /** The company's settings (default: the config's for it). */
  settings?: Pick<CompanySettings, "cleanup" | "preKeyReserve" | "backups">;
  mode?: CleanupMode;
  /** Lowers minAge to 0 (every other rule stays). */
  force?: boolean;
  /** Plan only: no hold, no backup, nothing deleted, no audit row. */
  dryRun?: boolean;
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

/** One cleanup under way: what it was asked, and what it has done so far (for the audit row). */
interface Run {
  context: ActionContext;
  request: CleanupRequest;
  settings: NonNullable<CleanupRequest["settings"]>;
  mode: CleanupMode;
  action: string;
  dir: string;
  plan?: CleanupPlan;
  backup?: string;
  deleted: number;
}

/** Plans, backs up, verifies and deletes; records an audit row whatever the outcome. */
export async function runCleanup(context: ActionContext, request: CleanupRequest): Promise<CleanupResult> {
  const mode = request.mode ?? "smart";
  const run: Run = {
    context,
    request,
    settings: request.settings ?? context.settings(request.company),
    mode,
    action: request.narrow?.action ?? (mode === "reset" ? "reset" : "cleanup"),
    dir: await checkedCompanyFolder(context, request.company),
    deleted: 0,
  };
  if (request.dryRun) return dryRun(run);
  const hold = await holdFor(context, request);
  let target: CleanupTarget | undefined;
  try {
    // Planned under the hold: no socket writes into the folder (or its rows) from here on.
    target = await openCleanupTarget(run.dir, request.company, context.authStore);
    const plan = request.narrow ? await request.narrow.plan(await target.files()) : await planOf(run, target);
    run.plan = plan;
    if (plan.delete.length === 0) return nothingToDelete(run, plan);
    return await backUpAndDelete(run, plan, target, hold);
  } catch (err) {
    auditFailure(
      context,
      request,
      run.action,
      err,
      { ...detailOf(run), planned: run.plan?.delete.length ?? null },
      `failed after deleting ${run.deleted} file(s)`,
    );
    throw err;
  } finally {
    await target?.close();
    hold.release(`${run.action} done`);
  }
}

/** The plan without a hold, a backup or an audit row. */
async function dryRun(run: Run): Promise<CleanupResult> {
  const { company } = run.request;
  const target = await openCleanupTarget(run.dir, company, run.context.authStore);
  try {
    const plan = await planOf(run, target);
    return { company, mode: run.mode, dryRun: true, plan, deleted: 0, backup: null, auditId: null };
  } finally {
    await target.close();
  }
}

/** The audit detail every outcome shares. */
function detailOf(run: Run): Record<string, unknown> {
  return { ...run.request.narrow?.detail, mode: run.mode, backup: run.backup ?? null, deleted: run.deleted };
}

function nothingToDelete(run: Run, plan: CleanupPlan): CleanupResult {
  const { company } = run.request;
  const auditId = auditChange(run.context, run.request, {
    action: run.action,
    ok: true,
    result: `nothing to delete (${plan.keep} files kept)`,
    detail: {
      ...run.request.narrow?.detail,
      mode: run.mode,
      force: run.request.force === true,
      deleted: 0,
      kept: plan.keep,
    },
  });
  return { company, mode: run.mode, dryRun: false, plan, deleted: 0, backup: null, auditId };
}

/** A verified backup holding every planned key, then exactly the plan deleted (unchanged keys only). */
async function backUpAndDelete(
  run: Run,
  plan: CleanupPlan,
  target: CleanupTarget,
  hold: CompanyHold,
): Promise<CleanupResult> {
  const { context, request } = run;
  const backup = await backUpBeforeChange(context, hold, {
    company: request.company,
    dir: run.dir,
    reason: run.mode === "reset" ? "pre-reset" : "pre-cleanup",
    unchanged: "nothing deleted",
    keep: run.settings.backups.keep,
    check: (manifest) => {
      const names = new Set(manifest.files.map((f) => f.name));
      const missing = plan.delete.filter((d) => !names.has(d.file)).map((d) => d.file);
      return missing.length === 0
        ? null
        : `lacks ${missing.length} planned file(s) (${missing.slice(0, 3).join(", ")})`;
    },
    onProgress: (done, total) => request.onProgress?.("backup", done, total),
  });
  run.backup = backup.path;
  refuseNeverDeleted(run, plan);
  const inBackup = new Map(backup.manifest.files.map((f) => [f.name, f.sha256]));
  // A key changed since the backup (something wrote it despite the hold) is kept rather than lost.
  const current = await target.hashes(plan.delete.map((d) => d.file));
  const doomed = plan.delete
    .map((d) => d.file)
    .filter((name) => current.has(name) && current.get(name) === inBackup.get(name));
  run.deleted = await target.remove(doomed, (done) => {
    if (done % 500 === 0) hold.renew();
    request.onProgress?.("delete", done, plan.delete.length);
  });
  const auditId = auditChange(context, request, {
    action: run.action,
    ok: true,
    result: `deleted ${run.deleted} of ${plan.delete.length} planned files (${Math.round(plan.bytesFreed / 1024)} KB), kept ${plan.keep}; backup ${backup.path}`,
    detail: {
      ...detailOf(run),
      force: request.force === true,
      planned: plan.delete.length,
      kept: plan.keep,
      files: plan.delete.slice(0, 200).map((d) => d.file),
    },
  });
  const { company } = request;
  return { company, mode: run.mode, dryRun: false, plan, deleted: run.deleted, backup: backup.path, auditId };
}

/** creds and app-state keys are refused at the last line, whatever the plan says (invariant 14). */
function refuseNeverDeleted(run: Run, plan: CleanupPlan): void {
  for (const d of plan.delete) {
    if (NEVER_DELETED.has(classifyFile(d.file))) {
      throw new WardenError(
        ErrorCodes.DELETE_REFUSED,
        `Refusing to delete ${path.join(run.dir, d.file)}: creds and app-state files are never deleted`,
        { company: run.request.company, file: d.file },
      );
    }
  }
}

/** The mode's plan, from the company's down intervals (idleness counts connected time only). */
function planOf(run: Run, target: CleanupTarget): Promise<CleanupPlan> {
  const { clock, store } = run.context;
  const now = clock.now();
  const down = downIntervalsOf(
    store.connections.eventsSince(run.request.company, now - DOWN_HISTORY_MS),
    now,
  );
  return makePlan(target, run.mode, run.settings, now, run.request.force === true, down);
}

async function makePlan(
  target: CleanupTarget,
  mode: CleanupMode,
  settings: Run["settings"],
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

/**
 * `warden cleanup | backup | backups | verify | restore`: the recovery actions for humans and cron.
 * Each returns its exit status and writes its result to stdout (JSON with --json); progress goes
 * to stderr.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ActionContext } from "../actions/action-context.js";
import { type BackupInfo, listBackups, verifyBackup } from "../actions/backup/backup.js";
import { backUpAndRecord } from "../actions/backup/verified-backup.js";
import { runCleanup } from "../actions/cleanup/cleanup.js";
import { openCleanupTarget } from "../actions/cleanup/cleanup-target.js";
import { removeCompany } from "../actions/remove-company.js";
import { finishInterruptedRestore } from "../actions/restore/folder-swap.js";
import { findBackup, runRestore } from "../actions/restore/restore.js";
import { wardenCommand } from "../cli-invocation.js";
import { assertCompanyFolder, assertCompanyId, isCompanyId } from "../config/company-id.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError, ExitCodes } from "../errors.js";
import { resolveKeepPreKeys } from "../fleet/prekey-reserve.js";
import { backupsRoot } from "../home-layout.js";
import type { Store } from "../store/store.js";
import { createProgress } from "./progress.js";

/** What every recovery command is given. */
export interface RecoveryContext {
  config: WardenConfig;
  store: Store;
  /** WARDEN_HOME. */
  home: string;
  backupKey: string | undefined;
  /** What the actions act through (the process's one context). */
  actions: ActionContext;
  json: boolean;
  /** "cli:<user>". */
  actor: string;
  out: (text: string) => void;
}

/** `warden cleanup <company> [--dry-run] [--force] [--stop] [--json]`. */
export async function cleanupCommand(
  ctx: RecoveryContext,
  company: string,
  flags: { dryRun: boolean; force: boolean; stop: boolean; reset?: boolean },
): Promise<number> {
  await finishInterruptedRestore(ctx.home, ctx.config.sessionsDir, assertCompanyId(company));
  const progress = createProgress(`cleanup ${company}`, { enabled: !flags.dryRun });
  const result = await runCleanup(ctx.actions, {
    company,
    actor: ctx.actor,
    ...(flags.reset ? { mode: "reset" as const } : {}),
    force: flags.force || flags.reset === true,
    dryRun: flags.dryRun,
    stopFirst: flags.stop,
    onProgress: (phase, done, total) => progress.update(done, total, phase),
  }).finally(() => progress.done());
  const listed = [...result.plan.delete].sort((a, b) => byNumber.compare(a.file, b.file));
  const why = listed.length === 0 ? await whyNothing(ctx, company, flags.force) : undefined;
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        company,
        delete: listed.map((d) => ({ file: d.file, category: d.category, reason: d.reason })),
        ...(why ? { why } : {}),
        keepCount: result.plan.keepCount,
        dryRun: result.dryRun,
        deleted: result.deleted,
        bytesFreed: result.plan.bytesFreed,
        backup: result.backup,
      }),
    );
    return ExitCodes.OK;
  }
  const byCategory = new Map<string, number>();
  for (const d of result.plan.delete) byCategory.set(d.category, (byCategory.get(d.category) ?? 0) + 1);
  const summary = [...byCategory].map(([c, n]) => `${n} ${c}`).join(", ") || "nothing";
  const kb = Math.round(result.plan.bytesFreed / 1024);
  if (result.dryRun) {
    ctx.out(
      `${company}: would delete ${result.plan.delete.length} files (${summary}; ${kb} KB), keep ${result.plan.keepCount}`,
    );
    for (const d of listed.slice(0, 20)) ctx.out(`  ${d.file}: ${d.reason}`);
    if (why) ctx.out(why);
    if (result.plan.delete.length > 20)
      ctx.out(`  ... and ${result.plan.delete.length - 20} more (--json lists all)`);
    ctx.out("Dry run: nothing was changed.");
  } else {
    if (why) ctx.out(why);
    ctx.out(
      `${company}: deleted ${result.deleted} files (${summary}; ${kb} KB), kept ${result.plan.keepCount}` +
        (result.backup ? `\nbackup (verified): ${result.backup}` : ""),
    );
  }
  return ExitCodes.OK;
}

/** `warden backup <company>|--all [--json]`. */
export async function backupCommand(
  ctx: RecoveryContext,
  company: string | undefined,
  all: boolean,
): Promise<number> {
  const companies = all ? await listCompanyFolders(ctx.config.sessionsDir) : [company as string];
  const progress = createProgress("backup", { enabled: all });
  const results: Record<string, unknown>[] = [];
  let failed = 0;
  for (const [i, id] of companies.entries()) {
    progress.update(i, companies.length, id);
    try {
      const dir = assertCompanyFolder(ctx.config.sessionsDir, id);
      const { created, verified } = await backUpAndRecord(
        ctx.actions,
        { company: id, actor: ctx.actor, dir, reason: "manual" },
        all ? undefined : (done, total) => progress.update(done, total, id),
      );
      if (!verified.ok) failed++;
      results.push({
        company: id,
        ok: verified.ok,
        backup: created.path,
        files: created.manifest.files.length,
        size: created.size,
        encrypted: created.encrypted,
        pruned: created.pruned,
        problems: verified.problems,
      });
    } catch (err) {
      if (!all) throw err;
      failed++;
      results.push({ company: id, ok: false, error: describeError(err) });
    }
  }
  progress.update(companies.length, companies.length);
  progress.done();
  if (ctx.json) ctx.out(JSON.stringify(all ? { backups: results } : results[0]));
  else
    for (const r of results) {
      if (r.error) ctx.out(`${r.company}: FAILED: ${String(r.error)}`);
      else
        ctx.out(
          `${r.company}: ${r.ok ? "backup verified" : "backup FAILED verification"}: ${String(r.backup)} (${String(r.files)} files, ${Math.round(Number(r.size) / 1024)} KB${r.encrypted ? ", encrypted" : ""})`,
        );
    }
  if (all && !ctx.json) ctx.out(`${companies.length - failed} of ${companies.length} companies backed up`);
  return failed > 0 ? ExitCodes.FAILURE : ExitCodes.OK;
}

/** `warden backups <company> [--json]`. */
export async function backupsCommand(ctx: RecoveryContext, company: string): Promise<number> {
  const backups = await listBackups(backupsRoot(ctx.home), company);
  if (ctx.json) {
    ctx.out(JSON.stringify({ company, backups: backups.map(publicInfo) }));
    return ExitCodes.OK;
  }
  if (backups.length === 0) {
    ctx.out(`${company}: no backups in ${path.join(backupsRoot(ctx.home), company)}`);
    return ExitCodes.OK;
  }
  for (const b of backups)
    ctx.out(
      `${b.name}  ${b.createdAt}  ${b.reason}  ${Math.round(b.size / 1024)} KB${b.encrypted ? "  encrypted" : ""}`,
    );
  return ExitCodes.OK;
}

/** `warden verify <company> [backup] [--json]`: the named backup, or every backup of the company. */
export async function verifyCommand(ctx: RecoveryContext, company: string, name?: string): Promise<number> {
  const targets =
    name !== undefined
      ? [await findBackup(backupsRoot(ctx.home), company, name)]
      : await listBackups(backupsRoot(ctx.home), company);
  const results = [];
  for (const b of targets) {
    const v = await verifyBackup(b.path, { key: ctx.backupKey, company });
    ctx.store.backupVerifications.record(company, b.name, v.ok, v.problems, Date.now());
    results.push({
      backup: b.name,
      path: b.path,
      ok: v.ok,
      files: v.manifest?.files.length ?? null,
      problems: distinctProblems(v.problems),
    });
  }
  const bad = results.filter((r) => !r.ok).length;
  if (ctx.json) ctx.out(JSON.stringify({ company, results }));
  else if (results.length === 0)
    ctx.out(
      `${company}: no backups to verify in ${path.join(backupsRoot(ctx.home), company)} (${wardenCommand(`backup ${company}`)} makes one)`,
    );
  else
    for (const r of results)
      ctx.out(
        r.ok
          ? `OK    ${r.backup} (${r.files} files)`
          : `FAIL  ${r.backup}: ${r.problems[0] ?? "unknown problem"}`,
      );
  // No backup at all is a failure for a script asking "is there a good backup?".
  return bad > 0 || results.length === 0 ? ExitCodes.FAILURE : ExitCodes.OK;
}

/** `warden restore <company> [backup] [--stop] [--json]`. */
export async function restoreCommand(
  ctx: RecoveryContext,
  company: string,
  name: string | undefined,
  flags: { stop: boolean },
): Promise<number> {
  const result = await runRestore(ctx.actions, {
    company,
    ...(name !== undefined ? { backup: name } : {}),
    actor: ctx.actor,
    stopFirst: flags.stop,
  });
  if (ctx.json) ctx.out(JSON.stringify(result));
  else {
    ctx.out(`${company}: restored ${result.files} files from ${result.backup}`);
    if (result.movedAside) ctx.out(`the previous folder is kept in ${result.movedAside}`);
    const desired = ctx.store.control.desired(company).desired;
    if (desired === "stop")
      ctx.out(`${company} is stopped; connect it with: ${wardenCommand(`start ${company}`)}`);
  }
  return ExitCodes.OK;
}

/** File names in numeric order (pre-key-9 before pre-key-10), the same on every machine. */
const byNumber = new Intl.Collator("en", { numeric: true });

/** One line per distinct problem: a corrupt archive repeats the same tar error per block. */
export function distinctProblems(problems: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].map(([p, n]) => (n > 1 ? `${p} (x${n})` : p));
}

/** Why a plan is empty: files held by minAge (and until when), or nothing the rules would delete. */
async function whyNothing(ctx: RecoveryContext, company: string, forced: boolean): Promise<string> {
  const settings = companySettings(ctx.config, company);
  const minAge = settings.cleanup.minAge;
  if (!forced) {
    const withForce = await runCleanup(ctx.actions, {
      company,
      settings,
      actor: ctx.actor,
      force: true,
      dryRun: true,
      stopFirst: false,
    });
    const held = withForce.plan.delete.length;
    if (held > 0) {
      // Files or rows: the same ages the plan was made from.
      const target = await openCleanupTarget(
        path.join(ctx.config.sessionsDir, company),
        company,
        ctx.actions.authStore,
      );
      const mtimes = new Map(
        (await target.files().finally(() => target.close())).map((f) => [f.name, f.mtimeMs]),
      );
      const first = Math.min(...withForce.plan.delete.map((d) => mtimes.get(d.file) ?? Date.now()));
      return `Nothing to delete yet: ${held} files match the rules but are younger than cleanup.minAge (${formatDuration(minAge)}); the first becomes eligible on ${new Date(first + minAge).toISOString()}. --force would delete ${held}.`;
    }
  }
  return `Nothing to delete: every file is kept by the rules (the newest ${resolveKeepPreKeys(settings.cleanup.keepPreKeys)} pre-keys, sessions used within ${formatDuration(settings.cleanup.sessionMaxAge)}, sender keys within ${formatDuration(settings.cleanup.senderKeyMaxAge)}); creds.json and app-state files are never deleted.`;
}

function publicInfo(b: BackupInfo) {
  return {
    name: b.name,
    path: b.path,
    createdAt: b.createdAt,
    reason: b.reason,
    size: b.size,
    encrypted: b.encrypted,
  };
}

async function listCompanyFolders(sessionsDir: string): Promise<string[]> {
  const entries = await readdir(sessionsDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && isCompanyId(e.name))
    .map((e) => e.name)
    .sort();
}

/** `warden remove <company> [--stop]`: verified backup, folder moved to WARDEN_HOME/removed, audit. */
export async function removeCommand(
  ctx: RecoveryContext,
  company: string,
  flags: { stop: boolean },
): Promise<number> {
  const result = await removeCompany(ctx.actions, { company, actor: ctx.actor, stopFirst: flags.stop });
  if (ctx.json) ctx.out(JSON.stringify(result));
  else
    ctx.out(
      `${company}: removed; folder moved to ${result.movedTo}${result.databaseMovedTo ? `, database to ${result.databaseMovedTo}` : ""}, backup ${result.backup} (verified), audit #${result.auditId}`,
    );
  return ExitCodes.OK;
}

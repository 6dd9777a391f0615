/**
 * /cleanup, /restore (preview, then Confirm / Cancel), /backup, /backups: the same executors as
 * `warden cleanup <c> --stop`, `warden restore <c> [backup] --stop`, `warden backup` and
 * `warden backups`; a new pairing of a logged-out company as `warden pair <c> --new --stop`. A confirmation is a single-use button row with a 2-minute expiry in SQLite, so
 * a double press or a press after a restart acts at most once.
 */
import path from "node:path";
import { listBackups } from "../../actions/backup/backup.js";
import { backUpAndRecord } from "../../actions/backup/verified-backup.js";
import { runCleanup } from "../../actions/cleanup/cleanup.js";
import { prepareNewPairing } from "../../actions/pairing/new-pairing.js";
import { findBackup, runRestore } from "../../actions/restore/restore.js";
import { escapeHtml } from "../../alerts/format-alert.js";
import { assertCompanyFolder } from "../../config/company-id.js";
import { ErrorCodes, WardenError } from "../../errors.js";
import type { CallbackRow } from "../../store/bot.js";
import { type BotCommand, type BotDeps, type CommandOutcome, type Requester, text } from "../bot-context.js";
import { askForQr, qrComing } from "../qr-asks.js";

/** How long a Confirm button works. */
export const CONFIRM_TTL_MS = 2 * 60_000;

/** WARDEN_HOME/backups (HOME_UNSET without WARDEN_HOME). */
const backupsRoot = (deps: BotDeps) => deps.actions.backupsRoot;

/** A preview answer with Confirm / Cancel buttons for `op` on `company`. */
export function confirmation(
  deps: BotDeps,
  req: Requester,
  company: string,
  op: "cleanup" | "restore" | "pair-new",
  args: Record<string, unknown>,
  html: string,
): CommandOutcome {
  const now = deps.clock.now();
  const confirm = deps.store.bot.addCallback(
    {
      action: "confirm",
      company,
      chat: req.chat,
      user: req.user,
      args: { op, ...args },
      expiresAt: now + CONFIRM_TTL_MS,
    },
    now,
  );
  const cancel = deps.store.bot.addCallback(
    { action: "cancel", company, chat: req.chat, user: req.user, args: { confirm } },
    now,
  );
  return {
    replies: [
      {
        html: `${html}\n<i>Confirm within 2 minutes.</i>`,
        buttons: [
          [
            { text: "Confirm", callback_data: confirm },
            { text: "Cancel", callback_data: cancel },
          ],
        ],
      },
    ],
    result: `${op} preview (confirmation ${confirm})`,
  };
}

/** The dry-run plan of a cleanup, with Confirm / Cancel. */
export async function cleanupPreview(
  deps: BotDeps,
  req: Requester,
  company: string,
): Promise<CommandOutcome> {
  const plan = await runCleanup(deps.actions, { company, actor: req.actor, dryRun: true });
  const deletions = plan.plan.delete;
  if (deletions.length === 0)
    return text(
      `<b>${escapeHtml(company)}</b>: nothing to delete (${plan.plan.keepCount} files kept).`,
      "cleanup preview: nothing to delete",
    );
  const byCategory = new Map<string, number>();
  for (const d of deletions) byCategory.set(d.category, (byCategory.get(d.category) ?? 0) + 1);
  const summary = [...byCategory].map(([c, n]) => `${n} ${c}`).join(", ");
  return confirmation(
    deps,
    req,
    company,
    "cleanup",
    {},
    [
      `<b>Cleanup ${escapeHtml(company)}</b> (dry run)`,
      `Would delete ${deletions.length} files (${escapeHtml(summary)}; ${Math.round(plan.plan.bytesFreed / 1024)} KB), keep ${plan.plan.keepCount}.`,
      "Confirm stops the company, backs it up (verified), deletes exactly this plan and reconnects it.",
    ].join("\n"),
  );
}

/** What a confirmed action answers; `control`: a request whose acknowledgement follows. */
export interface ConfirmedOutcome {
  html: string;
  control?: number;
}

/** Carries out a confirmed cleanup, restore or new pairing (the caller claimed the confirmation). */
export async function runConfirmed(
  deps: BotDeps,
  row: CallbackRow,
  req: Requester,
): Promise<ConfirmedOutcome> {
  const { actor } = req;
  const company = row.company;
  if (row.args.op === "pair-new") {
    const prepared = await prepareNewPairing(deps.actions, { company, actor, stopFirst: true });
    const phone = typeof row.args.phone === "string" ? row.args.phone : undefined;
    const id = deps.store.control.request(company, "pair", phone ? { phone } : {}, actor, deps.clock.now());
    const ttl = askForQr(deps, req.user, company);
    return {
      html: `<b>${escapeHtml(company)}</b>: backup <code>${escapeHtml(path.basename(prepared.backup))}</code> verified, the paired folder moved aside; pairing requested (#${id}).\n${qrComing(company, ttl, req.private)}`,
      control: id,
    };
  }
  if (row.args.op === "cleanup") {
    const result = await runCleanup(deps.actions, { company, actor, stopFirst: true });
    return {
      html: `<b>${escapeHtml(company)}</b>: deleted ${result.deleted} files, kept ${result.plan.keepCount}.${result.backup ? `\nBackup (verified): <code>${escapeHtml(path.basename(result.backup))}</code>` : ""}`,
    };
  }
  if (row.args.op === "restore") {
    const result = await runRestore(deps.actions, {
      company,
      ...(typeof row.args.backup === "string" ? { backup: row.args.backup } : {}),
      actor,
      stopFirst: true,
    });
    return {
      html: `<b>${escapeHtml(company)}</b>: restored ${result.files} files from <code>${escapeHtml(path.basename(result.backup))}</code>.${result.movedAside ? "\nThe previous folder is kept in WARDEN_HOME/replaced." : ""}`,
    };
  }
  throw new WardenError(
    ErrorCodes.CONFIRMATION_UNKNOWN,
    `unknown confirmation ${JSON.stringify(row.args.op)}`,
  );
}

/** /cleanup <company>. */
export const cleanupCommand: BotCommand = {
  name: "cleanup",
  usage: "<company>",
  description: "the cleanup plan, then Confirm / Cancel",
  company: "required",
  maxArgs: 1,
  run: (deps, req, company) => cleanupPreview(deps, req, company as string),
};

/** /restore <company> [backup]. */
export const restoreCommand: BotCommand = {
  name: "restore",
  usage: "<company> [backup]",
  description: "restore a backup (default: newest), after Confirm",
  company: "required",
  maxArgs: 2,
  run: async (deps, req, company, args) => {
    const c = company as string;
    const backup = await findBackup(backupsRoot(deps), c, args[0]);
    return confirmation(
      deps,
      req,
      c,
      "restore",
      { backup: backup.name },
      [
        `<b>Restore ${escapeHtml(c)}</b> from <code>${escapeHtml(backup.name)}</code> (${escapeHtml(backup.createdAt)}, ${Math.round(backup.size / 1024)} KB)`,
        "Confirm stops the company, verifies the backup, swaps it in (the current folder is kept aside) and reconnects it.",
      ].join("\n"),
    );
  },
};

/** /backup <company>. */
export const backupCommand: BotCommand = {
  name: "backup",
  usage: "<company>",
  description: "back up (and verify) a company now",
  company: "required",
  maxArgs: 1,
  run: async (deps, req, company) => {
    const c = company as string;
    const { created, verified } = await backUpAndRecord(deps.actions, {
      company: c,
      actor: req.actor,
      dir: assertCompanyFolder(deps.config().sessionsDir, c),
      reason: "manual",
    });
    const result = verified.ok
      ? `backup ${created.name} verified`
      : `backup ${created.name} failed verification`;
    return text(
      `<b>${escapeHtml(c)}</b>: ${verified.ok ? "backup verified" : "backup FAILED verification"}: <code>${escapeHtml(created.name)}</code> (${created.manifest.files.length} files, ${Math.round(created.size / 1024)} KB${created.encrypted ? ", encrypted" : ""})`,
      result,
      verified.ok,
    );
  },
};

/** /backups <company>. */
export const backupsCommand: BotCommand = {
  name: "backups",
  usage: "<company>",
  description: "a company's backups, newest first",
  company: "required",
  maxArgs: 1,
  run: async (deps, _req, company) => {
    const c = company as string;
    const backups = await listBackups(backupsRoot(deps), c);
    if (backups.length === 0) return text(`<b>${escapeHtml(c)}</b>: no backups.`, "backups: none");
    const lines = backups.map(
      (b) =>
        `<code>${escapeHtml(b.name)}</code> ${escapeHtml(b.reason)} ${Math.round(b.size / 1024)} KB${b.encrypted ? " encrypted" : ""}`,
    );
    return text(
      [`<b>${escapeHtml(c)}</b>: ${backups.length} backup(s)`, ...lines].join("\n"),
      `backups: ${backups.length}`,
    );
  },
};

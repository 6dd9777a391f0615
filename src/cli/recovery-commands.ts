/** The table entries of `warden cleanup | backup | backups | verify | restore` (handlers in recovery.ts). */
import { assertCompanyId } from "../config/company-id.js";
import type { Store } from "../store/store.js";
import { type CliContext, type CommandSpec, usageError } from "./command.js";
import {
  backupCommand,
  backupsCommand,
  cleanupCommand,
  type RecoveryContext,
  removeCommand,
  restoreCommand,
  verifyCommand,
} from "./recovery.js";

function recoveryContext(ctx: CliContext): RecoveryContext {
  return {
    config: ctx.config(),
    store: ctx.store() as Store,
    home: ctx.env.home,
    backupKey: ctx.env.backupKey,
    actions: ctx.actions(),
    json: ctx.json,
    actor: ctx.actor,
    out: ctx.out,
  };
}

const REFUSES =
  "Refuses while a worker holds the company: stop it first (warden stop <company>) or pass --stop.";

/** `warden cleanup|backup|backups|verify|restore|remove`. */
export const recoveryCommands: readonly CommandSpec[] = [
  {
    name: "cleanup",
    argsUsage: "<company>",
    summary: "smart cleanup: plan, back up (verified), delete the plan, audit",
    details: `Never deletes creds.json or app-state files; keeps the newest pre-keys. ${REFUSES}`,
    options: {
      "dry-run": { type: "boolean", description: "print the plan (and why it is empty), change nothing" },
      force: { type: "boolean", description: "ignore cleanup.minAge (every other rule stays)" },
      stop: { type: "boolean", description: "stop the company first, reconnect it afterwards" },
      reset: {
        type: "boolean",
        description:
          "the reset plan: every key file but creds.json and app-state (what the ladder does only with ladder.autoReset); a person's call",
      },
    },
    args: { min: 1, max: 1 },
    run: async (ctx, { args, options }) =>
      cleanupCommand(recoveryContext(ctx), assertCompanyId(args[0] as string), {
        dryRun: options["dry-run"] === true,
        force: options.force === true,
        stop: options.stop === true,
        reset: options.reset === true,
      }),
  },
  {
    name: "backup",
    argsUsage: "<company> | --all",
    summary: "back up (and verify) a company folder, or every company",
    options: { all: { type: "boolean", description: "every company folder in sessionsDir" } },
    args: { min: 0, max: 1 },
    run: async (ctx, { args, options }) => {
      const spec = recoveryCommands[1] as CommandSpec;
      if (options.all === true && args.length > 0)
        throw usageError("backup takes a company or --all, not both", spec);
      if (options.all !== true && args.length === 0)
        throw usageError("backup needs a company (or --all)", spec);
      return backupCommand(
        recoveryContext(ctx),
        args[0] === undefined ? undefined : assertCompanyId(args[0]),
        options.all === true,
      );
    },
  },
  {
    name: "backups",
    argsUsage: "<company>",
    summary: "list a company's backups, newest first",
    args: { min: 1, max: 1 },
    run: async (ctx, { args }) => backupsCommand(recoveryContext(ctx), assertCompanyId(args[0] as string)),
  },
  {
    name: "verify",
    argsUsage: "<company> [backup]",
    summary: "verify one backup, or all of the company's (exit 1 if one fails or none exist)",
    args: { min: 1, max: 2 },
    run: async (ctx, { args }) =>
      verifyCommand(recoveryContext(ctx), assertCompanyId(args[0] as string), args[1]),
  },
  {
    name: "restore",
    argsUsage: "<company> [backup]",
    summary: "verify, then swap the backup (default: newest) in for the folder",
    details: `The previous folder is kept in WARDEN_HOME/replaced. ${REFUSES}`,
    options: { stop: { type: "boolean", description: "stop the company first (it stays stopped)" } },
    args: { min: 1, max: 2 },
    run: async (ctx, { args, options }) =>
      restoreCommand(recoveryContext(ctx), assertCompanyId(args[0] as string), args[1], {
        stop: options.stop === true,
      }),
  },
  {
    name: "remove",
    argsUsage: "<company>",
    summary: "decommission: back up (verified), move the folder to WARDEN_HOME/removed, audit",
    details: `Nothing is deleted; no worker recreates the folder. ${REFUSES}`,
    options: { stop: { type: "boolean", description: "stop the company first" } },
    args: { min: 1, max: 1 },
    run: async (ctx, { args, options }) =>
      removeCommand(recoveryContext(ctx), assertCompanyId(args[0] as string), {
        stop: options.stop === true,
      }),
  },
];

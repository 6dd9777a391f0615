/** `warden auth migrate <company> --to files|sqlite [--stop]`: the command around runAuthMigrate. */
import { runAuthMigrate } from "../actions/auth-migrate.js";
import { STORE_KINDS, type StoreKind } from "../auth-store/store-choice.js";
import { systemClock } from "../clock.js";
import { assertCompanyId } from "../config/company-id.js";
import { ExitCodes } from "../errors.js";
import type { Store } from "../store/store.js";
import { type CommandSpec, usageError } from "./command.js";

/** `warden auth migrate`. */
export const authMigrateCommand: CommandSpec = {
  name: "auth migrate",
  argsUsage: "<company>",
  summary: "move a company's keys between its folder (files) and a database store (sqlite)",
  details:
    "Under the company's hold: copies every key (a file's mtime becomes its row's times and back),\nverifies key by key both ways, switches warden-auth.json, moves the old store to\nWARDEN_HOME/replaced/<company>/. On any failure the copy is removed and the company keeps its store.\nRefuses while a worker holds the company: stop it first (warden stop <company>) or pass --stop.",
  options: {
    to: { type: "string", value: STORE_KINDS.join("|"), description: "the store to move to" },
    stop: { type: "boolean", description: "stop the company first; it reconnects on the new store" },
  },
  args: { min: 1, max: 1 },
  async run(ctx, { args, options }) {
    const company = assertCompanyId(args[0] as string);
    const to = options.to;
    if (typeof to !== "string" || !(STORE_KINDS as readonly string[]).includes(to))
      throw usageError(
        `--to must be one of ${STORE_KINDS.join(", ")}, got ${JSON.stringify(to)}`,
        authMigrateCommand,
      );
    const config = ctx.config();
    const result = await runAuthMigrate({
      store: ctx.store() as Store,
      clock: systemClock,
      sessionsDir: config.sessionsDir,
      company,
      to: to as StoreKind,
      access: { home: ctx.env.home, passphrase: ctx.env.authKey ?? ctx.env.backupKey, pgUrl: ctx.env.pgUrl },
      actor: ctx.actor,
      stopFirst: options.stop === true,
    });
    if (ctx.json) ctx.out(JSON.stringify(result, null, 2));
    else
      ctx.out(
        `${company}: ${result.keys} keys moved from ${result.from} to ${result.to}, verified key by key; the old store is in ${result.archived}`,
      );
    return ExitCodes.OK;
  },
};

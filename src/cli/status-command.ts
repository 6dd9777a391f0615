/** `warden status [company] [--json]`: the command around collectStatus / renderStatusTable. */
import { ExitCodes } from "../errors.js";
import type { CommandSpec } from "./command.js";
import { collectStatus, renderStatusTable } from "./status.js";

/** `warden status`. */
export const statusCommand: CommandSpec = {
  name: "status",
  argsUsage: "[company]",
  summary: "files per company (total, counted, by category), level, connection, mute",
  details:
    "Scans the folders now and joins what the supervisor and the workers recorded. The level is the\nalert level in force (with hysteresis), the one the alerts use. With a company: categories, the\nconnection's last reason, the pairing QR or code.",
  args: { min: 0, max: 1 },
  async run(ctx, { args }) {
    const config = ctx.config();
    const store = ctx.store({ ifExists: true });
    const now = ctx.now();
    const rows = await collectStatus(config, store, now, args[0]);
    if (ctx.json) ctx.out(JSON.stringify({ companies: rows }, null, 2));
    else ctx.out(renderStatusTable(rows, now, args[0] !== undefined));
    return ExitCodes.OK;
  },
};

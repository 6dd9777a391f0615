/** `warden status [company] [--json]`: the command around collectStatus / renderStatusTable. */
import type { WardenConfig } from "../config/load.js";
import { ExitCodes } from "../errors.js";
import { resolvePreKeyReserve } from "../fleet/prekey-reserve.js";
import type { CommandSpec } from "./command.js";
import { collectFleet, renderFleet } from "./fleet-status.js";
import { collectStatus, renderStatusTable } from "./status.js";

/** `warden status`. */
export const statusCommand: CommandSpec = {
  name: "status",
  argsUsage: "[company]",
  summary: "network outage (if any), then files per company (total, counted, by category), level, connection",
  details:
    "Scans the folders now and joins what the supervisor and the workers recorded. The level is the\nalert level in force (with hysteresis), the one the alerts use. With a company: categories, the\nconnection's last reason, the pairing QR or code. A company whose folder or database cannot be\nread is shown with its error and no counts; the exit status is then 1.",
  args: { min: 0, max: 1 },
  async run(ctx, { args }) {
    const config = ctx.config();
    const store = ctx.store({ ifExists: true });
    const now = ctx.now();
    const rows = await collectStatus(config, store, now, args[0], ctx.env.home, ctx.env.pgUrl);
    const fleet = collectFleet(config, store);
    // Mutes from `warden mute` / the bot still running (the config's mutedUntil is in config check).
    const mutes = rows.flatMap((r) => {
      const mute = store?.mutes.get(r.id);
      return mute && mute.until > now ? [mute] : [];
    });
    if (ctx.json) ctx.out(JSON.stringify({ fleet, companies: rows, mutes }, null, 2));
    else
      ctx.out(
        [
          ...renderFleet(fleet, now),
          renderStatusTable(rows, now, args[0] !== undefined),
          ...mutes.map(
            (m) => `${m.company}: alerts muted until ${new Date(m.until).toISOString()} by ${m.actor}`,
          ),
          "",
          countingRule(config),
        ].join("\n"),
      );
    // Exit 1 when a company's folder or database could not be read: the others are still shown.
    return rows.some((r) => r.scanError) ? ExitCodes.FAILURE : ExitCodes.OK;
  },
};

/** The counting rule in force, so COUNTED and LEVEL can be read without the README. */
function countingRule(config: WardenConfig): string {
  const d = config.defaults;
  const reserve =
    d.preKeyReserve === "auto" ? `"auto" = ${resolvePreKeyReserve("auto")}` : String(d.preKeyReserve);
  const basis =
    d.count.basis === "stale"
      ? "stale files (what a cleanup would delete now)"
      : d.count.basis === "counted"
        ? `every file but the newest pre-keys of preKeyReserve (${reserve})`
        : "every file";
  const t = d.thresholds;
  const overrides =
    config.companies.size > 0 ? ` (${config.companies.size} companies override settings)` : "";
  return `Counted (count.basis "${d.count.basis}"): ${basis}; levels at monitor ${t.monitor}, warning ${t.warning}, critical ${t.critical}, fatal ${t.fatal}, left ${d.alerts.hysteresis} below${overrides}.`;
}

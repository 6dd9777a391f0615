/** `warden mute <company> <duration>` and `warden unmute <company>`: hold a company's alerts without editing a file. */
import { assertCompanyFolder, assertCompanyId } from "../config/company-id.js";
import { parseDuration } from "../config/duration.js";
import { companySettings } from "../config/load.js";
import { ExitCodes } from "../errors.js";
import type { Store } from "../store/store.js";
import { type CommandSpec, usageError } from "./command.js";

/** `warden mute`. */
export const muteCommand: CommandSpec = {
  name: "mute",
  argsUsage: "<company> <duration>",
  summary: 'hold a company\'s count alerts for a while ("2h", "1d"); levels still move',
  details:
    "Shorthand for `warden silence <company> --for <duration>`: held alerts are summarised when it\nends; audited. Muting again replaces the earlier mute. The config's mutedUntil drops alerts instead.",
  args: { min: 2, max: 2 },
  async run(ctx, { args }) {
    const company = assertCompanyId(args[0] as string);
    const ms = parseDuration(args[1] as string);
    if (ms === undefined || ms <= 0)
      throw usageError(
        `mute takes a duration like "30m", "2h" or "1d", got ${JSON.stringify(args[1])}`,
        this,
      );
    // Muting a typo would silently hold nothing: the company's folder must exist.
    assertCompanyFolder(ctx.config().sessionsDir, company);
    const now = ctx.now();
    const until = now + ms;
    (ctx.store() as Store).mutes.set(company, until, ctx.actor, now);
    if (ctx.json)
      ctx.out(JSON.stringify({ company, mutedUntil: new Date(until).toISOString(), actor: ctx.actor }));
    else
      ctx.out(
        `${company}: alerts muted until ${new Date(until).toISOString()} (warden unmute ${company} to undo)`,
      );
    return ExitCodes.OK;
  },
};

/** `warden unmute`. */
export const unmuteCommand: CommandSpec = {
  name: "unmute",
  argsUsage: "<company>",
  summary: "end a mute set with warden mute (or /mute in Telegram)",
  details: "A mutedUntil in the config stays: edit the file for that one.",
  args: { min: 1, max: 1 },
  async run(ctx, { args }) {
    const company = assertCompanyId(args[0] as string);
    const config = ctx.config();
    const had = (ctx.store() as Store).mutes.clear(company, ctx.actor, ctx.now());
    const configured = companySettings(config, company).mutedUntil;
    const stillByConfig = configured !== null && configured > ctx.now();
    if (ctx.json) {
      ctx.out(
        JSON.stringify({
          company,
          unmuted: had,
          mutedByConfigUntil: stillByConfig ? new Date(configured).toISOString() : null,
        }),
      );
    } else {
      ctx.out(had ? `${company}: alerts unmuted` : `${company}: was not muted by warden mute`);
      if (stillByConfig)
        ctx.out(
          `note: mutedUntil in the config still holds alerts until ${new Date(configured).toISOString()}`,
        );
    }
    return ExitCodes.OK;
  },
};

/**
 * On call from the shell: `warden ack`, `warden silence`, `warden silences`, `warden unsilence`,
 * `warden digest`. The same store functions as the bot's /ack, /silence, /silences, /unsilence and
 * /digest; audited as `cli:<user>`. The supervisor delivers what they queue (an ack's message
 * edits) on its next on-call pass.
 */
import { ackIncidents } from "../alerts/ack.js";
import { silenceEndsAt } from "../alerts/silence-window.js";
import { assertCompanyFolder, assertCompanyId } from "../config/company-id.js";
import { companySettings } from "../config/load.js";
import { ExitCodes } from "../errors.js";
import { backupsRoot } from "../home-layout.js";
import { buildDigest, renderDigestText } from "../http/digest.js";
import { silenceEnd } from "../store/silences.js";
import type { Store } from "../store/store.js";
import { type CommandSpec, usageError } from "./command.js";

/** `warden ack <company> [--incident N]`. */
export const ackCommand: CommandSpec = {
  name: "ack",
  argsUsage: "<company>",
  summary: "I have this: ack the company's open incidents (stops reminders and escalation)",
  details:
    "Records who and when (audited), edits the Telegram alerts to show the ack. A new incident of\nthe company (a higher level, a new down episode) starts unacked again.",
  options: { incident: { type: "string", value: "N", description: "ack only incident N" } },
  args: { min: 1, max: 1 },
  async run(ctx, { args, options }) {
    const company = assertCompanyId(args[0] as string);
    const raw = options.incident;
    const incident = typeof raw === "string" ? Number(raw.replace(/^#/, "")) : undefined;
    if (incident !== undefined && !Number.isInteger(incident))
      throw usageError(`--incident takes an incident number, got ${JSON.stringify(raw)}`, this);
    const store = ctx.store() as Store;
    const acked = ackIncidents(
      store,
      ctx.config(),
      company,
      { actor: ctx.actor, name: ctx.actor },
      ctx.now(),
      incident,
    );
    if (ctx.json)
      ctx.out(JSON.stringify({ company, acked: acked.map((i) => ({ id: i.id, title: i.title })) }));
    else if (acked.length === 0) ctx.out(`${company}: nothing to ack (no open unacked incident)`);
    else for (const i of acked) ctx.out(`${company}: acked incident #${i.id} (${i.title})`);
    return ExitCodes.OK;
  },
};

/** `warden silence <company|--all> --for 2h|--until <time> --reason "…"`. */
export const silenceCommand: CommandSpec = {
  name: "silence",
  argsUsage: "<company>|--all",
  summary: "hold a company's (or every company's) alerts and reminders for a while",
  details:
    "The fleet's own failures (database, disk, Telegram, workers) are never held. What a silence\nheld is summarised once when it ends. --until takes HH:MM (next such time in the company's\nmaintenance.timezone) or an ISO date-time.",
  options: {
    all: { type: "boolean", description: "every company" },
    for: { type: "string", value: "DURATION", description: "how long, e.g. 2h" },
    until: { type: "string", value: "TIME", description: "until HH:MM or an ISO date-time" },
    reason: { type: "string", value: "TEXT", description: "why (shown in the list and the summary)" },
  },
  args: { min: 0, max: 1 },
  async run(ctx, { args, options }) {
    const all = options.all === true;
    if (all === (args[0] !== undefined)) throw usageError("give a company or --all (not both)", this);
    const company = all ? null : assertCompanyId(args[0] as string);
    // Silencing a typo would silently hold nothing: the company's folder must exist.
    if (company !== null) assertCompanyFolder(ctx.config().sessionsDir, company);
    const now = ctx.now();
    const zone = companySettings(ctx.config(), company ?? "").maintenance.timezone;
    const endsAt = silenceEndsAt(
      {
        ...(typeof options.for === "string" ? { for: options.for } : {}),
        ...(typeof options.until === "string" ? { until: options.until } : {}),
      },
      now,
      zone,
    );
    const reason = typeof options.reason === "string" ? options.reason : "";
    const id = (ctx.store() as Store).silences.add(company, now, endsAt, reason, ctx.actor, now);
    if (ctx.json)
      ctx.out(JSON.stringify({ silence: id, company, until: new Date(endsAt).toISOString(), reason }));
    else
      ctx.out(
        `silence #${id}: ${company ?? "every company"} until ${new Date(endsAt).toISOString()}${reason ? ` (${reason})` : ""} (warden unsilence ${id} to end it)`,
      );
    return ExitCodes.OK;
  },
};

/** `warden silences`. */
export const silencesCommand: CommandSpec = {
  name: "silences",
  summary: "the silences in force or planned (mutes included)",
  args: { min: 0, max: 0 },
  async run(ctx) {
    const store = ctx.store({ ifExists: true });
    const rows = store?.silences.current(ctx.now()) ?? [];
    if (ctx.json)
      ctx.out(
        JSON.stringify(
          rows.map((s) => ({
            id: s.id,
            company: s.company,
            until: new Date(silenceEnd(s)).toISOString(),
            reason: s.reason,
            actor: s.actor,
          })),
        ),
      );
    else if (rows.length === 0) ctx.out("no silences");
    else
      for (const s of rows)
        ctx.out(
          `#${s.id}  ${s.company ?? "(every company)"}  until ${new Date(silenceEnd(s)).toISOString()}  by ${s.actor}${s.reason ? `  ${s.reason}` : ""}`,
        );
    return ExitCodes.OK;
  },
};

/** `warden unsilence <id|company|--all>`. */
export const unsilenceCommand: CommandSpec = {
  name: "unsilence",
  argsUsage: "<id>|<company>|--all",
  summary: "end silences now; what they held is summarised",
  options: { all: { type: "boolean", description: "the silences of every company (set with --all)" } },
  args: { min: 0, max: 1 },
  async run(ctx, { args, options }) {
    const all = options.all === true;
    const target = args[0];
    if (all === (target !== undefined)) throw usageError("give a silence id, a company or --all", this);
    const store = ctx.store() as Store;
    const now = ctx.now();
    const current = store.silences.current(now);
    const chosen = all
      ? current.filter((s) => s.company === null)
      : /^#?\d+$/.test(target as string)
        ? current.filter((s) => s.id === Number((target as string).replace("#", "")))
        : current.filter((s) => s.company === assertCompanyId(target as string));
    const ended = store.silences.end(
      chosen.map((s) => s.id),
      ctx.actor,
      now,
    );
    if (ctx.json) ctx.out(JSON.stringify({ ended: chosen.map((s) => s.id).slice(0, ended) }));
    else ctx.out(ended > 0 ? `ended ${ended} silence(s)` : "no such silence in force");
    return ExitCodes.OK;
  },
};

/** `warden digest`. */
export const digestCommand: CommandSpec = {
  name: "digest",
  summary: "open problems per company (down, QR, level, backups, incidents) with the commands that help",
  args: { min: 0, max: 0 },
  async run(ctx) {
    const store = ctx.store() as Store;
    const config = ctx.config();
    const now = ctx.now();
    const digest = await buildDigest(
      store,
      config,
      backupsRoot(ctx.env.home),
      store.companies.listPresent().map((r) => r.id),
      now,
    );
    ctx.out(ctx.json ? JSON.stringify(digest, null, 2) : renderDigestText(digest));
    return ExitCodes.OK;
  },
};

/** Every on-call command, in help order. */
export const onCallCommands: readonly CommandSpec[] = [
  ackCommand,
  silenceCommand,
  silencesCommand,
  unsilenceCommand,
  digestCommand,
];

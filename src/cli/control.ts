/**
 * `warden reconnect|stop|start|pair <company>`: a control request through SQLite, picked up by the
 * worker that owns the company (within about a second) and acknowledged with a result.
 */
import { awaitControlRequest } from "../actions/await-control-request.js";
import { prepareNewPairing } from "../actions/pairing/new-pairing.js";
import { isAllowedUser } from "../bot/authorize.js";
import { cliInvocation, thisInstall, wardenCommand } from "../cli-invocation.js";
import { systemClock } from "../clock.js";
import { assertCompanyFolder, assertCompanyId } from "../config/company-id.js";
import { parseDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { ErrorCodes, ExitCodes, WardenError } from "../errors.js";
import type { ControlAction, ControlRequest } from "../store/control.js";
import type { Store } from "../store/store.js";
import { type CommandOption, type CommandSpec, usageError } from "./command.js";

/**
 * Queues a request made by `actor` ("cli:<user>", from the entry) and waits for its
 * acknowledgement, or withdraws it after `timeoutMs`.
 */
export async function runControl(
  config: WardenConfig,
  store: Store,
  company: string,
  action: ControlAction,
  args: Record<string, unknown>,
  timeoutMs: number,
  actor: string,
  /** The pm2 daemon this shell addresses (WARDEN env's pm2Home), named in the timeout's hint. */
  pm2Home?: string,
): Promise<ControlRequest> {
  assertCompanyFolder(config.sessionsDir, company);
  return awaitControlRequest({
    store,
    clock: systemClock,
    company,
    action,
    args,
    requestedBy: actor,
    timeoutMs,
    cancelReason: "no worker picked it up in time",
    timeoutError: () =>
      new WardenError(
        ErrorCodes.CONTROL_TIMEOUT,
        `No worker picked up "${action} ${company}" within ${Math.round(timeoutMs / 1000)}s; the request was withdrawn. Is warden-worker running? (${pm2List(pm2Home)})`,
        { company, action },
      ),
  });
}

/** `npx pm2 ls` against the given daemon (PM2_HOME spelled out when it is not ~/.pm2). */
function pm2List(pm2Home: string | undefined): string {
  if (pm2Home === undefined) return thisInstall().pm2("ls");
  return cliInvocation(thisInstall().kind, { pm2Home, configFile: "" }).pm2("ls");
}

const TIMEOUT: CommandOption = {
  type: "string",
  value: "D",
  description: 'how long to wait for the worker\'s answer (default "15s")',
};

/** What `pair` says once the worker answered: what happened and what to wait for, not a bare "done". */
function pairOutcome(done: ControlRequest, store: Store, company: string, phone: string | undefined): string {
  if (!done.ok) return done.result ?? "the worker refused the request";
  const pairing = store.connections.pairing(company);
  if (phone) {
    return pairing?.pairingCode
      ? `${company}: pairing code ${pairing.pairingCode}: on the phone ${phone}, WhatsApp > Linked devices > Link with phone number. Then watch: ${wardenCommand(`status ${company}`)}`
      : `${company}: pairing started for ${phone}; the pairing code appears in \`${wardenCommand(`status ${company}`)}\` within seconds (WhatsApp sends it to the worker first).`;
  }
  return pairing?.qr
    ? `${company}: pairing started; the QR is ready: ${wardenCommand(`status ${company}`)} shows it (a new one about every 20 s).`
    : `${company}: pairing started; no QR yet: WhatsApp sends the first one within seconds. Run \`${wardenCommand(`status ${company}`)}\` to see it (a new one about every 20 s).`;
}

/**
 * `pair --to <telegram user id>`: the QR (or code) goes to that user's private chat with the bot,
 * for `pairing.qrTtl`. Only a user allowed for the company (an admin or one of its operators) may
 * be named: a pairing QR takes over the WhatsApp account of whoever scans it.
 */
function askQrFor(config: WardenConfig, store: Store, company: string, to: string, spec: CommandSpec): void {
  if (!/^\d{1,15}$/.test(to))
    throw usageError(`--to takes a Telegram user id (digits), got ${JSON.stringify(to)}`, spec);
  const user = Number(to);
  if (!isAllowedUser(config, user, company))
    throw new WardenError(
      ErrorCodes.BOT_NOT_ALLOWED,
      `Telegram user ${user} is neither in telegram.admins nor in telegram.operators of ${company}: the QR goes only to an allowed user. Add them to ${company}'s company file first.`,
      { company, user },
    );
  const now = systemClock.now();
  const ttl = companySettings(config, company).pairing.qrTtl;
  store.bot.askQr({ company, chat: String(user), user, askedAt: now, until: now + ttl });
}

function controlCommand(
  name: ControlAction,
  summary: string,
  details: string,
  extra: Record<string, CommandOption> = {},
): CommandSpec {
  return {
    name,
    argsUsage: "<company>",
    summary,
    details,
    options: { timeout: TIMEOUT, ...extra },
    args: { min: 1, max: 1 },
    async run(ctx, { args, options }) {
      const company = assertCompanyId(args[0] as string);
      const phone = options.phone as string | undefined;
      if (phone !== undefined && !/^\d{8,15}$/.test(phone))
        throw usageError("--phone takes digits only, with the country code (8-15 digits)", this);
      const timeoutMs = options.timeout === undefined ? 15_000 : parseDuration(options.timeout as string);
      if (timeoutMs === undefined)
        throw usageError(
          `--timeout takes a duration like "15s", got ${JSON.stringify(options.timeout)}`,
          this,
        );
      if (options.stop && !options.new) throw usageError("--stop goes with --new", this);
      const config = ctx.config();
      const store = ctx.store() as Store;
      if (options.to !== undefined) askQrFor(config, store, company, options.to as string, this);
      if (options.new) {
        const prepared = await prepareNewPairing(ctx.actions(), {
          company,
          actor: ctx.actor,
          stopFirst: options.stop === true,
        });
        if (!ctx.json)
          ctx.out(
            `${prepared.company}: backup ${prepared.backup} verified; the paired folder is in ${prepared.movedAside}`,
          );
      }
      const done = await runControl(
        config,
        store,
        company,
        name,
        phone ? { phone } : {},
        timeoutMs,
        ctx.actor,
        ctx.env.pm2Home,
      );
      if (ctx.json)
        ctx.out(
          JSON.stringify({
            id: done.id,
            company: done.company,
            action: done.action,
            ok: done.ok,
            result: done.result,
          }),
        );
      else ctx.out(name === "pair" ? pairOutcome(done, store, company, phone) : String(done.result));
      if (!done.ok) {
        if (!ctx.json) ctx.err(`warden: ${name} ${company} failed`);
        return ExitCodes.FAILURE;
      }
      return ExitCodes.OK;
    },
  };
}

/** `warden reconnect|stop|start|pair`. */
export const controlCommands: readonly CommandSpec[] = [
  controlCommand(
    "reconnect",
    "close the company's socket (no logout) and open a new one",
    "Sent to the worker that holds the company; it answers within about a second.",
  ),
  controlCommand(
    "stop",
    "close the socket (no logout); it stays stopped until started",
    "The stop is remembered in SQLite: restarts of the workers keep the company stopped.",
  ),
  controlCommand("start", "connect a stopped company", "Undoes `warden stop`."),
  controlCommand(
    "pair",
    "pair a company without creds: QR (see status) or a pairing code for --phone",
    "--new: a paired company gets a new pairing (backup verified, the folder moved to\nWARDEN_HOME/replaced, creds snapshots retired); --stop stops it first.",
    {
      phone: {
        type: "string",
        value: "N",
        description: "pair with a code for this number (digits, country code)",
      },
      new: { type: "boolean", description: "replace an existing pairing (backup first)" },
      stop: { type: "boolean", description: "with --new: stop the company first" },
      to: {
        type: "string",
        value: "ID",
        description:
          "also send the QR (or code) to this Telegram user's private chat (an admin or an operator of the company)",
      },
    },
  ),
];

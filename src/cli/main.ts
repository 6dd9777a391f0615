#!/usr/bin/env node
/**
 * Entry file of the `warden` CLI. Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { prepareNewPairing } from "../actions/new-pairing.js";
import { systemClock } from "../clock.js";
import { assertCompanyId } from "../config/company-id.js";
import { parseDuration } from "../config/duration.js";
import { companySettings, loadConfig } from "../config/load.js";
import { readEnv } from "../env.js";
import { ConfigError, describeError, ErrorCodes, ExitCodes, exitCodeFor, WardenError } from "../errors.js";
import { openStore, type Store } from "../store/store.js";
import { effectiveConfig } from "./config-check.js";
import { runControl } from "./control.js";
import { doctorCommand } from "./doctor.js";
import { healthCommand } from "./health.js";
import {
  backupCommand,
  backupsCommand,
  backupsRootOf,
  cleanupCommand,
  type RecoveryContext,
  restoreCommand,
  verifyCommand,
} from "./recovery.js";
import { collectStatus, renderStatusTable } from "./status.js";
import { testAlertCommand } from "./test-alert.js";

const USAGE = `Usage: warden <command> [options]

Commands:
  status [company] [--json]     files per company (total, counted, by category), level, connection
  config check [company]        validate the configuration and print the effective settings
  health [--watch] [--json]     workers, outbox, outage, companies per level and down, ladder steps
  doctor [--json]               check config, pm2 apps, Telegram, WhatsApp probe, disk, database, inotify
  test-alert [--json]           send one test message to every configured Telegram chat
  reconnect <company> [--json]  close the company's socket (no logout) and open a new one
  stop <company> [--json]       close the socket (no logout); it stays stopped until started
  start <company> [--json]      connect a stopped company
  pair <company> [--phone N] [--new [--stop]]
                                pair a company without creds: QR (see status) or a code for phone N;
                                --new: a paired company gets a new pairing (backup verified, the
                                folder moved to WARDEN_HOME/replaced, creds snapshots retired)
  cleanup <company> [--dry-run] [--force] [--stop] [--json]
                                smart cleanup: plan, back up (verified), delete the plan, audit.
                                --force ignores cleanup.minAge (every other rule stays);
                                --stop stops the company first and reconnects it afterwards
  backup <company>|--all [--json]
                                back up (and verify) a company folder, or every company
  backups <company> [--json]    list a company's backups, newest first
  verify <company> [backup] [--json]
                                verify one backup, or all of the company's
  restore <company> [backup] [--stop] [--json]
                                verify, then swap the backup (default: newest) in for the folder;
                                the previous folder is kept in WARDEN_HOME/replaced

Destructive commands (cleanup, restore) refuse while a worker holds the company: stop it first
(warden stop <company>) or pass --stop.

Environment: WARDEN_CONFIG (config/warden.json), WARDEN_HOME (./data), WARDEN_BACKUP_KEY (encrypts backups)
Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error`;

const RECOVERY_COMMANDS = new Set(["cleanup", "backup", "backups", "verify", "restore"]);

function usage(message: string): never {
  throw new WardenError(ErrorCodes.USAGE, `${message}\n\n${USAGE}`);
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
          phone: { type: "string" },
          timeout: { type: "string" },
          "dry-run": { type: "boolean", default: false },
          force: { type: "boolean", default: false },
          stop: { type: "boolean", default: false },
          all: { type: "boolean", default: false },
          new: { type: "boolean", default: false },
          watch: { type: "boolean", default: false },
        },
      });
    } catch (err) {
      return usage(describeError(err));
    }
  })();
  const [command, ...rest] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return ExitCodes.OK;
  }
  if (!command) usage("No command given.");
  const env = readEnv(process.env);

  if (command === "health") return healthCommand(env, { json: values.json, watch: values.watch });
  if (command === "doctor") return doctorCommand(env, { json: values.json });
  if (command === "test-alert") return testAlertCommand(env, { json: values.json });

  if (command === "config") {
    const [sub, company, ...extra] = rest;
    if (sub !== "check" || extra.length > 0)
      usage(`Unknown config command ${JSON.stringify(sub ?? "")}; use: warden config check [company]`);
    const config = loadConfig(env.configFile);
    process.stdout.write(`${JSON.stringify(effectiveConfig(config, company), null, 2)}\n`);
    process.stderr.write(`Config OK: ${config.file}\n`);
    return ExitCodes.OK;
  }

  if (command === "status") {
    if (rest.length > 1) usage("status takes at most one company id");
    const config = loadConfig(env.configFile);
    const dbFile = path.join(env.home, "warden.db");
    const store: Store | undefined = existsSync(dbFile) ? openStore(dbFile) : undefined;
    try {
      const now = Date.now();
      const rows = await collectStatus(config, store, now, rest[0]);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ companies: rows }, null, 2)}\n`);
      } else {
        process.stdout.write(`${renderStatusTable(rows, now, rest[0] !== undefined)}\n`);
      }
      return ExitCodes.OK;
    } finally {
      store?.close();
    }
  }

  if (command === "reconnect" || command === "stop" || command === "start" || command === "pair") {
    if (rest.length !== 1) usage(`${command} takes exactly one company id`);
    const phone = values.phone;
    if (phone !== undefined && (command !== "pair" || !/^\d{8,15}$/.test(phone))) {
      usage(
        command === "pair" ? "--phone takes digits only, with the country code" : "--phone goes with pair",
      );
    }
    const timeoutMs = values.timeout === undefined ? 15_000 : parseDuration(values.timeout);
    if (timeoutMs === undefined)
      usage(`--timeout takes a duration like "15s", got ${JSON.stringify(values.timeout)}`);
    if (values.new && command !== "pair") usage("--new goes with pair");
    if (values.stop && !values.new) usage("--stop goes with cleanup, restore and pair --new");
    const config = loadConfig(env.configFile);
    const store = openStore(path.join(env.home, "warden.db"));
    try {
      if (values.new) {
        const prepared = await prepareNewPairing({
          store,
          clock: systemClock,
          sessionsDir: config.sessionsDir,
          home: env.home,
          backupsRoot: backupsRootOf(env.home),
          company: assertCompanyId(rest[0] as string),
          actor: `cli:${process.env.USER ?? "unknown"}`,
          stopFirst: values.stop,
          backupKey: env.backupKey,
          keep: companySettings(config, rest[0] as string).backups.keep,
        });
        if (!values.json)
          process.stdout.write(
            `${prepared.company}: backup ${prepared.backup} verified; the paired folder is in ${prepared.movedAside}\n`,
          );
      }
      const done = await runControl(
        config,
        store,
        rest[0] as string,
        command,
        phone ? { phone } : {},
        timeoutMs,
      );
      if (values.json)
        process.stdout.write(
          `${JSON.stringify({ id: done.id, company: done.company, action: done.action, ok: done.ok, result: done.result })}\n`,
        );
      else process.stdout.write(`${done.result}\n`);
      if (!done.ok) {
        if (!values.json) process.stderr.write(`warden: ${command} ${done.company} failed\n`);
        return ExitCodes.FAILURE;
      }
      return ExitCodes.OK;
    } finally {
      store.close();
    }
  }

  if (RECOVERY_COMMANDS.has(command)) {
    const [company, name, ...extra] = rest;
    if (command === "backup" && values.all) {
      if (rest.length > 0) usage("backup takes a company id or --all, not both");
    } else if (!company) usage(`${command} needs a company id`);
    const maxArgs = command === "verify" || command === "restore" ? 2 : 1;
    if (rest.length > maxArgs || extra.length > 0) usage(`${command} takes at most ${maxArgs} argument(s)`);
    if ((values["dry-run"] || values.force) && command !== "cleanup")
      usage("--dry-run and --force go with cleanup");
    if (values.stop && command !== "cleanup" && command !== "restore")
      usage("--stop goes with cleanup and restore");
    if (values.all && command !== "backup") usage("--all goes with backup");
    const config = loadConfig(env.configFile);
    const store = openStore(path.join(env.home, "warden.db"));
    const ctx: RecoveryContext = {
      config,
      store,
      home: env.home,
      backupKey: env.backupKey,
      json: values.json,
      actor: `cli:${process.env.USER ?? "unknown"}`,
      out: (text) => process.stdout.write(`${text}\n`),
    };
    try {
      if (company !== undefined) assertCompanyId(company);
      switch (command) {
        case "cleanup":
          return await cleanupCommand(ctx, company as string, {
            dryRun: values["dry-run"],
            force: values.force,
            stop: values.stop,
          });
        case "backup":
          return await backupCommand(ctx, company, values.all);
        case "backups":
          return await backupsCommand(ctx, company as string);
        case "verify":
          return await verifyCommand(ctx, company as string, name);
        default:
          return await restoreCommand(ctx, company as string, name, { stop: values.stop });
      }
    } finally {
      store.close();
    }
  }

  return usage(`Unknown command ${JSON.stringify(command)}.`);
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(
      `Configuration error in ${String(err.context.file)}:\n${err.issues.map((i) => `  - ${i}`).join("\n")}\n`,
    );
  } else {
    process.stderr.write(`warden: ${describeError(err)}\n`);
  }
  process.exitCode = exitCodeFor(err);
}

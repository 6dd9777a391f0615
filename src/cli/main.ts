#!/usr/bin/env node
/**
 * Entry file of the `warden` CLI. Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "../config/duration.js";
import { loadConfig } from "../config/load.js";
import { readEnv } from "../env.js";
import { ConfigError, describeError, ErrorCodes, ExitCodes, exitCodeFor, WardenError } from "../errors.js";
import { openStore, type Store } from "../store/store.js";
import { effectiveConfig } from "./config-check.js";
import { runControl } from "./control.js";
import { collectStatus, renderStatusTable } from "./status.js";

const USAGE = `Usage: warden <command> [options]

Commands:
  status [company] [--json]     files per company (total, counted, by category), level, connection
  config check [company]        validate the configuration and print the effective settings
  reconnect <company> [--json]  close the company's socket (no logout) and open a new one
  stop <company> [--json]       close the socket (no logout); it stays stopped until started
  start <company> [--json]      connect a stopped company
  pair <company> [--phone N]    pair a company without creds: QR (see status) or a code for phone N

Environment: WARDEN_CONFIG (config/warden.json), WARDEN_HOME (./data)
Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error`;

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
    const config = loadConfig(env.configFile);
    const store = openStore(path.join(env.home, "warden.db"));
    try {
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

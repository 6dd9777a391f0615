#!/usr/bin/env node
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { type ActionContext, createActionContext } from "../actions/action-context.js";
/**
 * Entry file of the `warden` CLI: finds the command in the table (commands.ts), parses its
 * options, runs it, and maps errors to exit codes (0 ok, 1 failure, 2 usage, 78 configuration
 * error). With --json, errors are JSON on stdout too, with their stable code.
 */
import { systemClock } from "../clock.js";
import { listCompanyIds } from "../config/company-id.js";
import { loadConfig, type WardenConfig } from "../config/load.js";
import { readEnv, type WardenEnv } from "../env.js";
import { describeError, ErrorCodes, ExitCodes, exitCodeFor, WardenError } from "../errors.js";
import { databaseFile } from "../home-layout.js";
import { openStore, type Store } from "../store/store.js";
import {
  type CliContext,
  commandHelp,
  didYouMean,
  findCommand,
  overviewHelp,
  parseCommandArgs,
  usageError,
} from "./command.js";
import { COMMANDS } from "./commands.js";
import { errorJson, formatError } from "./report-error.js";

/** The audit actor: $USER, else the OS account (cron and systemd often leave $USER unset). */
function actorOf(env: WardenEnv): string {
  let user = env.user;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = `uid-${process.getuid?.() ?? "unknown"}`;
    }
  }
  return `cli:${user}`;
}

/** The package version, read from the package.json next to src/ or dist/. */
function version(): string {
  const file = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * An unknown company gets the closest company id of sessionsDir as a "did you mean" (the CLI
 * runs on the host, where every folder is visible; the bot suggests only the asker's companies).
 */
function withCompanyGuess(err: unknown, ctx: CliContext): unknown {
  if (!(err instanceof WardenError) || err.code !== ErrorCodes.COMPANY_UNKNOWN) return err;
  const company = err.context.company;
  if (typeof company !== "string") return err;
  let ids: string[];
  try {
    ids = listCompanyIds(ctx.config().sessionsDir);
  } catch {
    // A broken config is reported by the commands that need it; the error stands as it is.
    return err;
  }
  const guess = didYouMean(
    company,
    ids.filter((id) => id !== company),
  );
  if (!guess) return err;
  return new WardenError(
    err.code,
    `${err.message}; did you mean "${guess}"?`,
    { ...err.context, guess },
    {
      cause: err,
    },
  );
}

async function run(argv: string[], ctx: CliContext): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "version") {
    ctx.out(ctx.json ? JSON.stringify({ version: version() }) : `warden ${version()}`);
    return ExitCodes.OK;
  }
  if (argv.length === 0) {
    ctx.err(`No command given.\n\n${overviewHelp(COMMANDS)}`);
    return ExitCodes.USAGE;
  }
  if (argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    const topic = argv[0] === "help" ? findCommand(COMMANDS, argv.slice(1)) : undefined;
    ctx.out(topic ? commandHelp(topic.spec) : overviewHelp(COMMANDS));
    return ExitCodes.OK;
  }
  const found = findCommand(COMMANDS, argv);
  if (!found) {
    const words = argv.filter((a) => !a.startsWith("-"));
    if (words.length === 0) throw usageError(`Unknown option ${argv[0]}: give a command first`);
    const typed = words.slice(0, COMMANDS.some((c) => c.name.startsWith(`${words[0]} `)) ? 2 : 1).join(" ");
    const guess = didYouMean(
      typed,
      COMMANDS.map((c) => c.name),
    );
    throw usageError(`Unknown command "${typed}"${guess ? `; did you mean "${guess}"?` : ""}`);
  }
  const input = parseCommandArgs(found.spec, found.rest);
  if (input.options.help) {
    ctx.out(commandHelp(found.spec));
    return ExitCodes.OK;
  }
  return found.spec.run(ctx, input);
}

const argv = process.argv.slice(2);
// `warden cleanup … | head -1`: the reader went away; stop quietly instead of an EPIPE stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? ExitCodes.OK);
  process.stderr.write(`warden: writing the output failed: ${describeError(err)}\n`);
  process.exit(ExitCodes.FAILURE);
});

const json = argv.includes("--json");
let env: WardenEnv;
try {
  env = readEnv();
} catch (err) {
  // A refused secret file: say which and how to fix it, exit 78 (pm2 does not restart on it).
  process.stderr.write(`warden: ${describeError(err)}\n`);
  process.exit(exitCodeFor(err));
}
let config: WardenConfig | undefined;
let store: Store | undefined;
let actions: ActionContext | undefined;
const ctx: CliContext = {
  env,
  actor: actorOf(env),
  json,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  config: () => {
    config ??= loadConfig(env.configFile);
    return config;
  },
  store: (options) => {
    if (store) return store;
    const file = databaseFile(env.home);
    if (options?.ifExists && !existsSync(file)) return undefined;
    store = openStore(file);
    return store;
  },
  actions: () => {
    actions ??= createActionContext({
      store: ctx.store() as Store,
      clock: systemClock,
      config: ctx.config,
      home: env.home,
      backupKey: env.backupKey,
      authKey: env.authKey,
      pgUrl: env.pgUrl,
    });
    return actions;
  },
  now: () => Date.now(),
};
try {
  process.exitCode = await run(argv, ctx);
} catch (thrown) {
  const err = withCompanyGuess(thrown, ctx);
  if (json) process.stdout.write(`${JSON.stringify(errorJson(err))}\n`);
  else process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = exitCodeFor(err);
} finally {
  store?.close();
}

/**
 * The shape of a `warden` command and the parsing every command shares: options are checked per
 * command (strict), an unknown command or option is answered in one line with a "did you mean",
 * `warden <command> --help` prints the command's own help.
 */
import { parseArgs } from "node:util";
import type { ActionContext } from "../actions/action-context.js";
import type { WardenConfig } from "../config/load.js";
import { didYouMean } from "../did-you-mean.js";
import type { WardenEnv } from "../env-shape.js";
import { ErrorCodes, WardenError } from "../errors.js";
import type { Store } from "../store/store.js";

/** One option of a command (`--json` and `--help` are given to every command). */
export interface CommandOption {
  type: "boolean" | "string";
  short?: string;
  /** Shown in the command's help, e.g. "N" for `--phone N`. */
  value?: string;
  description: string;
}

/** What a command runs with; the config and the store are opened on first use, closed by main. */
export interface CliContext {
  env: WardenEnv;
  /** "cli:<user>" for the audit log. */
  actor: string;
  json: boolean;
  /** A line (or lines) on stdout: the result. */
  out(text: string): void;
  /** A line on stderr: progress, notes. */
  err(text: string): void;
  config(): WardenConfig;
  /** The database; with `ifExists` undefined when WARDEN_HOME has none yet (read-only commands). */
  store(options?: { ifExists?: boolean }): Store | undefined;
  /** What the recovery actions act through (opens the database); built once. */
  actions(): ActionContext;
  now(): number;
}

/** Positional arguments and option values of one invocation. */
export interface CommandInput {
  args: string[];
  options: Record<string, string | boolean | undefined>;
}

/** A `warden` command: one entry of the table in commands.ts. */
export interface CommandSpec {
  /** "status", or two words for a family: "config check". */
  name: string;
  /** Positional arguments as shown in usage: "<company> [backup]". */
  argsUsage?: string;
  /** One line for `warden --help`. */
  summary: string;
  /** Further lines for `warden <command> --help`. */
  details?: string;
  options?: Record<string, CommandOption>;
  /** How many positional arguments it takes. */
  args: { min: number; max: number };
  run(ctx: CliContext, input: CommandInput): Promise<number>;
}

export { didYouMean, editDistance } from "../did-you-mean.js";

/** A usage error (exit 2) naming the command. */
export function usageError(message: string, command?: CommandSpec): WardenError {
  const hint = command ? ` (warden ${command.name} --help)` : " (warden --help)";
  return new WardenError(ErrorCodes.USAGE, `${message}${hint}`, command ? { command: command.name } : {});
}

const COMMON: Record<string, CommandOption> = {
  json: { type: "boolean", description: "machine-readable output on stdout (errors too, with their code)" },
  help: { type: "boolean", short: "h", description: "this help" },
};

/** Parses one command's arguments strictly; unknown options get a one-line "did you mean". */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): CommandInput {
  const options = { ...COMMON, ...spec.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}) },
        ]),
      ),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const text = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(text)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
      const guess = didYouMean(unknown.replace(/^-+/, ""), Object.keys(options));
      throw usageError(
        `${spec.name} has no option ${unknown}${guess ? `; did you mean --${guess}?` : ""}`,
        spec,
      );
    }
    throw usageError(`${spec.name}: ${text.split("\n")[0]}`, spec);
  }
  const input = { args: parsed.positionals, options: parsed.values as CommandInput["options"] };
  if (input.options.help) return input;
  const { min, max } = spec.args;
  if (input.args.length < min || input.args.length > max) {
    const want =
      min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min}-${max}`;
    throw usageError(
      `${spec.name} takes ${want} argument(s)${spec.argsUsage ? ` (${spec.argsUsage})` : ""}, got ${input.args.length}`,
      spec,
    );
  }
  return input;
}

/** `warden <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const options = { ...spec.options, ...COMMON };
  const lines = [
    `Usage: warden ${spec.name}${spec.argsUsage ? ` ${spec.argsUsage}` : ""} [options]`,
    "",
    spec.summary,
  ];
  if (spec.details) lines.push("", spec.details);
  lines.push("", "Options:");
  const shown = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`,
    o.description,
  ]);
  const width = Math.max(...shown.map(([flag]) => (flag as string).length));
  for (const [flag, text] of shown) lines.push(`  ${(flag as string).padEnd(width)}  ${text}`);
  return lines.join("\n");
}

/** `warden --help`: every command of the table, one line each. */
export function overviewHelp(commands: readonly CommandSpec[]): string {
  const rows = commands.map((c) => [`${c.name}${c.argsUsage ? ` ${c.argsUsage}` : ""}`, c.summary]);
  const width = Math.max(...rows.map(([u]) => (u as string).length));
  return [
    "Usage: warden <command> [options]     warden <command> --help for its options",
    "",
    "Commands:",
    ...rows.map(([u, s]) => `  ${(u as string).padEnd(width)}  ${s}`),
    "",
    "Every command takes --json (the result, or the error with its code, as JSON on stdout).",
    "Environment: WARDEN_CONFIG (config/warden.json), WARDEN_HOME (./data), WARDEN_BACKUP_KEY (encrypts backups)",
    "Exit codes: 0 ok, 1 failure, 2 usage, 78 configuration error",
  ].join("\n");
}

/** The command named by the first one or two words of argv, and the rest. */
export function findCommand(
  commands: readonly CommandSpec[],
  argv: string[],
): { spec: CommandSpec; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith("-")).slice(0, 2);
  for (const n of [2, 1]) {
    if (words.length < n) continue;
    const name = words.slice(0, n).join(" ");
    const spec = commands.find((c) => c.name === name);
    if (spec) {
      const rest = [...argv];
      for (const w of words.slice(0, n)) rest.splice(rest.indexOf(w), 1);
      return { spec, rest };
    }
  }
  return undefined;
}

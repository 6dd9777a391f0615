/**
 * Reads warden.json and companies/<id>.json once, validates them strictly and returns a frozen
 * config. Every problem names its file, the key path and what was expected.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { ConfigError, ErrorCodes } from "../errors.js";
import { isCompanyId } from "./company-id.js";
import { jsonErrorIndex, lineColumn } from "./json-position.js";
import {
  type CompanyOverride,
  type CompanySettings,
  companyOverrideSchema,
  type WardenFile,
  wardenFileSchema,
} from "./schema.js";

/** The effective configuration: global settings, company defaults and each company's settings. */
export interface WardenConfig {
  /** Absolute path of warden.json. */
  readonly file: string;
  /** Absolute path of the companies/ override folder beside it. */
  readonly companiesDir: string;
  /** Absolute sessions folder. */
  readonly sessionsDir: string;
  readonly scan: WardenFile["scan"];
  readonly history: WardenFile["history"];
  /** `audit.keep`: audit rows older than this are pruned. */
  readonly audit: WardenFile["audit"];
  readonly workers: WardenFile["workers"];
  readonly fleet: WardenFile["fleet"];
  /** Global Telegram settings: `admins` may command every company. */
  readonly telegram: {
    readonly admins: readonly number[];
    readonly escalateTo: readonly (number | string)[];
  };
  /** Storm grouping of alerts per chat. */
  readonly alerts: {
    readonly groupAbove: number;
    readonly groupWait: number;
    readonly digestAt: string | null;
  };
  readonly http: WardenFile["http"];
  /** Per-company defaults from warden.json. */
  readonly defaults: CompanySettings;
  /** Companies that have an override file, with their merged settings. */
  readonly companies: ReadonlyMap<string, CompanySettings>;
}

/** Where warden.json is: `WARDEN_CONFIG` or `./config/warden.json`. */
export function resolveConfigPath(env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  return path.resolve(cwd, env.WARDEN_CONFIG ?? path.join("config", "warden.json"));
}

/** Loads and validates the whole configuration; throws ConfigError on any problem. */
export function loadConfig(file: string, cwd = process.cwd()): WardenConfig {
  const abs = path.resolve(cwd, file);
  const raw = readJson(abs);
  const parsed = parseWith(wardenFileSchema, raw, abs);
  const { sessionsDir, scan, history, audit, workers, fleet, http, $schema: _schema, ...rest } = parsed;
  const { admins, escalateTo, ...telegram } = rest.telegram;
  const { groupAbove, groupWait, digestAt, ...alerts } = rest.alerts;
  const defaults: CompanySettings = { ...rest, telegram: { ...telegram, operators: [] }, alerts };
  assertThresholdOrder(defaults, abs);

  const companiesDir = path.join(path.dirname(abs), "companies");
  const companies = new Map<string, CompanySettings>();
  for (const name of listOverrideFiles(companiesDir)) {
    const overrideFile = path.join(companiesDir, name);
    const id = name.slice(0, -".json".length);
    if (!isCompanyId(id)) {
      throw new ConfigError(ErrorCodes.CONFIG_INVALID, overrideFile, [
        `the file name must be <company id>.json with a valid company id, got ${JSON.stringify(id)}`,
      ]);
    }
    const override = parseWith(companyOverrideSchema, readJson(overrideFile), overrideFile);
    const merged = mergeCompany(defaults, override);
    assertThresholdOrder(merged, overrideFile);
    companies.set(id, deepFreeze(merged));
  }

  return deepFreeze({
    file: abs,
    companiesDir,
    sessionsDir: path.resolve(cwd, sessionsDir),
    scan,
    history,
    audit,
    workers,
    fleet,
    http,
    telegram: { admins, escalateTo },
    alerts: { groupAbove, groupWait, digestAt },
    defaults,
    companies,
  });
}

/** The settings in force for one company: its override merged over the defaults. */
export function companySettings(config: WardenConfig, company: string): CompanySettings {
  return config.companies.get(company) ?? config.defaults;
}

/** Merges an override over the defaults: objects key by key, telegram.chatIds added to the global ones. */
export function mergeCompany(defaults: CompanySettings, override: CompanyOverride): CompanySettings {
  const chatIds = [...defaults.telegram.chatIds];
  for (const id of override.telegram?.chatIds ?? []) if (!chatIds.includes(id)) chatIds.push(id);
  return {
    thresholds: { ...defaults.thresholds, ...override.thresholds },
    count: { ...defaults.count, ...override.count },
    preKeyReserve: override.preKeyReserve ?? defaults.preKeyReserve,
    alerts: { ...defaults.alerts, ...override.alerts },
    telegram: { chatIds, operators: override.telegram?.operators ?? [] },
    driver: override.driver ?? defaults.driver,
    simulation: { ...defaults.simulation, ...override.simulation },
    pairing: { ...defaults.pairing, ...override.pairing },
    cleanup: { ...defaults.cleanup, ...override.cleanup },
    ladder: {
      ...defaults.ladder,
      ...override.ladder,
      budget: { ...defaults.ladder.budget, ...override.ladder?.budget },
    },
    maintenance: { ...defaults.maintenance, ...override.maintenance },
    backups: { ...defaults.backups, ...override.backups },
    signals: {
      alertAt: { ...defaults.signals.alertAt, ...override.signals?.alertAt },
      repairSessions: override.signals?.repairSessions ?? defaults.signals.repairSessions,
      repairAfter: { ...defaults.signals.repairAfter, ...override.signals?.repairAfter },
    },
    liveness: { ...defaults.liveness, ...override.liveness },
    mutedUntil: override.mutedUntil === undefined ? defaults.mutedUntil : override.mutedUntil,
  };
}

function listOverrideFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return [];
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigError(ErrorCodes.CONFIG_UNREADABLE, dir, [`cannot read: ${(err as Error).message}`], {
      cause: err,
    });
  }
  return names.filter((name) => name.endsWith(".json")).sort();
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : `cannot read (${code ?? (err as Error).message})`;
    throw new ConfigError(ErrorCodes.CONFIG_UNREADABLE, file, [why], { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      file,
      [`invalid JSON: ${locateJsonError(text, err as Error)}`],
      {
        cause: err,
      },
    );
  }
}

/** Describes a JSON syntax error with its line and column. */
function locateJsonError(text: string, err: Error): string {
  const index = jsonErrorIndex(text);
  const reason = err.message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/ in JSON at position \d+/, "");
  if (index < 0) return reason;
  const { line, column } = lineColumn(text, index);
  return index >= text.length
    ? `${reason} (unexpected end of file at line ${line} column ${column})`
    : `${reason} (line ${line} column ${column})`;
}

function parseWith<S extends z.ZodType>(schema: S, data: unknown, file: string): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => describeIssue(issue));
  throw new ConfigError(ErrorCodes.CONFIG_INVALID, file, issues);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => (where === "(top level)" ? key : `${where}.${key}`));
    return `unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `\`${k}\``).join(", ")}`;
  }
  const got = "input" in issue && issue.input !== undefined ? `, got \`${JSON.stringify(issue.input)}\`` : "";
  if (issue.code === "invalid_type" && issue.input === undefined)
    return `\`${where}\` is required (${issue.message})`;
  let expected = issue.message;
  if (issue.code === "too_small" || issue.code === "too_big") {
    const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
    const op = issue.code === "too_small" ? ">=" : "<=";
    if (issue.origin === "string") expected = `Expected a string of ${op} ${String(bound)} characters`;
    else if (issue.origin === "array" || issue.origin === "set")
      expected = `Expected ${op} ${String(bound)} items`;
    else if (!expected.startsWith("Expected")) expected = `Expected a number ${op} ${String(bound)}`;
  }
  if (!expected.startsWith("Expected")) return `\`${where}\`: ${expected}${got}`;
  return `${expected.replace(/^Expected/, `Expected \`${where}\` to be`)}${got}`;
}

function assertThresholdOrder(settings: CompanySettings, file: string): void {
  const order = ["monitor", "warning", "critical", "fatal"] as const;
  const problems: string[] = [];
  for (let i = 1; i < order.length; i++) {
    const lower = order[i - 1] as (typeof order)[number];
    const key = order[i] as (typeof order)[number];
    if (settings.thresholds[key] <= settings.thresholds[lower]) {
      problems.push(
        `Expected \`thresholds.${key}\` to be a number > thresholds.${lower} (${settings.thresholds[lower]}), got \`${settings.thresholds[key]}\``,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(ErrorCodes.CONFIG_INVALID, file, problems);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    if (value instanceof Map) for (const inner of value.values()) deepFreeze(inner);
    else for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

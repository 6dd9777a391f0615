/**
 * `warden config check [company]`: validate and print the effective configuration. Values a
 * setting resolves at run time are shown with what they resolve to (`"auto" (812)`), every
 * duration in one form that warden.json accepts back ("90s", "1h", "14d"; which keys are durations
 * is read from the schema), dates in ISO 8601.
 */

import { existsSync, lstatSync } from "node:fs";
import path from "node:path";
import { assertCompanyId } from "../config/company-id.js";
import { durationPaths } from "../config/json-schema.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { ErrorCodes, ExitCodes, WardenError } from "../errors.js";
import { baileysInitialPreKeyCount, resolvePreKeyReserve } from "../fleet/prekey-reserve.js";
import type { CommandSpec } from "./command.js";

/** Dotted paths of the duration keys, from the schema (`cleanup.sessionMaxAge`, `history.keep`). */
let durations: Set<string> | undefined;
const isDuration = (at: readonly string[]): boolean => {
  durations ??= durationPaths();
  for (let i = 0; i < at.length; i++) if (durations.has(at.slice(i).join("."))) return true;
  return false;
};

const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
] as const;

/** A duration in the largest single unit that states it exactly: "90s", "2h", "14d", "500ms". */
export function toDurationString(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function display(value: unknown, key: string, at: readonly string[]): unknown {
  if (typeof value === "number" && isDuration(at)) return toDurationString(value);
  if (key === "mutedUntil" && typeof value === "number") return new Date(value).toISOString();
  if (key === "preKeyReserve" && value === "auto") return `"auto" (${resolvePreKeyReserve("auto")})`;
  if (key === "keepPreKeys" && value === "auto") return `"auto" (${baileysInitialPreKeyCount()})`;
  if (Array.isArray(value)) return value.map((v) => display(v, "", at));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, display(v, k, [...at, k])]));
  return value;
}

/** The effective config as printed by `config check` (one company's settings when given). */
export function effectiveConfig(config: WardenConfig, company?: string): Record<string, unknown> {
  if (company !== undefined) {
    assertCompanyId(company);
    const override = path.join(config.companiesDir, `${company}.json`);
    if (!config.companies.has(company) && !existsSync(path.join(config.sessionsDir, company)))
      throw new WardenError(
        ErrorCodes.COMPANY_UNKNOWN,
        `Unknown company "${company}": no folder ${path.join(config.sessionsDir, company)} and no ${override}`,
        { company },
      );
    return {
      file: config.file,
      company,
      override: config.companies.has(company) ? override : null,
      settings: display(companySettings(config, company) as CompanySettings, "", []) as Record<
        string,
        unknown
      >,
    };
  }
  return {
    file: config.file,
    sessionsDir: config.sessionsDir,
    ...(display(
      {
        scan: config.scan,
        history: config.history,
        http: config.http,
        workers: config.workers,
        fleet: config.fleet,
        telegram: { admins: config.telegram.admins, escalateTo: config.telegram.escalateTo },
        alerts: config.alerts,
      },
      "",
      [],
    ) as Record<string, unknown>),
    defaults: display(config.defaults, "", []),
    companies: Object.fromEntries([...config.companies].map(([id, s]) => [id, display(s, "", [])])),
  };
}

/**
 * Settings that validate but put a company at risk: a pre-key floor below the installed Baileys'
 * INITIAL_PREKEY_COUNT deletes pre-keys WhatsApp may still hand out (`Invalid PreKey ID` for the
 * next new contact, invariant 14).
 */
export function configWarnings(config: WardenConfig, initialPreKeyCount: number): string[] {
  const warnings: string[] = [];
  const check = (where: string, settings: CompanySettings) => {
    const keep = settings.cleanup.keepPreKeys;
    if (keep !== "auto" && keep < initialPreKeyCount)
      warnings.push(
        `${where}: cleanup.keepPreKeys ${keep} < ${initialPreKeyCount} (Baileys' INITIAL_PREKEY_COUNT): a cleanup may delete pre-keys WhatsApp still hands out, and the next new contact's first message fails with "Invalid PreKey ID". Use "auto".`,
      );
  };
  check(config.file, config.defaults);
  for (const [id, settings] of config.companies)
    if (settings.cleanup.keepPreKeys !== config.defaults.cleanup.keepPreKeys)
      check(`${config.companiesDir}/${id}.json`, settings);
  return warnings;
}

/**
 * Warnings about overrides for companies that have no folder in sessionsDir (a typo in the file
 * name applies to nobody, silently).
 */
export function orphanOverrideWarnings(config: WardenConfig): string[] {
  const warnings: string[] = [];
  for (const company of config.companies.keys()) {
    const dir = path.join(config.sessionsDir, company);
    if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
      warnings.push(
        `${path.join(config.companiesDir, `${company}.json`)}: no company folder ${dir}; this override applies to nothing (a typo in the name?)`,
      );
    }
  }
  return warnings;
}

/** `warden config check [company]`. */
export const configCheckCommand: CommandSpec = {
  name: "config check",
  argsUsage: "[company]",
  summary: "validate the configuration and print the effective settings",
  details:
    'Exits 78 with every problem of warden.json and companies/*.json. Resolved values are shown with\nwhat they resolve to ("auto" (812)); durations in one form warden.json accepts ("90s", "2h", "14d").\nWith a company: its merged settings; an unknown company (no folder, no override) fails.',
  args: { min: 0, max: 1 },
  async run(ctx, { args }) {
    const config = ctx.config();
    const effective = effectiveConfig(config, args[0]);
    ctx.out(JSON.stringify(effective, null, 2));
    for (const warning of configWarnings(config, baileysInitialPreKeyCount())) ctx.err(`Warning: ${warning}`);
    for (const warning of orphanOverrideWarnings(config)) ctx.err(`warning: ${warning}`);
    if (!ctx.json) ctx.err(`Config OK: ${config.file}`);
    return ExitCodes.OK;
  },
};

/** `warden config check [company]`: validate and print the effective configuration. */

import { lstatSync } from "node:fs";
import path from "node:path";
import { assertCompanyId } from "../config/company-id.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";

const asDuration = (ms: number) => formatDuration(ms).replace(/ /g, "");

/** Settings with durations and dates back in their written form. */
function displaySettings(settings: CompanySettings) {
  const sim = settings.simulation;
  return {
    ...settings,
    simulation: {
      ...sim,
      connectAfter: asDuration(sim.connectAfter),
      disconnectAfter: sim.disconnectAfter === null ? null : asDuration(sim.disconnectAfter),
      pairAfter: sim.pairAfter === null ? null : asDuration(sim.pairAfter),
    },
    alerts: {
      ...settings.alerts,
      remindEvery: formatDuration(settings.alerts.remindEvery).replace(/ /g, ""),
    },
    mutedUntil: settings.mutedUntil === null ? null : new Date(settings.mutedUntil).toISOString(),
  };
}

/** The effective config as printed by `config check`. */
export function effectiveConfig(config: WardenConfig, company?: string): Record<string, unknown> {
  if (company !== undefined) {
    assertCompanyId(company);
    return {
      file: config.file,
      company,
      override: config.companies.has(company) ? `${config.companiesDir}/${company}.json` : null,
      settings: displaySettings(companySettings(config, company)),
    };
  }
  return {
    file: config.file,
    sessionsDir: config.sessionsDir,
    scan: {
      reconcileEvery: formatDuration(config.scan.reconcileEvery).replace(/ /g, ""),
      debounce: formatDuration(config.scan.debounce),
    },
    history: { keep: asDuration(config.history.keep) },
    workers: {
      instances: config.workers.instances,
      heartbeatEvery: asDuration(config.workers.heartbeatEvery),
      leaseTtl: asDuration(config.workers.leaseTtl),
      deadAfter: asDuration(config.workers.deadAfter),
      controlPollEvery: asDuration(config.workers.controlPollEvery),
    },
    defaults: displaySettings(config.defaults),
    companies: Object.fromEntries([...config.companies].map(([id, s]) => [id, displaySettings(s)])),
  };
}

/**
 * Settings that validate but put a company at risk: a pre-key floor below the installed Baileys'
 * INITIAL_PREKEY_COUNT deletes pre-keys WhatsApp may still hand out (`Invalid PreKey ID` for the
 * next new contact, issue 8).
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
 * name applies to nobody, silently; issue 9).
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

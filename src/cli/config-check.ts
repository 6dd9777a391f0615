/** `warden config check [company]`: validate and print the effective configuration. */

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
    http: config.http,
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

/**
 * The supervisor's signal check: for every company with signals in its window or a raised alert,
 * sum the buckets, apply `evaluateSignals` and queue what it calls for, state and outbox rows in
 * one transaction (as the file-count alerts are).
 */
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { summariseSignals, windowStart } from "../signals/signal-summary.js";
import type { Store } from "../store/store.js";
import { evaluateSignals } from "./evaluate-signals.js";
import type { RenderedAlert } from "./format-alert.js";
import { renderSignalAlert } from "./format-signal-alert.js";

/** Adds outbox rows for one alert; returns rows added. */
export type QueueAlert = (
  settings: CompanySettings,
  company: string,
  kind: string,
  rendered: RenderedAlert,
) => number;

/** Evaluates every company that has signals (or a raised alert); returns outbox rows added. */
export function checkSignalAlerts(
  store: Store,
  config: WardenConfig,
  now: number,
  queue: QueueAlert,
): number {
  // The longest window any company uses bounds which buckets can matter.
  let longest = config.defaults.signals.alertAt.window;
  for (const settings of config.companies.values())
    longest = Math.max(longest, settings.signals.alertAt.window);
  const companies = new Set([
    ...store.signals.companiesSince(windowStart(now, longest)),
    ...store.signals.activeAlerts(),
  ]);
  let queued = 0;
  store.transaction(() => {
    for (const company of companies) {
      const settings = companySettings(config, company);
      const summary = summariseSignals(store.signals, company, now, settings.signals.alertAt.window);
      const previous = store.signals.alertState(company);
      const { state, decision } = evaluateSignals(previous, summary.decryptFailures, settings, now);
      if (!previous || previous.active !== state.active || decision)
        store.signals.putAlertState(company, state, now);
      if (decision)
        queued += queue(
          settings,
          company,
          `signals-${decision}`,
          renderSignalAlert(company, decision, summary, settings.signals.alertAt),
        );
    }
  });
  return queued;
}

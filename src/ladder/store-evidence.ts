/**
 * Where the ladder's key-state evidence comes from (the pure rule on it is key-state-evidence.ts):
 * 500 (badSession) closes in the down episode and a decrypt-failure storm in the workers'
 * signal counters (invariant 13), both read from the store.
 */
import { companySettings, type WardenConfig } from "../config/load.js";
import { decryptStormFor } from "../signals/signal-summary.js";
import type { Store } from "../store/store.js";
import type { KeyStateEvidence } from "./key-state-evidence.js";

/** Where the ladder learns whether a company's key state is broken, per company and down episode. */
export type KeyStateEvidenceSource = (
  company: string,
  episodeStart: number | null,
  now: number,
) => KeyStateEvidence;

/**
 * The evidence in the store: 500 closes since the episode began, and a decrypt-failure storm when
 * the company's `signals.alertAt` window holds that many failures (the same rule as the alert).
 */
export function storeEvidence(store: Store, config: () => WardenConfig): KeyStateEvidenceSource {
  return (company, episodeStart, now) => {
    const decryptStorm = decryptStormFor(store.signals, company, now, companySettings(config(), company));
    if (episodeStart === null) return { badSessionCloses: 0, decryptStorm };
    const codes = store.connections.closeCodesSince(company, episodeStart);
    return { badSessionCloses: codes.find((c) => c.code === 500)?.n ?? 0, decryptStorm };
  };
}

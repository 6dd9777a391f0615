/**
 * The runner's outage bookkeeping at each check: the fleet's connections handed to the pure verdict
 * (outage.ts), the outage row started or ended in the store, and one operator notice for each (a
 * grouped alert instead of one per company).
 */

import { formatDuration } from "../config/duration.js";
import type { WardenFile } from "../config/schema.js";
import type { Store } from "../store/store.js";
import type { LadderNotify } from "./ladder-types.js";
import { detectOutage, type OutageVerdict } from "./outage.js";

/** Inputs of checkOutage. */
export interface CheckOutageOptions {
  store: Store;
  settings: WardenFile["fleet"];
  /** The last connectivity probe result (null: no probe) and its target and error. */
  probeOk: boolean | null;
  probeDetail: string | null;
  notify: LadderNotify;
  now: number;
}

/**
 * Judges whether the fleet is offline, records an outage's start or end, and tells operators once.
 * The verdict reads the companies wanted running as a count and the ones that may be down
 * (store.connections.wantedDown), not a row per company.
 */
export function checkOutage(options: CheckOutageOptions): OutageVerdict {
  const { store, probeOk, probeDetail, now } = options;
  const { wanted, down } = store.connections.wantedDown();
  const outage = store.ladder.currentOutage();
  const verdict = detectOutage(
    { companies: down, total: wanted, probeOk, wasOffline: outage !== undefined, settings: options.settings },
    now,
  );
  if (verdict.offline && !outage) {
    // The probe's target and error in the record and the alert: "probe web.whatsapp.com:443: ...".
    const reason = `${verdict.reason ?? "fleet offline"}${probeOk === false && probeDetail ? ` (${probeDetail})` : ""}`;
    store.ladder.startOutage(reason, verdict.down.length, now);
    options.notify(
      null,
      "Network outage: the ladder holds",
      `${reason}. ${verdict.down.length} companies down. Reconnects continue; no cleanup or reset until the network is back.`,
      { kind: "outage", level: "critical", down: verdict.down.length },
    );
  } else if (!verdict.offline && outage) {
    store.ladder.endOutage(now);
    options.notify(
      null,
      "Network back: outage resolved",
      `The outage that began ${formatDuration(now - outage.startedAt)} ago (${outage.reason}) is over; the ladder acts again.`,
      { kind: "outage-resolved", level: "ok" },
    );
  }
  return verdict;
}

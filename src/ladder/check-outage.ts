/**
 * The runner's outage bookkeeping at each check: the fleet's connections handed to the pure verdict
 * (outage.ts), the outage row started or ended in the store, and one operator notice for each (a
 * grouped alert instead of one per company).
 */

import { formatDuration } from "../config/duration.js";
import type { WardenFile } from "../config/schema.js";
import type { CompanyRow } from "../store/companies.js";
import type { Store } from "../store/store.js";
import type { LadderNotify } from "./ladder-types.js";
import { detectOutage, type OutageInput, type OutageVerdict } from "./outage.js";

/** Inputs of checkOutage. */
export interface CheckOutageOptions {
  store: Store;
  /** The companies present now (store.companies.listPresent()). */
  companies: ReadonlyArray<Pick<CompanyRow, "id" | "credsState">>;
  settings: WardenFile["fleet"];
  /** The last connectivity probe result (null: no probe) and its target and error. */
  probeOk: boolean | null;
  probeDetail: string | null;
  notify: LadderNotify;
  now: number;
}

/** One wanted company's connection as the outage verdict sees it. */
export type WantedConnection = OutageInput["companies"][number];

/**
 * The companies the operator wants running that a worker has reported, with their connection.
 * `companies` in id order, all with ids after `after` ("": from the first): their connections and
 * wishes are two range reads, not two queries per company.
 */
export function wantedConnections(
  store: Store,
  companies: ReadonlyArray<Pick<CompanyRow, "id" | "credsState">>,
  after = "",
): WantedConnection[] {
  const last = companies.at(-1)?.id;
  if (last === undefined) return [];
  const connections = store.connections.between(after, last);
  const desired = store.control.desiredBetween(after, last);
  const wanted: WantedConnection[] = [];
  for (const c of companies) {
    if ((desired.get(c.id) ?? "run") !== "run") continue;
    const conn = connections.get(c.id);
    if (!conn) continue;
    wanted.push({
      company: c.id,
      state: conn.state,
      downSince: conn.downSince ?? null,
      credsCorrupt: c.credsState === "corrupt",
    });
  }
  return wanted;
}

/**
 * Judges whether the fleet is offline, records an outage's start or end, and tells operators once.
 * `wanted`: wantedConnections(companies) already gathered (the ladder gathers it in slices).
 */
export function checkOutage(options: CheckOutageOptions & { wanted?: WantedConnection[] }): OutageVerdict {
  const { store, companies, probeOk, probeDetail, now } = options;
  const wanted = options.wanted ?? wantedConnections(store, companies);
  const outage = store.ladder.currentOutage();
  const verdict = detectOutage(
    { companies: wanted, probeOk, wasOffline: outage !== undefined, settings: options.settings },
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

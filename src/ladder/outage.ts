/**
 * Network outage detection, pure. When the supervisor's host loses its network every company goes
 * down at once; cleaning or resetting them then would destroy healthy sessions, and one alert per
 * company would flood the operators. So the ladder asks here first:
 * - the connectivity probe failed: offline;
 * - at least max(outageMinCompanies, ceil(outageShare * N)) companies went down within one
 *   outageWindow of each other: offline;
 * - once offline it stays offline while the probe fails or that many companies are still down
 *   (whenever they went down), so the outage ends only when most of them reconnected.
 * Terminal states (qr_required, replaced...) are each company's own problem and never count, nor
 * does pairing (a pairing company is talking to WhatsApp: it is evidence of a network, not of none),
 * nor a company whose creds.json is corrupt.
 */
import { formatDuration } from "../config/duration.js";
import type { WardenFile } from "../config/schema.js";
import { type ConnectionStateName, TERMINAL_STATES } from "../fleet/connection-states.js";

/** What outage detection looks at: every company the operator wants running, and the probe. */
export interface OutageInput {
  /** Every known company's connection: state (ConnectionStateName | null when never reported) and downSince (ms or null). Only companies the operator wants running are passed; with `total`, only those that may be down need be. */
  companies: ReadonlyArray<{
    company: string;
    state: string | null;
    downSince: number | null;
    /** creds.json is corrupt: the company's own problem (its own alert), never evidence of an outage. */
    credsCorrupt?: boolean;
  }>;
  /**
   * How many companies the operator wants running (creds.json corrupt ones excluded) when
   * `companies` lists only some of them, at least every one that may be down
   * (store.connections.wantedDown); default: the companies listed whose creds.json is not corrupt.
   */
  total?: number;
  /** Result of the last connectivity probe: true ok, false failed, null no probe configured / not run yet. */
  probeOk: boolean | null;
  /** Whether the fleet was considered offline at the previous check (hysteresis). */
  wasOffline: boolean;
  /** The `fleet` settings that define an outage (durations in ms). */
  settings: Pick<WardenFile["fleet"], "outageShare" | "outageMinCompanies" | "outageWindow">;
}

/** Whether the fleet is offline, why (operator-readable), and which companies are down together. */
export interface OutageVerdict {
  offline: boolean;
  reason: string | null;
  /** companies counted as down together */
  down: string[];
}

/** Whether a company counts as down for outage purposes. */
function isDown(
  c: OutageInput["companies"][number],
): c is { company: string; state: string | null; downSince: number } {
  if (c.downSince === null || c.state === "open" || c.state === "pairing") return false;
  return c.state === null || !TERMINAL_STATES.has(c.state as ConnectionStateName);
}

/**
 * Decides whether the fleet is offline (a network outage) rather than companies failing one by one.
 * `_now` keeps the (input, now) shape of every ladder decision; the rule itself needs only downSince.
 */
export function detectOutage(input: OutageInput, _now: number): OutageVerdict {
  const { outageShare, outageMinCompanies, outageWindow } = input.settings;
  // A company that cannot connect because of its own creds.json says nothing about the network
  // (once 3 corrupt of 5 were reported as "Network outage" while 2 were connected).
  const companies = input.companies.filter((c) => c.credsCorrupt !== true);
  const total = input.total ?? companies.length;
  const needed = Math.max(outageMinCompanies, Math.ceil(outageShare * total));
  const down = companies.filter(isDown).sort((a, b) => a.downSince - b.downSince);
  const allDown = down.map((c) => c.company);

  if (input.probeOk === false) {
    return { offline: true, reason: "connectivity probe to WhatsApp failed", down: allDown };
  }

  // Largest group of downSince values inside one outageWindow: two pointers over the sorted list.
  let best = { from: 0, to: 0 };
  for (let from = 0, to = 0; to < down.length; to++) {
    while ((down[to]?.downSince ?? 0) - (down[from]?.downSince ?? 0) > outageWindow) from++;
    if (to + 1 - from > best.to - best.from) best = { from, to: to + 1 };
  }
  const together = down.slice(best.from, best.to).map((c) => c.company);
  if (together.length >= needed) {
    return {
      offline: true,
      reason: `${together.length} of ${total} companies went down within ${formatDuration(outageWindow)}`,
      down: together,
    };
  }

  if (input.wasOffline && allDown.length >= needed) {
    return {
      offline: true,
      reason: `outage continues: ${allDown.length} of ${total} companies still down`,
      down: allDown,
    };
  }
  return { offline: false, reason: null, down: [] };
}

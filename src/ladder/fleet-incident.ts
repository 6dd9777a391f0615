/**
 * The runner's fleet correlation at each check (the pure rule is liveness/fleet-correlation.ts):
 * companies that logged out (401 / qr_required), went deaf or started a decrypt storm within
 * fleet.correlate.window are read from the store; enough of them open ONE incident and ONE alert.
 * The companies of an open incident are held (the ladder decides nothing for them) until an
 * operator closes it (`warden incident close <id>`); later failures join the open incident
 * silently. In a fleet big enough to correlate, a fresh failure waits CORRELATE_WAIT_MS (at most
 * the window) before the ladder acts on it, so that the first companies of a wave are not told one
 * by one.
 */

import { wardenCommand } from "../cli-invocation.js";
import {
  type CorrelateSettings,
  correlate,
  type Failure,
  recentFailures,
} from "../liveness/fleet-correlation.js";
import type { Store } from "../store/store.js";
import type { LadderNotify } from "./ladder-types.js";

/** How long a fresh failure waits for others before the ladder acts on it alone. */
export const CORRELATE_WAIT_MS = 60_000;

/** Companies the ladder must leave alone now, and why. */
export type FleetHolds = Map<string, string>;

/** Reads the failures of the window from the store. */
export function failuresSince(store: Store, since: number): Failure[] {
  const f = store.liveness.failuresSince(since);
  return [
    ...f.logout.map((r) => ({ ...r, kind: "logout" as const })),
    ...f.deaf.map((r) => ({ ...r, kind: "deaf" as const })),
    ...f.storm.map((r) => ({ ...r, kind: "decrypt-storm" as const })),
  ];
}

/** Opens or extends the fleet incident and returns the companies held. */
export function checkFleetIncident(options: {
  store: Store;
  settings: CorrelateSettings;
  notify: LadderNotify;
  now: number;
}): FleetHolds {
  const { store, settings, now } = options;
  // The fleet's size and whether a failing company is still present: a count and a row per failure,
  // not the list of every company present.
  const present = { size: store.companies.presentCount(), has: (c: string) => store.companies.isPresent(c) };
  const holds: FleetHolds = new Map();
  const open = store.liveness.openIncidents();
  for (const incident of open)
    for (const c of incident.companies) holds.set(c, `fleet incident #${incident.id}: ${incident.detail}`);
  // A failure an operator already closed an incident over does not open another one.
  const closedOver = new Map<string, number>();
  for (const incident of store.liveness.incidents(20))
    if (incident.closedAt !== null)
      for (const c of incident.companies)
        closedOver.set(c, Math.max(closedOver.get(c) ?? 0, incident.closedAt));
  const failures = failuresSince(store, now - settings.window).filter(
    (f) => present.has(f.company) && (closedOver.get(f.company) ?? Number.NEGATIVE_INFINITY) < f.at,
  );
  const newest = open.at(-1);
  if (newest) {
    const joining = recentFailures(failures, settings.window, now).filter((f) => !holds.has(f.company));
    if (joining.length > 0) {
      store.liveness.setIncidentCompanies(newest.id, [...newest.companies, ...joining.map((f) => f.company)]);
      for (const f of joining) holds.set(f.company, `fleet incident #${newest.id}: ${newest.detail}`);
    }
    return holds;
  }
  const found = correlate(failures, present.size, settings, now);
  if (found) {
    const id = store.liveness.startIncident(found.kind, found.companies, found.text, now);
    for (const c of found.companies) holds.set(c, `fleet incident #${id}: ${found.text}`);
    options.notify(
      null,
      "WhatsApp-side incident",
      `${found.text}: ${found.companies.join(", ")}. One incident, not ${found.companies.length} company problems: the ladder holds QR required, cleanups, resets and socket recreations for them until an operator closes it: \`${wardenCommand(`incident close ${id}`)}\`.`,
      { kind: "fleet-incident", level: "critical", companies: found.companies.length, incident: id },
    );
    return holds;
  }
  // Could these still become an incident? Then they wait out the window, not told one by one.
  if (present.size >= settings.min) {
    const wait = Math.min(CORRELATE_WAIT_MS, settings.window);
    for (const f of recentFailures(failures, wait, now))
      holds.set(
        f.company,
        `waiting up to ${Math.round(wait / 1000)} s to see whether the fleet fails with it`,
      );
  }
  return holds;
}

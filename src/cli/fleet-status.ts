/**
 * The fleet line of `warden status`: a network outage in progress (since when, why), the
 * connectivity probe's target and its last error, as recorded by the supervisor: an outage must be visible.
 */
import { formatDuration } from "../config/duration.js";
import type { WardenConfig } from "../config/load.js";
import type { Store } from "../store/store.js";

/** `status --json`'s `fleet` object. */
export interface FleetStatus {
  /** "offline": an outage is in progress; "online"; "unknown": the supervisor never recorded anything. */
  state: "online" | "offline" | "unknown";
  /** When the outage began (ms), null when online. */
  since: number | null;
  reason: string | null;
  /** "host:port" of the connectivity probe, null when fleet.probe is null. */
  probe: string | null;
  /** The probe's last error while it fails, null when its last run succeeded. */
  lastError: string | null;
  lastProbeAt: number | null;
}

/** Reads the outage in progress and the last probe outcome. */
export function collectFleet(config: WardenConfig, store: Store | undefined): FleetStatus {
  const probe = config.fleet.probe ? `${config.fleet.probe.host}:${config.fleet.probe.port}` : null;
  if (!store)
    return { state: "unknown", since: null, reason: null, probe, lastError: null, lastProbeAt: null };
  const outage = store.ladder.currentOutage();
  const last = store.events.lastOf("probe-ok", "probe-failed");
  const failing = last?.kind === "probe-failed";
  return {
    state: outage ? "offline" : "online",
    since: outage?.startedAt ?? null,
    reason: outage?.reason ?? null,
    probe,
    lastError: failing && last ? last.detail.replace(/^[^ ]+: /, "") : null,
    lastProbeAt: last?.at ?? null,
  };
}

/** The line(s) above the company table; empty when all is well. */
export function renderFleet(fleet: FleetStatus, now: number): string[] {
  const lines: string[] = [];
  if (fleet.state === "offline" && fleet.since !== null)
    lines.push(
      `FLEET OFFLINE for ${formatDuration(now - fleet.since)}: ${fleet.reason}. Cleanups and resets wait for the network.`,
    );
  if (fleet.lastError !== null)
    lines.push(`Connectivity probe to ${fleet.probe} failing: ${fleet.lastError}`);
  if (lines.length > 0) lines.push("");
  return lines;
}

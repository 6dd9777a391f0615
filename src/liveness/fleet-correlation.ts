/**
 * Many companies failing together is one WhatsApp-side incident, not N company problems (pure).
 * When at least `share` of the fleet, and at least `min` companies, log out, go deaf or start a
 * decrypt storm within `window`, the verdict is one incident naming them: one alert instead of N,
 * and the ladder holds their destructive steps until an operator closes it.
 */
import { formatSpan } from "./format-span.js";

/** The ways a company fails that may be WhatsApp's doing. */
export type FailureKind = "logout" | "deaf" | "decrypt-storm";

/** One company's failure, when it began. */
export interface Failure {
  company: string;
  at: number;
  kind: FailureKind;
}

/** `fleet.correlate`. */
export interface CorrelateSettings {
  share: number;
  min: number;
  window: number;
}

/** A fleet incident found now. */
export interface Correlation {
  /** the dominant kind, or "mixed" */
  kind: FailureKind | "mixed";
  companies: string[];
  text: string;
}

const PHRASES: Record<FailureKind, string> = {
  logout: "logged out",
  deaf: "went deaf",
  "decrypt-storm": "started a decrypt storm",
};

/** The failures in the window, one per company (its earliest), oldest first. */
export function recentFailures(failures: readonly Failure[], window: number, now: number): Failure[] {
  const first = new Map<string, Failure>();
  for (const f of failures) {
    if (f.at < now - window || f.at > now) continue;
    const seen = first.get(f.company);
    if (!seen || f.at < seen.at) first.set(f.company, f);
  }
  return [...first.values()].sort((a, b) => a.at - b.at || a.company.localeCompare(b.company));
}

/** True when `count` failing companies out of `fleetSize` make a fleet incident. */
export function isFleetWide(count: number, fleetSize: number, settings: CorrelateSettings): boolean {
  return count >= settings.min && fleetSize > 0 && count / fleetSize >= settings.share;
}

/** The incident the failures of the last window make, or null. */
export function correlate(
  failures: readonly Failure[],
  fleetSize: number,
  settings: CorrelateSettings,
  now: number,
): Correlation | null {
  const recent = recentFailures(failures, settings.window, now);
  if (!isFleetWide(recent.length, fleetSize, settings)) return null;
  const byKind = new Map<FailureKind, number>();
  for (const f of recent) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  const span = formatSpan(Math.max(60_000, (recent.at(-1)?.at ?? now) - (recent[0]?.at ?? now)));
  const n = recent.length;
  const companies = recent.map((f) => f.company);
  if (byKind.size === 1) {
    const kind = recent[0]?.kind as FailureKind;
    return { kind, companies, text: `WhatsApp-side: ${n} companies ${PHRASES[kind]} within ${span}` };
  }
  const parts = [...byKind].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${c} ${PHRASES[k]}`);
  return {
    kind: "mixed",
    companies,
    text: `WhatsApp-side: ${n} companies failed within ${span} (${parts.join(", ")})`,
  };
}

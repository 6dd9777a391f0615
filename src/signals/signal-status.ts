/** The signals part of `warden status`: the last 10 minutes per company. */
import type { SignalQueries } from "../store/signals.js";
import { summariseSignals } from "./signal-summary.js";

/** `status --json`'s `signals` object. */
export interface SignalStatus {
  decryptFailures10m: number;
  byReason: Record<string, number>;
  sessionChurn10m: number;
  retryReceipts10m: number;
}

const TEN_MINUTES = 10 * 60_000;

/** A company's signals over the last 10 minutes. */
export function signalStatus(
  queries: Pick<SignalQueries, "window">,
  company: string,
  now: number,
): SignalStatus {
  const s = summariseSignals(queries, company, now, TEN_MINUTES);
  return {
    decryptFailures10m: s.decryptFailures,
    byReason: s.byReason,
    sessionChurn10m: s.sessionChurn,
    retryReceipts10m: s.retryReceipts,
  };
}

/** One line for the status table ("" when there was nothing). */
export function describeSignals(s: SignalStatus): string {
  if (s.decryptFailures10m + s.sessionChurn10m + s.retryReceipts10m === 0) return "";
  const reasons = Object.entries(s.byReason)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  return `${s.decryptFailures10m} decrypt failures${reasons ? ` (${reasons})` : ""}, ${s.sessionChurn10m} session closes, ${s.retryReceipts10m} retry receipts`;
}

/** Renders the decrypt-failure alert and its resolved message. Peers appear only hashed (invariant 22). */
import { formatDuration } from "../config/duration.js";
import type { SignalSummary } from "../signals/signal-summary.js";
import type { SignalAlertDecision } from "./evaluate-signals.js";
import { escapeHtml, type RenderedAlert } from "./format-alert.js";

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(", ") || "none";

/** Renders one signal alert for one company. */
export function renderSignalAlert(
  company: string,
  decision: SignalAlertDecision,
  summary: SignalSummary,
  alertAt: { count: number; window: number },
): RenderedAlert {
  const window = formatDuration(alertAt.window);
  const title =
    decision === "raised"
      ? `🔐 DECRYPT FAILURES ${company}: ${summary.decryptFailures} in ${window}`
      : `✅ RESOLVED ${company}: decrypt failures back to ${summary.decryptFailures} in ${window}`;
  const reasons = list(summary.byReason);
  const peers = summary.topPeers.map((p) => `${p.peer} ${p.count}`).join(", ") || "none";
  const other = `session closes ${summary.sessionChurn}, retry receipts ${summary.retryReceipts}, stream errors ${list(summary.streamErrors)}`;
  const next =
    decision === "raised"
      ? `Alert at ${alertAt.count} in ${window}. Peers' sessions may be out of step (Bad MAC) or pre-keys missing (Invalid PreKey ID); Baileys asks for retries by itself.`
      : "Nothing to do.";
  const html = [
    `<b>${escapeHtml(title)}</b>`,
    `Company: <code>${escapeHtml(company)}</code>`,
    `By reason: ${escapeHtml(reasons)}`,
    `Top peers (hashed): ${escapeHtml(peers)}`,
    `Also: ${escapeHtml(other)}`,
    `Next: ${escapeHtml(next)}`,
  ].join("\n");
  return {
    html,
    text: `${title} | by reason: ${reasons} | top peers (hashed): ${peers} | ${other} | next: ${next}`,
    silent: decision === "resolved",
    payload: {
      company,
      kind: `signals-${decision}`,
      decryptFailures: summary.decryptFailures,
      byReason: summary.byReason,
      topPeers: summary.topPeers,
      sessionChurn: summary.sessionChurn,
      retryReceipts: summary.retryReceipts,
    },
  };
}

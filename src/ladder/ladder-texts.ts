/**
 * The bodies of the ladder's "human needed" alerts, built only from what happened in this episode
 * and the evidence as recorded: the close codes with their counts, the last error text, the
 * connectivity probe, what wa-warden did (reconnects, a cleanup and what it deleted) and the
 * commands an operator can run. Nothing here claims what was not seen: no "nothing is deleted"
 * after a cleanup, no "no 500 closes" beside "500 x1", no "pair again" unless WhatsApp said 401.
 */

import { wardenCommand } from "../cli-invocation.js";
import { formatDuration } from "../config/duration.js";
import { describeCodes } from "./close-codes.js";
import type { Draft } from "./decision-draft.js";
import { describeEvidence, hasKeyStateEvidence } from "./key-state-evidence.js";

/** The evidence lines of an episode: codes, last error, probe, key-state evidence, what was done. */
export function evidenceLines(draft: Draft): string[] {
  const { input, now } = draft;
  const codes = describeCodes(input.codesSeen ?? []);
  const lines = [`${codes.charAt(0).toUpperCase()}${codes.slice(1)}.`];
  const last = input.lastClose;
  if (last?.message) {
    const code = last.code === null ? "" : `${last.code}, `;
    lines.push(`Last error: "${errorText(last.message)}" (${code}${formatDuration(now - last.at)} ago).`);
  }
  const probe = input.probe;
  if (probe && probe.ok !== null)
    lines.push(
      `Connectivity probe: ${probe.ok ? "passes" : "FAILS"}${probe.detail ? ` (${probe.detail})` : ""}.`,
    );
  else lines.push("Connectivity probe: no result yet.");
  const has500 = (input.codesSeen ?? []).some((c) => c.code === 500);
  const keyState = hasKeyStateEvidence(input.evidence)
    ? `Key-state evidence: ${describeEvidence(input.evidence)}.`
    : `Key-state evidence: none (no decrypt-failure storm)${has500 ? "; 500 closes are not evidence of broken keys: Baileys gives 500 to TLS, proxy, clock and stream errors alike" : ""}.`;
  lines.push(keyState);
  lines.push(`Done so far: ${doneSoFar(draft)}.`);
  return lines;
}

/** The commands an operator can run for a company that is down and not logged out. */
export function byHand(company: string): string {
  return `By hand: \`${wardenCommand(`reconnect ${company}`)}\` once the cause is fixed; if you judge the key files broken, \`${wardenCommand(`cleanup ${company} --reset --stop`)}\` (backs up first, keeps creds.json) or /cleanup ${company} in the bot for the smart plan.`;
}

/** "3 reconnect requests, a smart cleanup 20m ago deleted 34 files (backup /b/x.tar)". */
function doneSoFar(draft: Draft): string {
  const { mem, now } = draft;
  const parts = [`${mem.reconnects} reconnect request${mem.reconnects === 1 ? "" : "s"}`];
  const c = mem.lastCleanup;
  if (c)
    parts.push(
      `a ${c.mode === "reset" ? "reset" : "smart cleanup"} ${formatDuration(now - c.at)} ago deleted ${c.deleted} file${c.deleted === 1 ? "" : "s"}${c.backup ? ` (backup ${c.backup})` : ""}`,
    );
  else if (mem.cleanupAt !== null || mem.resetAt !== null) parts.push("a cleanup was started");
  else parts.push("no file deleted");
  return parts.join(", ");
}

/** The worker's close message without its "; retry 3 in 4000 ms" tail. */
function errorText(message: string): string {
  return message.replace(/; retry \d+ in \d+ ms$/, "");
}

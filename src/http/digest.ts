/**
 * The digest: per chat, the companies it sees that have an open problem (down, waiting for a QR,
 * at a level with the projected time to the next one, backups missing or older than
 * `backups.maxAge`, incidents acked or not and by whom); healthy companies are one count. Sent daily
 * at `alerts.digestAt`, on demand by /digest, printed by `warden digest`.
 */
import { escapeHtml } from "../alerts/format-alert.js";
import type { WardenConfig } from "../config/load.js";
import type { Store } from "../store/store.js";
import {
  backupSummaries,
  companyFindings,
  extraCommand,
  type Finding,
  severityRank,
} from "./company-findings.js";
import { companyViews } from "./fleet-view.js";

/** A digest of some companies. */
export interface Digest {
  at: number;
  /** Companies looked at. */
  companies: number;
  /** Companies with at least one finding, worst first, each with its findings. */
  problems: { company: string; findings: Finding[] }[];
}

/** Builds the digest of `companies` (those present in the store). */
export async function buildDigest(
  store: Store,
  config: WardenConfig,
  backupsRoot: string | undefined,
  companies: readonly string[],
  now: number,
): Promise<Digest> {
  const wanted = new Set(companies);
  const views = companyViews({ store, config: () => config, now: () => now }).filter((v) => wanted.has(v.id));
  const backups = await backupSummaries(
    store,
    backupsRoot,
    views.map((v) => v.id),
  );
  const problems = views
    .map((v) => ({ company: v.id, findings: companyFindings(store, config, v, backups.get(v.id), now) }))
    .filter((p) => p.findings.length > 0)
    .map((p) => ({ ...p, findings: [...p.findings].sort((a, b) => severityRank(a) - severityRank(b)) }))
    .sort(
      (a, b) =>
        severityRank(a.findings[0] as Finding) - severityRank(b.findings[0] as Finding) ||
        a.company.localeCompare(b.company),
    );
  return { at: now, companies: views.length, problems };
}

const ICON: Record<Finding["severity"], string> = { critical: "🔴", warning: "⚠️", info: "ℹ️" };

/** The digest as Telegram HTML. */
export function renderDigestHtml(digest: Digest): string {
  const healthy = digest.companies - digest.problems.length;
  const head = `<b>wa-warden digest</b>: ${digest.problems.length} of ${digest.companies} companies need a look`;
  if (digest.problems.length === 0) return `${head}\n✅ all ${digest.companies} healthy`;
  const lines = [head];
  for (const p of digest.problems)
    for (const f of p.findings)
      lines.push(
        `${ICON[f.severity]} ${escapeHtml(f.text)}${extraCommand(f) ? `: <code>${escapeHtml(f.command ?? "")}</code>` : ""}`,
      );
  if (healthy > 0) lines.push(`✅ ${healthy} more: healthy`);
  return lines.join("\n");
}

/** The digest as plain text (the CLI). */
export function renderDigestText(digest: Digest): string {
  const healthy = digest.companies - digest.problems.length;
  const lines = [`wa-warden digest: ${digest.problems.length} of ${digest.companies} companies need a look`];
  for (const p of digest.problems)
    for (const f of p.findings)
      lines.push(`  ${f.severity.padEnd(8)} ${f.text}${extraCommand(f) ? `: ${f.command}` : ""}`);
  lines.push(`  ${healthy} healthy`);
  return lines.join("\n");
}

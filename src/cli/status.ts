/** `warden status [company] [--json]`: live counts per company, level, and connection state. */

import { readdir } from "node:fs/promises";
import path from "node:path";
import { countSnapshot } from "../actions/cleanup/count-stale.js";
import { DOWN_HISTORY_MS, downIntervalsOf } from "../actions/cleanup/down-time.js";
import { type Attention, companyAttention, compareAttention } from "../alerts/attention.js";
import { evaluateThresholds } from "../alerts/evaluate-thresholds.js";
import { PostgresCompanies } from "../auth-store/postgres-companies.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import { assertCompanyFolder, isCompanyId } from "../config/company-id.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { CATEGORIES } from "../fleet/classify-file.js";
import { resolveKeepPreKeys } from "../fleet/prekey-reserve.js";
import { scanFolder } from "../fleet/scan-folder.js";
import { companyLiveness } from "../ladder/company-liveness.js";
import { describeLiveness, type LivenessView, livenessProblem } from "../liveness/liveness-view.js";
import { describeSignals, type SignalStatus, signalStatus } from "../signals/signal-status.js";
import { summariseSignals } from "../signals/signal-summary.js";
import { type ConnectionView, toConnectionView } from "../store/connections.js";
import type { Store } from "../store/store.js";

/** One company in `status --json`. */
export interface CompanyStatus {
  id: string;
  /**
   * `counted` is the number the thresholds apply to (per `basis`); `stale` the files a cleanup
   * would delete now, `live` the rest, `reserve` the newest pre-keys left out of basis "counted".
   */
  files: {
    total: number;
    counted: number;
    basis: "stale" | "counted" | "total";
    stale: number;
    live: number;
    reserve: number;
    byCategory: Record<string, number>;
  };
  /** Where the keys live: the folder, or a database whose rows are counted like files. */
  store: "files" | "sqlite" | "postgres";
  level: string;
  creds: string;
  /** Why creds.json is corrupt (or missing), when it is not ok. */
  credsError?: string;
  connection: ConnectionView;
  /** The current pairing QR string, while pairing. */
  qr?: string;
  pairingCode?: string;
  /** Signals of the last 10 minutes; absent without a database. */
  signals?: SignalStatus;
  /** What needs attention now across files, connection, creds and signals (worst first). */
  attention: Attention;
  /** Open but deaf, quiet, restricted, flapping; absent without a database. */
  liveness?: LivenessView;
}

/** The postgres listings, read once, when a company of `ids` is on the postgres store and a URL was given. */
async function postgresListings(
  sessionsDir: string,
  ids: readonly string[],
  pgUrl: string | undefined,
): Promise<PostgresCompanies | undefined> {
  if (pgUrl === undefined) return undefined;
  for (const id of ids) {
    const kind = await readStoreChoice(path.join(sessionsDir, id)).catch(() => "files");
    if (kind === "postgres") {
      const listings = new PostgresCompanies(pgUrl);
      await listings.refresh();
      await listings.close(); // the listing stays in memory; the CLI keeps no connection
      return listings;
    }
  }
  return undefined;
}

/** Scans the folders now and joins what the workers reported. */
export async function collectStatus(
  config: WardenConfig,
  store: Store | undefined,
  now: number,
  company?: string,
  home?: string,
  pgUrl?: string,
): Promise<CompanyStatus[]> {
  let ids: string[];
  if (company !== undefined) {
    assertCompanyFolder(config.sessionsDir, company);
    ids = [company];
  } else {
    const entries = await readdir(config.sessionsDir, { withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return [];
        throw err;
      },
    );
    ids = entries
      .filter((e) => e.isDirectory() && isCompanyId(e.name))
      .map((e) => e.name)
      .sort();
  }
  const out: CompanyStatus[] = [];
  const postgres = await postgresListings(config.sessionsDir, ids, pgUrl);
  for (const id of ids) {
    const settings = companySettings(config, id);
    const snapshot = await scanFolder(path.join(config.sessionsDir, id), id, now, new Map(), {
      preKeyFloor: resolveKeepPreKeys(settings.cleanup.keepPreKeys),
      ...(home !== undefined ? { authHome: home } : {}),
      ...(postgres ? { postgres } : {}),
    });
    const down = store ? downIntervalsOf(store.connections.eventsSince(id, now - DOWN_HISTORY_MS), now) : [];
    const counts = countSnapshot(snapshot, settings, now, down);
    const connection = toConnectionView(store?.connections.get(id));
    const pairing = store?.connections.pairing(id);
    // The alerts' own rule on the stored alert state: the same level, hysteresis included (status agrees).
    const level = evaluateThresholds(store?.alertState.get(id), counts.counted, settings, now).state.level;
    const { alertAt } = settings.signals;
    const decryptFailures = store
      ? summariseSignals(store.signals, id, now, alertAt.window).decryptFailures
      : 0;
    const liveness = store ? companyLiveness(store, id, now) : undefined;
    out.push({
      attention: companyAttention(
        {
          connection,
          creds: snapshot.creds.state,
          level,
          counted: counts.counted,
          decryptFailures,
          settings,
          more: [livenessProblem(liveness)],
        },
        now,
      ),
      ...(pairing?.qr ? { qr: pairing.qr } : {}),
      ...(pairing?.pairingCode ? { pairingCode: pairing.pairingCode } : {}),
      id,
      files: {
        total: counts.total,
        counted: counts.counted,
        basis: counts.basis,
        stale: counts.stale,
        live: counts.live,
        reserve: counts.reserve,
        byCategory: snapshot.byCategory,
      },
      store: snapshot.store ?? "files",
      level,
      creds: snapshot.creds.state,
      ...(snapshot.creds.error ? { credsError: snapshot.creds.error } : {}),
      ...(store ? { signals: signalStatus(store.signals, id, now) } : {}),
      connection,
      ...(liveness ? { liveness } : {}),
    });
  }
  // Worst first: a company that needs a person now is the first line, not the one named "a...".
  return out.sort((a, b) => compareAttention(a.attention, b.attention) || a.id.localeCompare(b.id));
}

function describeConnection(c: CompanyStatus["connection"], now: number): string {
  if (c.since === null) return c.state;
  const base = `${c.state} for ${formatDuration(now - c.since)}`;
  if (c.downSince !== null && c.since - c.downSince >= 1_000)
    return `${base} (down ${formatDuration(now - c.downSince)})`;
  return base;
}

/** Human-readable table of the status. */
export function renderStatusTable(rows: CompanyStatus[], now: number, detailed: boolean): string {
  if (rows.length === 0) return "No companies (no folders in sessionsDir).";
  const header = [
    "ATTENTION",
    "COMPANY",
    "TOTAL",
    "LIVE",
    "STALE",
    "RESERVE",
    "COUNTED",
    "BASIS",
    "LEVEL",
    "CREDS",
    "CONNECTION",
    "LIVENESS",
  ];
  const lines = rows.map((r) => [
    r.attention.severity === "ok" ? "ok" : `${r.attention.severity}: ${r.attention.summary}`,
    r.id,
    String(r.files.total),
    String(r.files.live),
    String(r.files.stale),
    String(r.files.reserve),
    String(r.files.counted),
    r.files.basis,
    r.level,
    r.creds,
    describeConnection(r.connection, now),
    r.liveness ? describeLiveness(r.liveness) : "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const table = [fmt(header), ...lines.map(fmt)];
  const corrupt = rows.filter((r) => r.credsError);
  if (corrupt.length > 0) table.push("", ...corrupt.map((r) => `${r.id} creds: ${r.creds}: ${r.credsError}`));
  for (const r of rows)
    if (r.signals && describeSignals(r.signals))
      table.push(`${r.id} last 10m: ${describeSignals(r.signals)}`);
  for (const r of rows)
    if (r.liveness?.reason && r.liveness.state !== "ok")
      table.push(`${r.id} ${r.liveness.state}: ${r.liveness.reason}`);
  if (detailed) {
    for (const r of rows) {
      if (r.connection.reason) table.push("", `${r.id} connection: ${r.connection.reason}`);
      if (r.qr) table.push(`${r.id} pairing QR: ${r.qr}`);
      if (r.pairingCode) table.push(`${r.id} pairing code: ${r.pairingCode}`);
      table.push("", `${r.id} by category:`);
      for (const c of CATEGORIES)
        if ((r.files.byCategory[c] ?? 0) > 0) table.push(`  ${c.padEnd(24)}${r.files.byCategory[c]}`);
    }
  }
  return table.join("\n");
}

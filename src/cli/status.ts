/** `warden status [company] [--json]`: live counts per company, level, and connection state. */

import { readdir } from "node:fs/promises";
import path from "node:path";
import { countSnapshot } from "../actions/cleanup/count-stale.js";
import { DOWN_HISTORY_MS, downIntervalsOf } from "../actions/cleanup/down-time.js";
import { type Attention, companyAttention, compareAttention, type Problem } from "../alerts/attention.js";
import { evaluateThresholds } from "../alerts/evaluate-thresholds.js";
import { PostgresCompanies } from "../auth-store/postgres-companies.js";
import { readStoreChoice } from "../auth-store/store-choice.js";
import { assertCompanyFolder, isCompanyId } from "../config/company-id.js";
import type { CompanySettings } from "../config/company-schema.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError, ErrorCodes, WardenError } from "../errors.js";
import { CATEGORIES } from "../fleet/classify-file.js";
import { resolveKeepPreKeys } from "../fleet/prekey-reserve.js";
import { type FolderSnapshot, scanFolder } from "../fleet/scan-folder.js";
import { companyLiveness } from "../ladder/company-liveness.js";
import { describeLiveness, type LivenessView, livenessProblem } from "../liveness/liveness-view.js";
import { describeSignals, type SignalStatus, signalStatus } from "../signals/signal-status.js";
import { summariseSignals } from "../signals/signal-summary.js";
import { type ConnectionView, toConnectionView } from "../store/connections.js";
import type { Store } from "../store/store.js";

/** A company's counts: per `basis`, or all null when its store could not be read (never 0). */
export interface CompanyFiles {
  total: number | null;
  counted: number | null;
  basis: "stale" | "counted" | "total";
  stale: number | null;
  live: number | null;
  reserve: number | null;
  byCategory: Record<string, number> | null;
}

/** One company in `status --json`. */
export interface CompanyStatus {
  id: string;
  /**
   * `counted` is the number the thresholds apply to (per `basis`); `stale` the files a cleanup
   * would delete now, `live` the rest, `reserve` the newest pre-keys left out of basis "counted".
   * All null (never 0) when `scanError` says the store could not be read.
   */
  files: CompanyFiles;
  /**
   * Where the keys live: the folder, or a database whose rows are counted like files; null when
   * warden-auth.json itself cannot be read.
   */
  store: "files" | "sqlite" | "postgres" | null;
  /** Why the company's folder or database could not be read now (its counts are then null). */
  scanError?: { code: string; message: string };
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
      // A server that cannot be reached is kept as the listing's failure: each postgres company
      // then shows it, the others are counted as usual.
      await listings.refresh();
      await listings.close(); // the listing stays in memory; the CLI keeps no connection
      return listings;
    }
  }
  return undefined;
}

/** The company ids status reports on: the one asked for, or every company folder. */
async function companyIds(config: WardenConfig, company: string | undefined): Promise<string[]> {
  if (company !== undefined) {
    assertCompanyFolder(config.sessionsDir, company);
    return [company];
  }
  const entries = await readdir(config.sessionsDir, { withFileTypes: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw err;
    },
  );
  return entries
    .filter((e) => e.isDirectory() && isCompanyId(e.name))
    .map((e) => e.name)
    .sort();
}

/** Why a company's scan failed, as a code and one line (a database's errors name it, password scrubbed). */
function scanErrorOf(dir: string, err: unknown): { code: string; message: string } {
  if (err instanceof WardenError) return { code: err.code, message: err.message };
  return {
    code: ErrorCodes.FILE_REFUSED,
    message: `Cannot read the company folder ${dir}: ${describeError(err)}`,
  };
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
  const ids = await companyIds(config, company);
  const out: CompanyStatus[] = [];
  const postgres = await postgresListings(config.sessionsDir, ids, pgUrl);
  for (const id of ids) {
    const settings = companySettings(config, id);
    const dir = path.join(config.sessionsDir, id);
    let snapshot: FolderSnapshot;
    try {
      snapshot = await scanFolder(dir, id, now, new Map(), {
        preKeyFloor: resolveKeepPreKeys(settings.cleanup.keepPreKeys),
        ...(home !== undefined ? { authHome: home } : {}),
        ...(postgres ? { postgres } : {}),
      });
    } catch (err) {
      // A folder removed since the listing is no longer a company; asked for by name, it is an error.
      if (company === undefined && (err as NodeJS.ErrnoException).code === "ENOENT") continue;
      // One company whose store cannot be read never hides the others (fail closed: no counts).
      out.push(await unreadableRow(id, dir, scanErrorOf(dir, err), settings, store, now));
      continue;
    }
    out.push(readRow(id, snapshot, settings, store, now));
  }
  // Worst first: a company that needs a person now is the first line, not the one named "a...".
  return out.sort((a, b) => compareAttention(a.attention, b.attention) || a.id.localeCompare(b.id));
}

/** What the database recorded of a company: connection, pairing, signals, liveness. */
function recorded(id: string, settings: CompanySettings, store: Store | undefined, now: number) {
  const connection = toConnectionView(store?.connections.get(id));
  const pairing = store?.connections.pairing(id);
  const decryptFailures = store
    ? summariseSignals(store.signals, id, now, settings.signals.alertAt.window).decryptFailures
    : 0;
  const liveness = store ? companyLiveness(store, id, now) : undefined;
  return {
    connection,
    decryptFailures,
    liveness,
    extra: {
      ...(pairing?.qr ? { qr: pairing.qr } : {}),
      ...(pairing?.pairingCode ? { pairingCode: pairing.pairingCode } : {}),
      ...(store ? { signals: signalStatus(store.signals, id, now) } : {}),
      ...(liveness ? { liveness } : {}),
    },
  };
}

/** The row of a company that was scanned. */
function readRow(
  id: string,
  snapshot: FolderSnapshot,
  settings: CompanySettings,
  store: Store | undefined,
  now: number,
): CompanyStatus {
  const down = store ? downIntervalsOf(store.connections.eventsSince(id, now - DOWN_HISTORY_MS), now) : [];
  const counts = countSnapshot(snapshot, settings, now, down);
  const { connection, decryptFailures, liveness, extra } = recorded(id, settings, store, now);
  // The alerts' own rule on the stored alert state: the same level, hysteresis included (status agrees).
  const level = evaluateThresholds(store?.alertState.get(id), counts.counted, settings, now).state.level;
  const attention = companyAttention(
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
  );
  return {
    attention,
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
    connection,
    ...extra,
  };
}

/**
 * The row of a company whose folder or database could not be read: the error, no counts (null,
 * never 0: fail closed), the level the alerts were last at (or "unknown"), and what the database
 * recorded of its connection.
 */
async function unreadableRow(
  id: string,
  dir: string,
  scanError: { code: string; message: string },
  settings: CompanySettings,
  store: Store | undefined,
  now: number,
): Promise<CompanyStatus> {
  const kind = await readStoreChoice(dir).catch(() => null);
  const { connection, decryptFailures, liveness, extra } = recorded(id, settings, store, now);
  const stored = store?.alertState.get(id)?.level;
  const unreadable: Problem = {
    source: "store",
    severity: "human",
    text: `${kind === null ? "warden-auth.json" : kind === "files" ? "folder" : `${kind} store`} unreadable`,
  };
  const attention = companyAttention(
    {
      connection,
      creds: "unknown",
      level: stored ?? "ok",
      counted: undefined,
      decryptFailures,
      settings,
      more: [livenessProblem(liveness), unreadable],
    },
    now,
  );
  return {
    attention,
    id,
    files: {
      total: null,
      counted: null,
      basis: settings.count.basis,
      stale: null,
      live: null,
      reserve: null,
      byCategory: null,
    },
    store: kind,
    scanError,
    level: stored ?? "unknown",
    creds: "unknown",
    connection,
    ...extra,
  };
}

function describeConnection(c: CompanyStatus["connection"], now: number): string {
  if (c.since === null) return c.state;
  const base = `${c.state} for ${formatDuration(now - c.since)}`;
  if (c.downSince !== null && c.since - c.downSince >= 1_000)
    return `${base} (down ${formatDuration(now - c.downSince)})`;
  return base;
}

/** A count for the table: "?" when it is not known (the store could not be read), never 0. */
const count = (n: number | null): string => (n === null ? "?" : String(n));

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
    count(r.files.total),
    count(r.files.live),
    count(r.files.stale),
    count(r.files.reserve),
    count(r.files.counted),
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
  const unreadable = rows.filter((r) => r.scanError);
  if (unreadable.length > 0)
    table.push(
      "",
      ...unreadable.map(
        (r) =>
          `${r.id} not read (${r.store ?? "store unknown"}): ${r.scanError?.code}: ${r.scanError?.message}`,
      ),
    );
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
      const byCategory = r.files.byCategory;
      if (byCategory === null) continue;
      table.push("", `${r.id} by category:`);
      for (const c of CATEGORIES)
        if ((byCategory[c] ?? 0) > 0) table.push(`  ${c.padEnd(24)}${byCategory[c]}`);
    }
  }
  return table.join("\n");
}

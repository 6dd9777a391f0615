/**
 * What the HTTP side (and `warden health`) shows, read from the store only: the supervisor keeps
 * the companies table current, so a page or a scrape never rescans 1,000 folders.
 */
import { LEVELS, type Level, levelFor } from "../alerts/evaluate-thresholds.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { companyLiveness } from "../ladder/company-liveness.js";
import type { LivenessView } from "../liveness/liveness-view.js";
import type { CompanyRow } from "../store/companies.js";
import {
  type ConnectionRow,
  type ConnectionView,
  type PairingRow,
  toConnectionView,
} from "../store/connections.js";
import type { LadderStepRow } from "../store/ladder.js";
import type { Store } from "../store/store.js";

/** The kinds of `warden_company_files{kind}`, in display order. */
export const FILE_KINDS = ["total", "counted", "stale", "live"] as const;

/** One of FILE_KINDS. */
export type FileKind = (typeof FILE_KINDS)[number];

/**
 * The counts of one company per kind, as far as the store has them. The only place that maps
 * columns to kinds: when the companies table gains stale/live (issue 8), add
 * `stale: row.stale, live: row.live` here and /metrics, /api and the pages show them.
 */
export function fileKinds(row: CompanyRow): Partial<Record<FileKind, number>> {
  return { total: row.total, counted: row.counted, stale: row.stale, live: row.total - row.stale };
}

/** A ladder step as shown (result reduced to decided / failed / done for metrics labels). */
export interface StepView {
  step: string;
  reason: string;
  result: string;
  at: number;
}

/** One company as /api/companies and the dashboard show it (the `status --json` fields and more). */
export interface CompanyView {
  id: string;
  files: Partial<Record<FileKind, number>> & { byCategory: Record<string, number> };
  level: Level;
  creds: string;
  connection: ConnectionView;
  qr?: string;
  pairingCode?: string;
  /** The newest ladder step, if the ladder ever acted. */
  ladder: StepView | null;
  scannedAt: number;
  /** Open but deaf, quiet, restricted, flapping (as in `status --json`). */
  liveness: LivenessView;
}

/** Where the views read from. */
export interface FleetSource {
  store: Store;
  config(): WardenConfig;
  now(): number;
}

const toStep = (s: LadderStepRow): StepView => ({
  step: s.step,
  reason: s.reason,
  result: s.result,
  at: s.at,
});

function toView(
  config: WardenConfig,
  row: CompanyRow,
  level: Level | undefined,
  connection: ConnectionRow | undefined,
  pairing: PairingRow | undefined,
  step: LadderStepRow | undefined,
  liveness: LivenessView,
): CompanyView {
  return {
    id: row.id,
    files: { ...fileKinds(row), byCategory: row.byCategory },
    level: level ?? levelFor(row.counted, companySettings(config, row.id).thresholds),
    creds: row.credsState,
    connection: toConnectionView(connection),
    ...(pairing?.qr ? { qr: pairing.qr } : {}),
    ...(pairing?.pairingCode ? { pairingCode: pairing.pairingCode } : {}),
    ladder: step ? toStep(step) : null,
    scannedAt: row.scannedAt,
    liveness,
  };
}

/** Every present company, by id (one query per table). */
export function companyViews(source: FleetSource): CompanyView[] {
  const { store } = source;
  const config = source.config();
  const connections = store.fleetStats.connections();
  const levels = store.fleetStats.levels();
  const pairings = store.fleetStats.pairings();
  const steps = store.fleetStats.lastLadderSteps();
  return store.companies
    .listPresent()
    .map((row) =>
      toView(
        config,
        row,
        levels.get(row.id)?.level,
        connections.get(row.id),
        pairings.get(row.id),
        steps.get(row.id),
        companyLiveness(store, row.id, source.now()),
      ),
    );
}

/** One present company (undefined when its folder is gone or it was never seen). */
export function companyView(source: FleetSource, id: string): CompanyView | undefined {
  const { store } = source;
  const row = store.companies.get(id);
  if (!row || row.removedAt !== null) return undefined;
  return toView(
    source.config(),
    row,
    store.alertState.get(id)?.level,
    store.connections.get(id),
    store.connections.pairing(id),
    store.ladder.steps(id).at(-1),
    companyLiveness(store, id, source.now()),
  );
}

/** Numeric level for metrics: 0 ok, 1 monitor, 2 warning, 3 critical, 4 fatal. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** Worst first: level, then not connected, then most files, then id. */
export function worstFirst(a: CompanyView, b: CompanyView): number {
  return (
    levelRank(b.level) - levelRank(a.level) ||
    Number(a.connection.state === "open") - Number(b.connection.state === "open") ||
    (b.files.counted ?? 0) - (a.files.counted ?? 0) ||
    a.id.localeCompare(b.id)
  );
}

/** True while a ladder step is being carried out (cleanups and QR resets run in the background). */
export function isRunning(step: StepView): boolean {
  return step.result === "decided" && (step.step.startsWith("cleanup:") || step.step === "qr_required");
}

/** Workers whose heartbeat is recent enough (status alive, heard from within workers.deadAfter). */
export function aliveWorkers(source: FleetSource): number {
  const deadline = source.now() - source.config().workers.deadAfter;
  return source.store.workers.list().filter((w) => w.status === "alive" && w.heartbeatAt >= deadline).length;
}

/** The one-screen summary of `warden health`. */
export interface FleetHealth {
  at: number;
  workers: { alive: number; registered: number };
  outbox: { pending: number };
  outage: { since: number; reason: string; down: number } | null;
  levels: Record<Level, number>;
  companies: number;
  down: { id: string; state: string; downSince: number | null }[];
  ladderRunning: { company: string; step: string; since: number }[];
}

/** Computes the summary from the store. */
export function fleetHealth(source: FleetSource): FleetHealth {
  const { store } = source;
  const companies = companyViews(source);
  const levels = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  for (const c of companies) levels[c.level] += 1;
  const outage = store.ladder.currentOutage();
  return {
    at: source.now(),
    workers: {
      alive: aliveWorkers(source),
      registered: store.workers.list().filter((w) => w.status === "alive").length,
    },
    outbox: { pending: store.outbox.pendingCount() },
    outage: outage ? { since: outage.startedAt, reason: outage.reason, down: outage.down } : null,
    levels,
    companies: companies.length,
    down: companies
      .filter((c) => c.connection.state !== "open" && c.connection.state !== "unknown")
      .map((c) => ({ id: c.id, state: c.connection.state, downSince: c.connection.downSince })),
    ladderRunning: companies
      .filter((c) => c.ladder !== null && isRunning(c.ladder))
      .map((c) => ({ company: c.id, step: c.ladder?.step ?? "", since: c.ladder?.at ?? 0 })),
  };
}

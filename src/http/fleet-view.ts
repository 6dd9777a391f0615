/**
 * What the HTTP side (and `warden health`) shows, read from the store only: the supervisor keeps
 * the companies table current, so a page or a scrape never rescans 1,000 folders.
 */
import { type Attention, companyAttention, compareAttention } from "../alerts/attention.js";
import { LEVELS, type Level, levelFor } from "../alerts/evaluate-thresholds.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { companyLiveness } from "../ladder/company-liveness.js";
import { type LivenessView, livenessProblem } from "../liveness/liveness-view.js";
import { decryptFailuresWithin, summariseSignals, windowStart } from "../signals/signal-summary.js";
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
 * columns to kinds: when the companies table gains stale/live, add
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
  /** What needs attention now across files, connection, creds and signals (worst first). */
  attention: Attention;
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

/** What the ladder's runner records for an alert it handed to the queue. */
const ALERT_QUEUED = "alert queued";

/**
 * A step's result as it stands now: "alert queued" is what the runner knew when it queued the
 * alert; the outbox knows whether it was sent since, is still pending, failed, or was not sent
 * (the same incident had been reported already).
 */
export function currentStepResult(
  store: Store,
  company: string,
  step: Pick<LadderStepRow, "result" | "at">,
): string {
  if (step.result !== ALERT_QUEUED) return step.result;
  const states = store.outbox.ladderAlertStates(company, step.at, 5_000);
  if (states.length === 0) return "alert not sent (already reported)";
  if (states.includes("pending")) return "alert pending";
  if (states.every((s) => s === "failed")) return "alert failed";
  return "alert sent";
}

const toStep = (store: Store, company: string, s: LadderStepRow): StepView => ({
  step: s.step,
  reason: s.reason,
  result: currentStepResult(store, company, s),
  at: s.at,
});

/** Every company's decrypt failures per minute (`SignalQueries.fleetDecryptFailures`). */
type FleetDecryptFailures = ReturnType<Store["signals"]["fleetDecryptFailures"]>;

function toView(
  source: FleetSource,
  config: WardenConfig,
  row: CompanyRow,
  level: Level | undefined,
  connection: ConnectionRow | undefined,
  pairing: PairingRow | undefined,
  step: LadderStepRow | undefined,
  liveness: LivenessView,
  fleetDecrypt?: FleetDecryptFailures,
): CompanyView {
  const settings = companySettings(config, row.id);
  const now = source.now();
  const shownLevel = level ?? levelFor(row.counted, settings.thresholds);
  const shownConnection = toConnectionView(connection);
  const window = settings.signals.alertAt.window;
  const decryptFailures = fleetDecrypt
    ? decryptFailuresWithin(fleetDecrypt.get(row.id), now, window)
    : summariseSignals(source.store.signals, row.id, now, window).decryptFailures;
  return {
    id: row.id,
    attention: companyAttention(
      {
        connection: shownConnection,
        creds: row.credsState,
        level: shownLevel,
        counted: row.counted,
        decryptFailures,
        settings,
        more: [livenessProblem(liveness)],
      },
      now,
    ),
    files: { ...fileKinds(row), byCategory: row.byCategory },
    level: shownLevel,
    creds: row.credsState,
    connection: shownConnection,
    ...(pairing?.qr ? { qr: pairing.qr } : {}),
    ...(pairing?.pairingCode ? { pairingCode: pairing.pairingCode } : {}),
    ladder: step ? toStep(source.store, row.id, step) : null,
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
  const present = store.companies.listPresent();
  const now = source.now();
  // One signals query for the fleet, from the widest window any company uses.
  const widest = Math.max(0, ...present.map((row) => companySettings(config, row.id).signals.alertAt.window));
  const decrypt = store.signals.fleetDecryptFailures(windowStart(now, widest), now);
  return present.map((row) =>
    toView(
      source,
      config,
      row,
      levels.get(row.id)?.level,
      connections.get(row.id),
      pairings.get(row.id),
      steps.get(row.id),
      companyLiveness(store, row.id, source.now()),
      decrypt,
    ),
  );
}

/** One present company (undefined when its folder is gone or it was never seen). */
export function companyView(source: FleetSource, id: string): CompanyView | undefined {
  const { store } = source;
  const row = store.companies.get(id);
  if (!row || row.removedAt !== null) return undefined;
  return toView(
    source,
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

/** Worst first: what needs attention, then level, then not connected, then most files, then id. */
export function worstFirst(a: CompanyView, b: CompanyView): number {
  return (
    compareAttention(a.attention, b.attention) ||
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

/**
 * The one count of workers `warden health`, the bot's /health and /readyz show: `running` are the
 * workers registered as alive (a stopped or dead one from an earlier start is not counted),
 * `alive` those of them heard from within workers.deadAfter.
 */
export function workerCounts(source: FleetSource): {
  alive: number;
  running: number;
  lastHeartbeatAt: number | null;
} {
  const deadline = source.now() - source.config().workers.deadAfter;
  const running = source.store.workers.list().filter((w) => w.status === "alive");
  const alive = running.filter((w) => w.heartbeatAt >= deadline);
  return {
    alive: alive.length,
    running: running.length,
    lastHeartbeatAt: alive.length > 0 ? Math.max(...alive.map((w) => w.heartbeatAt)) : null,
  };
}

/** Workers whose heartbeat is recent enough (status alive, heard from within workers.deadAfter). */
export function aliveWorkers(source: FleetSource): number {
  return workerCounts(source).alive;
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
  const workers = workerCounts(source);
  return {
    at: source.now(),
    workers: { alive: workers.alive, registered: workers.running },
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

/**
 * The Prometheus side: one prom-client registry per server (never the global one, so two servers
 * in one process do not share series). Fleet gauges are refreshed from the store at each scrape:
 * a handful of whole-table queries, then prom-client renders the text format.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { levelFor } from "../alerts/evaluate-thresholds.js";
import { companySettings } from "../config/load.js";
import { companyLiveness } from "../ladder/company-liveness.js";
import { aliveWorkers, type FleetSource, fileKinds, levelRank } from "./fleet-view.js";

/** The registry and what feeds it. */
export interface FleetMetrics {
  readonly registry: Registry;
  /** Records how long a full scan took. */
  observeScan(durationMs: number): void;
  /** Reads the store and returns the exposition text. */
  render(): Promise<string>;
}

/** Reduces a free-text ladder result to a bounded label value. */
export function resultLabel(result: string): "decided" | "failed" | "done" {
  if (result === "decided") return "decided";
  if (result.startsWith("failed")) return "failed";
  return "done";
}

/** Builds the registry with every wa-warden metric and prom-client's process metrics. */
export function createFleetMetrics(source: FleetSource): FleetMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = createMetrics([registry]);
  return {
    registry,
    observeScan: (ms) => m.scanDuration.observe(ms / 1000),
    render: async () => {
      refreshMetrics(source, m);
      return registry.metrics();
    },
  };
}

type Metrics = ReturnType<typeof createMetrics>;

/** Every wa-warden metric, registered in `registers`. */
function createMetrics(registers: Registry[]) {
  const companyGauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ["company"] as const, registers });
  return {
    files: new Gauge({
      name: "warden_company_files",
      help: "Files in the company's auth folder, by kind (total, counted, stale, live)",
      labelNames: ["company", "kind"] as const,
      registers,
    }),
    level: companyGauge(
      "warden_company_level",
      "Alert level: 0 ok, 1 monitor, 2 warning, 3 critical, 4 fatal",
    ),
    connected: companyGauge("warden_company_connected", "1 while the company's WhatsApp socket is open"),
    downSeconds: companyGauge(
      "warden_company_down_seconds",
      "Seconds since the company was last connected (0 while connected)",
    ),
    lastInbound: companyGauge(
      "warden_company_last_inbound_seconds",
      "Seconds since the company's socket last received a message (absent: never)",
    ),
    liveness: new Gauge({
      name: "warden_company_liveness",
      help: "1 for the company's liveness state (ok, quiet, deaf, restricted, flapping, not_open); absent while an open socket awaits its first verdict",
      labelNames: ["company", "state"] as const,
      registers,
    }),
    outboxPending: new Gauge({
      name: "warden_outbox_pending",
      help: "Alerts waiting in the outbox",
      registers,
    }),
    ladderActions: new Counter({
      name: "warden_ladder_actions_total",
      help: "Recovery ladder steps recorded, by action and result (decided, done, failed)",
      labelNames: ["action", "result"] as const,
      registers,
    }),
    scanDuration: new Histogram({
      name: "warden_scan_duration_seconds",
      help: "Duration of a full scan of sessionsDir",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    workersAlive: new Gauge({
      name: "warden_workers_alive",
      help: "Workers whose heartbeat is within workers.deadAfter",
      registers,
    }),
  };
}

/** Sets every gauge from the store as it is now (at each scrape). */
function refreshMetrics(source: FleetSource, m: Metrics): void {
  const { store } = source;
  const now = source.now();
  const config = source.config();
  const connections = store.fleetStats.connections();
  const levels = store.fleetStats.levels();
  // Reset first: a company whose folder went away must not keep its last series.
  for (const g of [m.files, m.level, m.connected, m.downSeconds, m.lastInbound, m.liveness]) g.reset();
  for (const row of store.companies.listPresent()) {
    const company = row.id;
    for (const [kind, value] of Object.entries(fileKinds(row))) m.files.set({ company, kind }, value);
    const alertLevel =
      levels.get(company)?.level ?? levelFor(row.counted, companySettings(config, company).thresholds);
    m.level.set({ company }, levelRank(alertLevel));
    const c = connections.get(company);
    m.connected.set({ company }, c?.state === "open" ? 1 : 0);
    if (c) m.downSeconds.set({ company }, c.downSince === null ? 0 : Math.max(0, (now - c.downSince) / 1000));
    const live = companyLiveness(store, company, now);
    if (live.lastInboundAt !== null)
      m.lastInbound.set({ company }, Math.max(0, (now - live.lastInboundAt) / 1000));
    if (live.state !== null) m.liveness.set({ company, state: live.state }, 1);
  }
  m.outboxPending.set(store.outbox.pendingCount());
  m.workersAlive.set(aliveWorkers(source));
  refreshLadderActions(source, m);
}

/** The ladder step counter, from the recorded step totals with their results reduced to labels. */
function refreshLadderActions(source: FleetSource, m: Metrics): void {
  m.ladderActions.reset();
  const totals = new Map<string, { action: string; result: string; n: number }>();
  for (const t of source.store.fleetStats.ladderStepTotals()) {
    const result = resultLabel(t.result);
    const key = `${t.step}\0${result}`;
    const entry = totals.get(key) ?? { action: t.step, result, n: 0 };
    entry.n += t.n;
    totals.set(key, entry);
  }
  for (const t of totals.values()) m.ladderActions.inc({ action: t.action, result: t.result }, t.n);
}

/**
 * The long-running watchdog, wired from its parts: the fleet scanner feeds snapshots; each one is
 * stored, evaluated against the company's thresholds and turned into outbox rows in one
 * transaction; the dispatcher delivers them. Config edits apply without restart.
 */
import path from "node:path";
import { finishInterruptedRestore, interruptedRestores } from "../actions/restore.js";
import { evaluateThresholds } from "../alerts/evaluate-thresholds.js";
import { renderAlert, renderNotice } from "../alerts/format-alert.js";
import type { Notifier } from "../alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../alerts/outbox-dispatcher.js";
import { checkSignalAlerts } from "../alerts/signal-alerts.js";
import type { Clock } from "../clock.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import type { CompanySettings } from "../config/schema.js";
import { describeError } from "../errors.js";
import { countedFiles } from "../fleet/count-files.js";
import { FleetScanner, type ScannerReport } from "../fleet/fleet-scanner.js";
import { resolvePreKeyReserve } from "../fleet/prekey-reserve.js";
import type { FolderSnapshot } from "../fleet/scan-folder.js";
import { probeTcp } from "../ladder/connectivity-probe.js";
import { LadderRunner } from "../ladder/ladder-runner.js";
import type { Logger } from "../logger.js";
import type { NewOutboxMessage } from "../store/outbox.js";
import type { Store } from "../store/store.js";
import { createSessionRepairs, type SessionRepairs } from "./session-repairs.js";
import { type Restarter, restartThroughPm2, watchWorkers } from "./worker-watch.js";

/** What the supervisor is built from. */
export interface SupervisorOptions {
  config: WardenConfig;
  store: Store;
  logger: Logger;
  clock: Clock;
  /** Notifiers by channel; "telegram" when a token is set, "log" always. */
  notifiers: ReadonlyMap<string, Notifier>;
  /** Scanner without file watching (reconcile only). */
  watch?: boolean;
  /** How a dead worker is restarted (default: the pm2 API). */
  restartWorker?: Restarter;
  /** WARDEN_HOME: backups, restore journals. Without it the recovery ladder does not run. */
  home?: string;
  /** WARDEN_BACKUP_KEY. */
  backupKey?: string;
  /** false: no recovery ladder (alerts only). */
  ladder?: boolean;
  /** The connectivity probe (default: TCP to fleet.probe's host:port). */
  probe?: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
  dispatcher?: Partial<
    Pick<
      ConstructorParameters<typeof OutboxDispatcher>[0],
      "retryBaseMs" | "retryMaxMs" | "perTargetIntervalMs"
    >
  >;
}

/** The supervisor. */
export class Supervisor {
  private config: WardenConfig;
  private readonly options: SupervisorOptions;
  private readonly scanner: FleetScanner;
  readonly dispatcher: OutboxDispatcher;
  private readonly log: Logger;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private workerTimer: NodeJS.Timeout | undefined;
  private ladderTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** The recovery ladder (undefined without `home`, or with `ladder: false`). */
  readonly ladder: LadderRunner | undefined;
  private closed = false;
  /** Opt-in per-peer session repairs (issue 14); undefined without `home`. */
  readonly repairs: SessionRepairs | undefined;

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.config = options.config;
    this.log = options.logger.child({ component: "supervisor" });
    this.dispatcher = new OutboxDispatcher({
      outbox: options.store.outbox,
      notifiers: options.notifiers,
      clock: options.clock,
      logger: options.logger.child({ component: "outbox" }),
      ...options.dispatcher,
    });
    this.scanner = new FleetScanner({
      sessionsDir: this.config.sessionsDir,
      debounceMs: this.config.scan.debounce,
      reconcileEveryMs: this.config.scan.reconcileEvery,
      logger: options.logger.child({ component: "fleet" }),
      clock: options.clock,
      watch: options.watch ?? true,
      onSnapshots: (snapshots) => this.onSnapshots(snapshots),
      onRemoved: (company) => this.onRemoved(company),
      onReport: (report) => this.onReport(report),
    });
    if (options.home !== undefined) {
      this.repairs = createSessionRepairs({
        store: options.store,
        clock: options.clock,
        logger: this.log,
        config: () => this.config,
        backupsRoot: path.join(options.home, "backups"),
        ...(options.backupKey !== undefined ? { backupKey: options.backupKey } : {}),
        notify: (company, title, detail, payload) => {
          this.queueNotice(title, detail, payload, company);
          this.dispatcher.kick();
        },
      });
    }
    if (options.home !== undefined && options.ladder !== false) {
      this.ladder = new LadderRunner({
        store: options.store,
        clock: options.clock,
        logger: options.logger,
        config: () => this.config,
        backupsRoot: path.join(options.home, "backups"),
        backupKey: options.backupKey,
        notify: (company, title, detail, payload) => {
          this.queueNotice(title, detail, payload, company ?? undefined);
          this.dispatcher.kick();
        },
      });
    }
  }

  /** The scanner (mode, companies). */
  get fleet(): FleetScanner {
    return this.scanner;
  }

  /** First full scan (alerts queued), outbox delivery started; resolves when ready. */
  async start(): Promise<void> {
    this.dispatcher.kick();
    await this.finishInterruptedRestores();
    await this.scanner.start();
    this.scheduleMaintenance();
    this.scheduleWorkerWatch();
    this.scheduleLadder();
    void this.runProbe();
  }

  /** One ladder check of the whole fleet now (the timer calls it every fleet.checkEvery). */
  checkLadder(): void {
    this.ladder?.check();
  }

  private scheduleLadder(): void {
    if (this.closed || !this.ladder) return;
    this.ladderTimer = setTimeout(() => {
      try {
        this.checkLadder();
      } catch (err) {
        this.log.error({ err }, `ladder check failed: ${describeError(err)}`);
      }
      this.scheduleLadder();
    }, this.config.fleet.checkEvery);
  }

  /** Probes connectivity to WhatsApp every fleet.probe.every; the result feeds outage detection. */
  private async runProbe(): Promise<void> {
    const probe = this.config.fleet.probe;
    if (this.closed || !this.ladder) return;
    if (!probe) {
      this.ladder.setProbeResult(null);
      return;
    }
    const ok = await (this.options.probe ?? probeTcp)(probe.host, probe.port, probe.timeout);
    if (this.closed) return;
    this.ladder.setProbeResult(ok);
    this.probeTimer = setTimeout(() => void this.runProbe(), probe.every);
  }

  /** A restore a crash interrupted is finished (or undone) before anything looks at the folders. */
  private async finishInterruptedRestores(): Promise<void> {
    const home = this.options.home;
    if (home === undefined) return;
    for (const company of await interruptedRestores(home)) {
      try {
        const outcome = await finishInterruptedRestore(home, this.config.sessionsDir, company);
        if (outcome) {
          this.log.warn({ company, outcome }, `Interrupted restore of ${company}: ${outcome}`);
          this.options.store.audit.add({
            at: this.options.clock.now(),
            actor: "supervisor",
            company,
            action: "restore-recovery",
            ok: true,
            result: outcome,
            detail: {},
          });
        }
      } catch (err) {
        this.log.error(
          { company, err },
          `Could not finish the interrupted restore of ${company}: ${describeError(err)}`,
        );
      }
    }
  }

  /** Checks worker heartbeats and connection transitions now; queues what needs telling. */
  async checkWorkers(): Promise<void> {
    const { store, clock } = this.options;
    const notices = await watchWorkers(
      store,
      this.config,
      clock,
      this.log,
      this.options.restartWorker ?? restartThroughPm2,
    );
    if (notices.length === 0 || this.closed) return;
    store.transaction(() => {
      for (const n of notices)
        this.queueNotice(n.title, n.detail, { kind: n.kind, company: n.company }, n.company ?? undefined);
    });
    this.dispatcher.kick();
  }

  private scheduleWorkerWatch(): void {
    if (this.closed) return;
    this.workerTimer = setTimeout(() => {
      void this.checkWorkers()
        .then(() => this.checkSignals())
        .catch((err) => this.log.error({ err }, "worker watch failed"))
        .finally(() => this.scheduleWorkerWatch());
    }, this.config.workers.heartbeatEvery);
  }

  /** Raises / resolves the decrypt-failure alerts from the workers' signal buckets (issue 14). */
  checkSignals(): void {
    if (this.closed) return;
    const queued = checkSignalAlerts(
      this.options.store,
      this.config,
      this.options.clock.now(),
      (settings, company, kind, rendered) => this.queue(settings, company, kind, null, rendered),
    );
    if (queued > 0) this.dispatcher.kick();
    void this.repairs?.check();
  }

  /** Applies a new config: thresholds and chats at once, counts re-evaluated. sessionsDir needs a restart. */
  applyConfig(next: WardenConfig): void {
    if (next.sessionsDir !== this.config.sessionsDir) {
      this.log.warn(
        { from: this.config.sessionsDir, to: next.sessionsDir },
        "sessionsDir changed: restart the supervisor for it to take effect; other settings applied",
      );
      next = { ...next, sessionsDir: this.config.sessionsDir };
    }
    this.config = next;
    this.log.info({ file: next.file }, "Configuration reloaded");
    void this.scanner.fullScan();
  }

  /** Records and reports a config edit that did not validate (the last good config stays). */
  reportConfigError(message: string): void {
    this.log.error(
      { kind: "config-invalid" },
      `Config edit rejected, keeping the last good config: ${message}`,
    );
    const now = this.options.clock.now();
    this.options.store.transaction(() => {
      this.options.store.events.add(now, "supervisor", "config-invalid", message);
      this.queueNotice("Config edit rejected", `Keeping the last good config. ${message}`, {
        kind: "config-invalid",
      });
    });
    this.dispatcher.kick();
  }

  /** Stops watching, flushes deliverable alerts (up to `flushMs`), stops timers. Idempotent. */
  async close(flushMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    if (this.workerTimer) clearTimeout(this.workerTimer);
    if (this.ladderTimer) clearTimeout(this.ladderTimer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await this.ladder?.close();
    await this.repairs?.close();
    await this.scanner.close();
    await this.dispatcher.flush(flushMs);
    await this.dispatcher.close();
  }

  private onSnapshots(snapshots: FolderSnapshot[]): void {
    if (this.closed) return;
    const { store, clock } = this.options;
    const now = clock.now();
    let queued = 0;
    store.transaction(() => {
      for (const snapshot of snapshots) {
        const settings = companySettings(this.config, snapshot.company);
        const reserve = resolvePreKeyReserve(settings.preKeyReserve);
        const counted = countedFiles(snapshot, reserve);
        store.companies.save(snapshot, counted);
        const previous = store.alertState.get(snapshot.company);
        const { state, alerts } = evaluateThresholds(previous, counted, settings, now);
        store.alertState.put(snapshot.company, state, now);
        for (const decision of alerts) {
          const rendered = renderAlert(
            snapshot.company,
            decision,
            { total: snapshot.total, counted, reserve, byCategory: snapshot.byCategory },
            settings,
          );
          queued += this.queue(settings, snapshot.company, decision.kind, decision.level, rendered);
        }
      }
    });
    if (queued > 0) this.dispatcher.kick();
  }

  private onRemoved(company: string): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    this.options.store.transaction(() => {
      if (!this.options.store.companies.markRemoved(company, now)) return;
      this.queueNotice(
        `Company folder removed: ${company}`,
        `${this.config.sessionsDir}/${company} disappeared. If this was not intended, its creds.json is gone: restore a backup.`,
        { kind: "company-removed", company },
        company,
      );
    });
    this.dispatcher.kick();
  }

  private onReport(report: ScannerReport): void {
    if (this.closed) return;
    const now = this.options.clock.now();
    this.options.store.transaction(() => {
      this.options.store.events.add(now, "fleet", report.kind, report.message);
      if (report.kind === "watcher-fallback" || report.kind === "scan-failed") {
        this.queueNotice(`wa-warden: ${report.kind}`, report.message, { kind: report.kind }, report.company);
      }
    });
    this.dispatcher.kick();
  }

  private queueNotice(
    title: string,
    detail: string,
    payload: Record<string, unknown>,
    company?: string,
  ): void {
    const settings = company ? companySettings(this.config, company) : this.config.defaults;
    this.queue(settings, company ?? null, String(payload.kind), null, renderNotice(title, detail, payload));
  }

  /** Adds one outbox row per chat (or one log row without a token). Returns rows added. */
  private queue(
    settings: CompanySettings,
    company: string | null,
    kind: string,
    level: string | null,
    rendered: { html: string; text: string; silent: boolean; payload: Record<string, unknown> },
  ): number {
    const { store, notifiers, clock } = this.options;
    const messages: NewOutboxMessage[] = [];
    const base = { company, kind, level, ...rendered };
    if (notifiers.has("telegram") && settings.telegram.chatIds.length > 0) {
      const moved = store.outbox.chatMigrations();
      const targets = new Set(settings.telegram.chatIds.map((id) => moved.get(String(id)) ?? String(id)));
      for (const target of targets) messages.push({ ...base, channel: "telegram", target });
    } else {
      messages.push({ ...base, channel: "log", target: "log" });
    }
    store.outbox.add(messages, clock.now());
    return messages.length;
  }

  /** Hourly: prune old history and delivered outbox rows. */
  private scheduleMaintenance(): void {
    if (this.closed) return;
    this.maintenanceTimer = setTimeout(() => {
      const now = this.options.clock.now();
      const keep = this.config.history.keep;
      const history = this.options.store.companies.pruneHistory(now - keep);
      const outbox = this.options.store.outbox.prune(now - keep);
      this.options.store.signals.prune(now - keep);
      if (history + outbox > 0) this.log.info({ history, outbox }, "Pruned old history and delivered alerts");
      this.scheduleMaintenance();
    }, 3_600_000);
    this.maintenanceTimer.unref();
  }
}

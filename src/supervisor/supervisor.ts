/**
 * The long-running watchdog, wired from its parts: the fleet scanner feeds snapshots; each one is
 * stored, evaluated against the company's thresholds and turned into outbox rows in one
 * transaction; the dispatcher delivers them. Config edits apply without restart.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { countSnapshot } from "../actions/count-stale.js";
import { finishInterruptedRestore, interruptedRestores } from "../actions/folder-swap.js";
import { withAlertButtons } from "../alerts/alert-buttons.js";
import { alertChats } from "../alerts/chat-routing.js";
import { evaluateThresholds } from "../alerts/evaluate-thresholds.js";
import { renderAlert, renderNotice } from "../alerts/format-alert.js";
import { createIncidentGate, incidentFamily } from "../alerts/incident-gate.js";
import type { Notifier } from "../alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../alerts/outbox-dispatcher.js";
import { checkSignalAlerts } from "../alerts/signal-alerts.js";
import { createStoreMuteControl } from "../bot/mute-control.js";
import { TelegramBot, type TelegramBotOptions } from "../bot/telegram-bot.js";
import type { Clock } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { describeError } from "../errors.js";
import { FleetScanner, type ScannerReport } from "../fleet/fleet-scanner.js";
import { resolveKeepPreKeys } from "../fleet/prekey-reserve.js";
import type { FolderSnapshot } from "../fleet/scan-folder.js";

import { backupsRoot } from "../home-layout.js";
import type { ListenAddress } from "../http/listen-address.js";
import { createHttpServer, type HttpServer } from "../http/server.js";
import { type ProbeResult, probeTcpDetailed } from "../ladder/connectivity-probe.js";

import { LadderRunner } from "../ladder/ladder-runner.js";
import type { Logger } from "../logger.js";
import type { NewOutboxMessage } from "../store/outbox.js";
import type { Store } from "../store/store.js";
import { createSessionRepairs, type SessionRepairs } from "./session-repairs.js";
import { StoreGuard } from "./store-guard.js";
import { type Restarter, restartThroughPm2, watchWorkers } from "./worker-watch.js";

/** Connection notices the recovery ladder reports itself when it runs. */
const LADDER_TELLS = new Set([
  "connection-qr_required",
  "connection-forbidden",
  "connection-replaced",
  "connection-outdated_client",
]);

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
  probe?: (host: string, port: number, timeoutMs: number) => Promise<boolean | ProbeResult>;
  /** The Telegram bot (commands, buttons, QR photos); absent without a token. */
  bot?: Pick<TelegramBotOptions, "token" | "apiRoot" | "pollTimeoutSec" | "backoffMs" | "qrEveryMs" | "mute">;
  /** The HTTP side (resolved `http.listen` and WARDEN_HTTP_TOKEN); absent: no HTTP server. */
  http?: { address: ListenAddress; token: string | undefined };
  dispatcher?: Partial<
    Pick<
      ConstructorParameters<typeof OutboxDispatcher>[0],
      "retryBaseMs" | "retryMaxMs" | "perTargetIntervalMs"
    >
  >;
}

/**
 * Owns the fleet scanner, the outbox dispatcher and the recovery ladder, and the timers that drive
 * them (maintenance, dead workers, ladder checks, connectivity probe); `close()` stops all of them.
 */
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
  /** The last probe outcome recorded ("host:port" or "host:port: error"). */
  private lastProbe: string | undefined;
  /** The recovery ladder (undefined without `home`, or with `ladder: false`). */
  readonly ladder: LadderRunner | undefined;
  /** The Telegram bot (undefined without `bot`). */
  readonly bot: TelegramBot | undefined;
  private closed = false;
  private readonly guard: StoreGuard;
  /** One incident, one alert: notices already told per company and down episode. */
  private readonly incidents = createIncidentGate();
  /** A config edit was rejected and no good edit followed yet (one alert per broken spell). */
  private configRejected = false;
  private firstScanDone = false;
  /** The HTTP side, when `http` was given; `http.boundAddress` once started. */
  readonly http: HttpServer | undefined;
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
      grouping: () => ({ above: this.config.alerts.groupAbove, waitMs: this.config.alerts.groupWait }),
      ...options.dispatcher,
    });
    this.scanner = new FleetScanner({
      sessionsDir: this.config.sessionsDir,
      debounceMs: this.config.scan.debounce,
      reconcileEveryMs: this.config.scan.reconcileEvery,
      logger: options.logger.child({ component: "fleet" }),
      clock: options.clock,
      watch: options.watch ?? true,
      onSnapshots: (snapshots) => this.guard.run("saving scan results", () => this.onSnapshots(snapshots)),
      onRemoved: (company) => this.guard.run("recording a removed folder", () => this.onRemoved(company)),
      onReport: (report) => this.guard.run("recording a scanner report", () => this.onReport(report)),
      onFullScan: (ms) => this.http?.metrics.observeScan(ms),
      preKeyFloor: (company) => resolveKeepPreKeys(companySettings(this.config, company).cleanup.keepPreKeys),
    });
    this.guard = new StoreGuard({
      logger: this.log,
      notifiers: options.notifiers,
      chatIds: () => this.config.defaults.telegram.chatIds.map(String),
      file: options.store.db.name,
      retry: () => this.scanner.fullScan(),
      now: () => options.clock.now(),
      onRecovered: (ms) => {
        this.options.store.transaction(() =>
          this.queueNotice(
            "wa-warden: disk space is back",
            `${options.store.db.name} can be written again after ${Math.round(ms / 1000)} s; counts and alerts were computed again from the folders.`,
            { kind: "disk-ok" },
          ),
        );
        this.dispatcher.kick();
      },
    });
    if (options.http)
      this.http = createHttpServer({
        ...options.http,
        store: options.store,
        config: () => this.config,
        now: () => options.clock.now(),
        logger: options.logger,
        firstScanDone: () => this.firstScanDone,
      });
    if (options.home !== undefined) {
      this.repairs = createSessionRepairs({
        store: options.store,
        clock: options.clock,
        logger: this.log,
        config: () => this.config,
        backupsRoot: backupsRoot(options.home),
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
        backupsRoot: backupsRoot(options.home),
        backupKey: options.backupKey,
        notify: (company, title, detail, payload) => {
          this.queueNotice(title, detail, payload, company ?? undefined);
          this.dispatcher.kick();
        },
      });
    }
    this.bot = options.bot
      ? new TelegramBot({
          // /mute, /unmute and Mute 1h write the same mutes store as `warden mute` (issue 10).
          mute: createStoreMuteControl(options.store.mutes, () => options.clock.now()),
          ...options.bot,
          config: () => this.config,
          store: options.store,
          clock: options.clock,
          logger: options.logger,
          home: options.home,
          backupKey: options.backupKey,
          notify: (title, detail, kind) => {
            this.queueNotice(title, detail, { kind });
            this.dispatcher.kick();
          },
        })
      : undefined;
  }

  /** The scanner (mode, companies). */
  get fleet(): FleetScanner {
    return this.scanner;
  }

  /** First full scan (alerts queued), outbox delivery started; resolves when ready. */
  async start(): Promise<void> {
    if (this.http) {
      const address = await this.http.listen();
      this.log.info({ address }, `HTTP listening on http://${address}`);
    }
    this.dispatcher.kick();
    await this.finishInterruptedRestores();
    await this.scanner.start();
    this.firstScanDone = true;
    this.scheduleMaintenance();
    this.scheduleWorkerWatch();
    this.scheduleLadder();
    this.tellOutageInProgress();
    void this.runProbe();
    await this.bot?.start();
  }

  /**
   * An outage that began before this start (Telegram may have been configured meanwhile): one
   * notice, so it is not only in a log nobody read.
   */
  private tellOutageInProgress(): void {
    const outage = this.ladder ? this.options.store.ladder.currentOutage() : undefined;
    if (!outage || !this.options.notifiers.has("telegram")) return;
    const since = formatDuration(this.options.clock.now() - outage.startedAt);
    this.queueNotice(
      "Network outage in progress",
      `Since ${new Date(outage.startedAt).toISOString()} (${since}): ${outage.reason}. The ladder holds cleanups and resets until the network is back.`,
      { kind: "outage", level: "critical", down: outage.down },
    );
    this.dispatcher.kick();
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
    const raw = await (this.options.probe ?? probeTcpDetailed)(probe.host, probe.port, probe.timeout);
    if (this.closed) return;
    const result = typeof raw === "boolean" ? { ok: raw, error: raw ? null : "failed" } : raw;
    const target = `${probe.host}:${probe.port}`;
    const detail = result.ok ? target : `${target}: ${result.error}`;
    // Recorded on every change, for `warden status` (another process) and the outage alert.
    if (detail !== this.lastProbe) {
      this.lastProbe = detail;
      this.options.store.events.add(
        this.options.clock.now(),
        "fleet",
        result.ok ? "probe-ok" : "probe-failed",
        detail,
      );
      if (result.ok) this.log.info({ target }, `Connectivity probe to ${target} ok`);
      else
        this.log.warn(
          { target, error: result.error },
          `Connectivity probe to ${target} failed: ${result.error}`,
        );
    }
    this.ladder.setProbeResult(result.ok, result.ok ? null : `probe ${detail}`);
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
    if (this.closed) return;
    // With the ladder running, it tells these states itself, with its next step (backup, stop,
    // the pairing command): the transition's own notice would be the same incident twice.
    const told = this.ladder ? notices.filter((n) => !LADDER_TELLS.has(n.kind)) : notices;
    if (told.length === 0) return;
    store.transaction(() => {
      for (const n of told)
        this.queueNotice(
          n.title,
          n.detail,
          { kind: n.kind, company: n.company, level: n.level },
          n.company ?? undefined,
        );
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
      (_settings, company, kind, rendered) => this.queue(company, kind, null, rendered),
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
    if (next.http.listen !== this.config.http.listen)
      this.log.warn(
        { from: this.config.http.listen, to: next.http.listen },
        "http.listen changed: restart the supervisor for it to take effect",
      );
    this.config = next;
    this.log.info({ file: next.file }, "Configuration reloaded");
    if (this.configRejected) {
      this.configRejected = false;
      this.queueNotice("Config OK again", `${next.file} is valid again and in force.`, {
        kind: "config-ok",
        level: "ok",
      });
      this.dispatcher.kick();
    }
    void this.scanner.fullScan();
  }

  /** Records and reports a config edit that did not validate (the last good config stays). */
  reportConfigError(message: string): void {
    this.log.error(
      { kind: "config-invalid" },
      `Config edit rejected, keeping the last good config: ${message}`,
    );
    const now = this.options.clock.now();
    // Several saves while fixing the file are one incident: the first one pages, "Config OK again"
    // closes it; the rest are in the log and the events table.
    const first = !this.configRejected;
    this.configRejected = true;
    this.options.store.transaction(() => {
      this.options.store.events.add(now, "supervisor", "config-invalid", message);
      if (first)
        this.queueNotice(
          "Config edit rejected",
          `Keeping the last good config until the file is fixed. ${message} (check it with \`warden config check\`)`,
          { kind: "config-invalid", level: "warning" },
        );
    });
    if (first) this.dispatcher.kick();
  }

  /** Stops watching, flushes deliverable alerts (up to `flushMs`), stops timers. Idempotent. */
  async close(flushMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    if (this.workerTimer) clearTimeout(this.workerTimer);
    if (this.ladderTimer) clearTimeout(this.ladderTimer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await this.bot?.close();
    this.guard.close();
    await this.http?.close();
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
        const counts = countSnapshot(snapshot, settings, now);
        const before = store.companies.get(snapshot.company);
        store.companies.save(snapshot, counts);
        queued += this.credsChanged(snapshot, before?.credsState, before?.credsError ?? null);
        const previous = store.alertState.get(snapshot.company);
        // A mute from `warden mute` / the bot, or mutedUntil in the config: the later one holds.
        const stored = store.mutes.get(snapshot.company)?.until ?? null;
        const mutedUntil =
          stored === null || (settings.mutedUntil !== null && settings.mutedUntil > stored)
            ? settings.mutedUntil
            : stored;
        const { state, alerts } = evaluateThresholds(
          previous,
          counts.counted,
          { ...settings, mutedUntil },
          now,
        );
        store.alertState.put(snapshot.company, state, now);
        const conn = alerts.length > 0 ? store.connections.get(snapshot.company) : undefined;
        const down =
          conn && conn.state !== "open" && conn.downSince !== null
            ? { state: conn.state, downFor: now - conn.downSince }
            : undefined;
        for (const decision of alerts) {
          const rendered = renderAlert(
            snapshot.company,
            decision,
            { ...counts, byCategory: snapshot.byCategory },
            settings,
            down,
          );
          queued += this.queue(snapshot.company, decision.kind, decision.level, rendered);
        }
      }
    });
    if (queued > 0) this.dispatcher.kick();
  }

  /**
   * A corrupt creds.json is its own alert, with the reason (issue 9: it was only ever seen as
   * "Network outage", and `status` said `corrupt` without why); once more when it is readable again.
   */
  private credsChanged(snapshot: FolderSnapshot, was: string | undefined, wasError: string | null): number {
    const { creds, company } = snapshot;
    if (creds.state === "corrupt" && (was !== "corrupt" || wasError !== (creds.error ?? null))) {
      const why = creds.error ?? "unreadable";
      this.log.error({ company, kind: "creds-corrupt" }, `${company}: creds.json is corrupt: ${why}`);
      const detail = `${this.config.sessionsDir}/${company}/creds.json: ${why}. The worker will not connect it (nothing is overwritten); restore a backup or fix the file.`;
      return this.queue(
        company,
        "creds-corrupt",
        null,
        renderNotice(`Corrupt creds.json: ${company}`, detail, {
          kind: "creds-corrupt",
          company,
          reason: why,
        }),
      );
    }
    if (was === "corrupt" && creds.state !== "corrupt") {
      const detail = `${this.config.sessionsDir}/${company}/creds.json is ${creds.state === "ok" ? "readable again" : "gone"}.`;
      return this.queue(
        company,
        "creds-ok",
        null,
        renderNotice(`creds.json no longer corrupt: ${company}`, detail, {
          kind: "creds-ok",
          company,
          state: creds.state,
        }),
      );
    }
    return 0;
  }

  private onRemoved(company: string): void {
    if (this.closed) return;
    // wa-warden's own folder swap (restore, new pairing) renames the folder away for an instant
    // under a journal: not a removal, no alarm (issue 10, trap 4). Folder back already: same.
    const home = this.options.home;
    const swapping = home !== undefined && existsSync(path.join(home, "restores", `${company}.json`));
    if (swapping || existsSync(path.join(this.config.sessionsDir, company))) {
      this.log.info(
        { company },
        `${company}: folder swapped by wa-warden (restore or new pairing), not removed`,
      );
      return;
    }
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
    if (company) {
      const conn = this.options.store.connections.get(company);
      const family = incidentFamily(String(payload.kind), conn?.state ?? null);
      if (!this.incidents.admit(company, family, conn?.downSince ?? null)) {
        this.log.info(
          { company, kind: payload.kind },
          `${title}: same incident already reported, not sent again`,
        );
        return;
      }
    }
    this.queue(company ?? null, String(payload.kind), null, renderNotice(title, detail, payload));
  }

  /** Adds one outbox row per chat (or one log row without a token). Returns rows added. */
  private queue(
    company: string | null,
    kind: string,
    level: string | null,
    rendered: { html: string; text: string; silent: boolean; payload: Record<string, unknown> },
  ): number {
    const { store, notifiers, clock } = this.options;
    const messages: NewOutboxMessage[] = [];
    const base = { company, kind, level, ...rendered };
    const targets = alertChats(this.config, company, store.outbox.chatMigrations());
    if (notifiers.has("telegram") && targets.length > 0) {
      for (const target of targets)
        messages.push(withAlertButtons(store.bot, { ...base, channel: "telegram", target }, clock.now()));
    } else {
      messages.push({ ...base, channel: "log", target: "log" });
    }
    store.outbox.add(messages, clock.now());
    return messages.length;
  }

  /** Hourly: prune old history, delivered outbox rows and their buttons. */
  private scheduleMaintenance(): void {
    if (this.closed) return;
    this.maintenanceTimer = setTimeout(() => {
      this.guard.run("pruning old history", () => {
        const now = this.options.clock.now();
        const keep = this.config.history.keep;
        const history = this.options.store.companies.pruneHistory(now - keep);
        const outbox = this.options.store.outbox.prune(now - keep);
        // Alert buttons older than the delivered alerts they sat under answer "no longer valid".
        this.options.store.bot.pruneCallbacks(now - keep);
        this.options.store.signals.prune(now - keep);
        if (history + outbox > 0)
          this.log.info({ history, outbox }, "Pruned old history and delivered alerts");
      });
      this.scheduleMaintenance();
    }, 3_600_000);
    this.maintenanceTimer.unref();
  }
}

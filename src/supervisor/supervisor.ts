/**
 * The long-running watchdog, wired from its parts: the fleet scanner feeds snapshots to the intake
 * (store + rules + outbox in one transaction, `snapshot-intake.ts`); the dispatcher delivers what
 * the alert queue added; the scheduler runs the periodic checks; config edits reach the live config
 * without restart.
 */
import { type ActionContext, createActionContext } from "../actions/action-context.js";
import type { Notifier } from "../alerts/notifiers/notifier.js";
import { OutboxDispatcher } from "../alerts/outbox-dispatcher.js";
import { PostgresCompanies } from "../auth-store/postgres-companies.js";
import { createStoreMuteControl } from "../bot/mute-control.js";
import { TelegramBot, type TelegramBotOptions } from "../bot/telegram-bot.js";
import type { Clock } from "../clock.js";
import { companySettings, type WardenConfig } from "../config/load.js";
import { FleetScanner } from "../fleet/fleet-scanner.js";
import { resolveKeepPreKeys } from "../fleet/prekey-reserve.js";
import { backupsRoot } from "../home-layout.js";
import type { ListenAddress } from "../http/listen-address.js";
import { createHttpServer, type HttpServer } from "../http/server.js";
import type { ProbeResult } from "../ladder/connectivity-probe.js";
import { LadderRunner } from "../ladder/ladder-runner.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { type AlertQueue, createAlertQueue } from "./alert-queue.js";
import { createLiveConfig, type LiveConfig } from "./live-config.js";
import { createOnCall } from "./on-call.js";
import { createPeriodicChecks, type PeriodicChecks, scheduleChecks } from "./periodic-checks.js";
import { createScheduledBackups, type ScheduledBackups } from "./scheduled-backups.js";
import { createScheduler } from "./scheduler.js";
import { createSessionRepairs, type SessionRepairs } from "./session-repairs.js";
import { createSnapshotIntake, type SnapshotIntake } from "./snapshot-intake.js";
import { finishInterruptedRestores, tellOutageInProgress } from "./start-tasks.js";
import { StoreGuard } from "./store-guard.js";
import type { Restarter } from "./worker-watch.js";

/** How often the supervisor looks for scheduled backups that are due. */
const BACKUP_CHECK_EVERY_MS = 60_000;

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
  /** WARDEN_PG_URL: postgres companies are counted from its rows, refreshed before each full scan. */
  pgUrl?: string;
  /** WARDEN_AUTH_KEY: the database stores' passphrase (default: backupKey). */
  authKey?: string;
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

/** A notice outside any transaction, delivered at once. */
type Tell = (title: string, detail: string, payload: Record<string, unknown>, company?: string) => void;

/** What the constructor's parts are wired with (built once in the constructor). */
interface Wiring {
  /** The live config. */
  config: () => WardenConfig;
  /** Starts delivery of what was queued. */
  kick: () => void;
  /** True once the supervisor closes. */
  closed: () => boolean;
  tell: Tell;
  actions: ActionContext;
}

/**
 * Owns the fleet scanner, the outbox dispatcher, the recovery ladder, the bot and the HTTP side, and
 * the scheduler whose timers drive them (maintenance, dead workers, ladder checks, connectivity
 * probe); `close()` stops all of them.
 */
export class Supervisor {
  private readonly options: SupervisorOptions;
  private readonly scanner: FleetScanner;
  readonly dispatcher: OutboxDispatcher;
  private readonly log: Logger;
  private readonly scheduler = createScheduler();
  /** The recovery ladder (undefined without `home`, or with `ladder: false`). */
  readonly ladder: LadderRunner | undefined;
  /** The Telegram bot (undefined without `bot`). */
  readonly bot: TelegramBot | undefined;
  private closed = false;
  private readonly guard: StoreGuard;
  private readonly alerts: AlertQueue;
  private readonly live: LiveConfig;
  private readonly intake: SnapshotIntake;
  private readonly checks: PeriodicChecks;
  private firstScanDone = false;
  private firstScanRun: Promise<void> | undefined;
  /** The HTTP side, when `http` was given; `http.boundAddress` once started. */
  readonly http: HttpServer | undefined;
  /** Opt-in per-peer session repairs; undefined without `home`. */
  readonly repairs: SessionRepairs | undefined;
  /** Scheduled backups (`backups.every`); undefined without `home`. */
  private readonly backups: ScheduledBackups | undefined;

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.log = options.logger.child({ component: "supervisor" });
    const config = (): WardenConfig => this.live.current();
    const kick = (): void => this.dispatcher.kick();
    const closed = (): boolean => this.closed;
    const tell: Tell = (title, detail, payload, company) => {
      this.alerts.notice(title, detail, payload, company);
      kick();
    };
    const { store, clock } = options;
    // The one action context of this process: the ladder, repairs, scheduled backups and the bot act through it.
    const actions = createActionContext({
      store,
      clock,
      config,
      home: options.home,
      backupKey: options.backupKey,
      authKey: options.authKey,
      pgUrl: options.pgUrl,
    });
    const wiring: Wiring = { config, kick, closed, tell, actions };
    this.alerts = createAlertQueue({ store, notifiers: options.notifiers, clock, logger: this.log, config });
    this.live = createLiveConfig({
      initial: options.config,
      store,
      clock,
      logger: this.log,
      alerts: this.alerts,
      kick,
      rescan: () => void this.scanner.fullScan(),
    });
    this.intake = createSnapshotIntake({
      store,
      clock,
      logger: this.log,
      config,
      home: options.home,
      alerts: this.alerts,
      kick,
      closed,
    });
    this.dispatcher = new OutboxDispatcher({
      outbox: store.outbox,
      notifiers: options.notifiers,
      clock,
      logger: options.logger.child({ component: "outbox" }),
      grouping: () => ({ above: config().alerts.groupAbove, waitMs: config().alerts.groupWait }),
      ...options.dispatcher,
    });
    this.scanner = this.createScanner(wiring);
    this.guard = this.createGuard(wiring);
    this.http = this.createHttp(wiring);
    this.repairs = this.createRepairs(wiring);
    this.ladder = this.createLadder(wiring);
    this.backups = this.createBackups(wiring);
    this.bot = this.createBot(wiring);
    this.checks = this.createChecks(wiring);
  }

  /** The fleet scanner; what it reports goes through the store guard into the intake. */
  private createScanner({ config }: Wiring): FleetScanner {
    const { options } = this;
    return new FleetScanner({
      sessionsDir: config().sessionsDir,
      debounceMs: config().scan.debounce,
      reconcileEveryMs: config().scan.reconcileEvery,
      logger: options.logger.child({ component: "fleet" }),
      clock: options.clock,
      watch: options.watch ?? true,
      countDue: (company) => this.intake.countDue(company),
      onSnapshots: (snapshots, fullScan) =>
        this.guard.run("saving scan results", () => this.intake.snapshots(snapshots, fullScan)),
      onRemoved: (company) =>
        this.guard.run("recording a removed folder", () => this.intake.removed(company)),
      onReport: (report) => this.guard.run("recording a scanner report", () => this.intake.report(report)),
      onFullScan: (ms) => this.http?.metrics.observeScan(ms),
      preKeyFloor: (company) => resolveKeepPreKeys(companySettings(config(), company).cleanup.keepPreKeys),
      ...(options.home !== undefined ? { authHome: options.home } : {}),
      ...(options.pgUrl !== undefined ? { postgres: new PostgresCompanies(options.pgUrl) } : {}),
    });
  }

  /** The store guard: a failed write (full disk) is retried by a full scan, its recovery told. */
  private createGuard({ config, kick }: Wiring): StoreGuard {
    const { store, clock, notifiers } = this.options;
    return new StoreGuard({
      logger: this.log,
      notifiers,
      chatIds: () => config().defaults.telegram.chatIds.map(String),
      file: store.db.name,
      retry: () => this.scanner.fullScan(),
      now: () => clock.now(),
      onRecovered: (ms) => {
        store.transaction(() =>
          this.alerts.notice(
            "wa-warden: disk space is back",
            `${store.db.name} can be written again after ${Math.round(ms / 1000)} s; counts and alerts were computed again from the folders.`,
            { kind: "disk-ok" },
          ),
        );
        kick();
      },
    });
  }

  /** The HTTP side, when `http` was given. */
  private createHttp({ config }: Wiring): HttpServer | undefined {
    const { options } = this;
    if (!options.http) return undefined;
    return createHttpServer({
      ...options.http,
      store: options.store,
      config,
      now: () => options.clock.now(),
      logger: options.logger,
      firstScanDone: () => this.firstScanDone,
      ...(options.home !== undefined ? { backupsRoot: backupsRoot(options.home) } : {}),
    });
  }

  /** Session repairs, with `home`. */
  private createRepairs({ config, actions, tell }: Wiring): SessionRepairs | undefined {
    const { store, clock, home } = this.options;
    if (home === undefined) return undefined;
    return createSessionRepairs({
      store,
      clock,
      logger: this.log,
      config,
      actions,
      notify: (company, title, detail, payload) => tell(title, detail, payload, company),
    });
  }

  /** The recovery ladder, with `home` and unless `ladder: false`. */
  private createLadder({ config, actions, tell }: Wiring): LadderRunner | undefined {
    const { store, clock, home, ladder, logger } = this.options;
    if (home === undefined || ladder === false) return undefined;
    return new LadderRunner({
      store,
      clock,
      logger,
      config,
      actions,
      notify: (company, title, detail, payload) => tell(title, detail, payload, company ?? undefined),
    });
  }

  /** Scheduled backups, with `home`; a company the ladder works on is skipped. */
  private createBackups({ config, actions, kick, closed }: Wiring): ScheduledBackups | undefined {
    const { store, clock, home } = this.options;
    if (home === undefined) return undefined;
    return createScheduledBackups({
      store,
      clock,
      logger: this.log,
      config,
      actions,
      alerts: this.alerts,
      kick,
      busy: () => this.ladder?.busy ?? new Set(),
      closed,
      checkEveryMs: BACKUP_CHECK_EVERY_MS,
    });
  }

  /** The Telegram bot, when `bot` was given. */
  private createBot({ config, actions, kick, tell }: Wiring): TelegramBot | undefined {
    const { options } = this;
    const { store, clock } = options;
    if (!options.bot) return undefined;
    return new TelegramBot({
      // /mute, /unmute and Mute 1h write the same mutes store as `warden mute` (one store, audited).
      mute: createStoreMuteControl(store.mutes, () => clock.now()),
      ...options.bot,
      config,
      store,
      clock,
      logger: options.logger,
      home: options.home,
      actions,
      notify: (title, detail, kind) => tell(title, detail, { kind }),
      kick,
    });
  }

  /** The periodic checks the scheduler runs (after the ladder and repairs exist). */
  private createChecks({ config, kick, closed }: Wiring): PeriodicChecks {
    const { options } = this;
    const { store, clock } = options;
    return createPeriodicChecks({
      store,
      clock,
      logger: this.log,
      config,
      alerts: this.alerts,
      kick,
      closed,
      ladder: this.ladder,
      repairs: this.repairs,
      onCall: createOnCall({
        store,
        clock,
        logger: this.log,
        config,
        alerts: this.alerts,
        home: options.home,
        telegram: options.notifiers.has("telegram"),
      }),
      ...(options.restartWorker ? { restartWorker: options.restartWorker } : {}),
      ...(options.probe ? { probe: options.probe } : {}),
    });
  }

  /** The scanner (mode, companies). */
  get fleet(): FleetScanner {
    return this.scanner;
  }

  /**
   * Starts everything and resolves after the first full scan (alerts queued): `serve()`, then
   * `firstScan()`. The supervisor process tells pm2 "ready" between the two.
   */
  async start(): Promise<void> {
    await this.serve();
    await this.firstScan();
  }

  /**
   * Serving: the HTTP side listens, outbox delivery runs, interrupted restores are finished and the
   * first full scan is under way (in slices; `firstScan()` resolves when it is done). The ladder,
   * the probe, scheduled backups and the bot start after the first scan: they act on its counts.
   */
  async serve(): Promise<void> {
    const { store, clock } = this.options;
    if (this.http) {
      const address = await this.http.listen();
      this.log.info({ address }, `HTTP listening on http://${address}`);
    }
    this.dispatcher.kick();
    await finishInterruptedRestores(
      this.options.home,
      this.live.current().sessionsDir,
      store,
      clock,
      this.log,
    );
    await this.scanner.prepare();
    this.firstScanRun ??= this.scanner.start().then(() => this.afterFirstScan());
    // Awaited by firstScan(); a failure is not unhandled while nobody waits yet.
    this.firstScanRun.catch(() => undefined);
  }

  /** True once the first full scan is done (and the supervisor was not closed during it). */
  get firstScanComplete(): boolean {
    return this.firstScanDone;
  }

  /** Resolves when the first full scan is done and what acts on its counts has started. */
  firstScan(): Promise<void> {
    return this.firstScanRun ?? Promise.reject(new Error("firstScan() before serve()"));
  }

  private async afterFirstScan(): Promise<void> {
    if (this.closed) return;
    const { store, clock } = this.options;
    this.firstScanDone = true;
    scheduleChecks(this.scheduler, this.checks, {
      config: () => this.live.current(),
      guard: this.guard,
      logger: this.log,
      ladder: this.ladder !== undefined,
    });
    if (
      this.ladder &&
      tellOutageInProgress(store, clock, this.alerts, this.options.notifiers.has("telegram"))
    )
      this.dispatcher.kick();
    if (this.ladder) this.scheduler.loop(() => this.checks.probe());
    const backups = this.backups;
    if (backups)
      this.scheduler.every(
        () => BACKUP_CHECK_EVERY_MS,
        () =>
          backups.check().then(
            () => undefined,
            (err: unknown) => this.log.error({ err }, "scheduled backups failed"),
          ),
      );
    await this.bot?.start();
  }

  /** One ladder check of the whole fleet now, in one turn (the timer runs the sliced check every fleet.checkEvery). */
  checkLadder(): void {
    this.checks.ladder();
  }

  /** Checks worker heartbeats and connection transitions now; queues what needs telling. */
  async checkWorkers(): Promise<void> {
    await this.checks.workers();
  }

  /** Raises / resolves the decrypt-failure alerts from the workers' signal buckets. */
  checkSignals(): void {
    this.checks.signals();
  }

  /** Takes the scheduled backups that are due now (the timer does it every minute); resolves to how many. */
  checkBackups(): Promise<number> {
    return this.backups?.check() ?? Promise.resolve(0);
  }

  /** One on-call pass now: escalations, silence summaries, the daily digest (the worker watch runs it too). */
  checkOnCall(): Promise<void> {
    return this.checks.onCall();
  }

  /** Prunes old history, delivered alerts and audit rows now (the timer does it hourly). */
  prune(): void {
    this.checks.prune();
  }

  /** Applies a new config: thresholds and chats at once, counts re-evaluated. sessionsDir needs a restart. */
  applyConfig(next: WardenConfig): void {
    this.live.apply(next);
  }

  /** Records and reports a config edit that did not validate (the last good config stays). */
  reportConfigError(message: string): void {
    this.live.reject(message);
  }

  /** Stops watching, flushes deliverable alerts (up to `flushMs`), stops timers. Idempotent. */
  async close(flushMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.close();
    await this.bot?.close();
    this.guard.close();
    await this.http?.close();
    await this.ladder?.close();
    await this.repairs?.close();
    await this.scanner.close();
    await this.dispatcher.flush(flushMs);
    await this.dispatcher.close();
  }
}
